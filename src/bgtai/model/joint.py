"""The joint model: frozen front-ends (through the feature cache), then the trainable parts.

    >>> import bgtai
    >>> model = JointModel(JointConfig.tiny())
    >>> model.encode("text", ["a dog barks"]).shape
    (1, 8)

`model({modality: (features, mask)})` maps padded frozen features (B, T, D) with their
(B, T) masks to unit-norm (B, d) joint embeddings, modality by modality; this is what
training calls on cached features. `model.encode(modality, inputs)` starts from raw inputs
(paths, strings, arrays, as `bgtai.encode` takes them): it runs the modality's frozen
front-end through `bgtai.encode_sequence` (cached), then the trainable parts in eval mode,
so the same input always gives the same vector.

With `locked_text` the text embedding is the frozen front-end's normalised mean (for MiniLM, its
sentence embedding) and only audio and images are trained to meet it. Otherwise text and audio
go through the language encoder (`bgtai.model.language_encoder`), shared by
default, its pooled `h_L` into the language head(s); images go through the image block.
Each modality's path is one tower object, `model.towers[modality]` (`bgtai.model.towers`).
`save(path)` writes `config.json` and `model.safetensors` into a folder; `load_model(path)`
rebuilds the model from them, offline, with bit-identical weights.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from bgtai.errors import BadInputError
from bgtai.model.config import JointConfig
from bgtai.model.heads import Heads
from bgtai.model.image_block import ImageBlock
from bgtai.model.language_encoder import LanguageEncoder
from bgtai.model.towers import ImageTower, LanguageTower, LockedTextTower, Tower

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
FORMAT = "bgtai-joint-model"
FeatureBatch = tuple[Tensor, Tensor]  # (B, T, D) frozen features and the (B, T) mask of real positions


class JointModel(nn.Module):
    def __init__(self, config: JointConfig) -> None:
        super().__init__()
        self.config = config
        language = config.language_modalities
        if config.shared_language_encoder:
            encoders = {"shared": LanguageEncoder(config.language_config())} if language else {}
        else:
            encoders = {m: LanguageEncoder(config.language_config(m)) for m in language}
        # the modules keep these attribute names: they are the state-dict keys of every saved model
        self.language = nn.ModuleDict(encoders)
        self.image = ImageBlock(config.image) if "image" in config.front_ends else None
        in_dims = {m: config.language_width() for m in language}
        if self.image is not None:
            in_dims["image"] = config.image.out_dim
        self.heads = Heads(config.heads, in_dims)
        # one tower per modality over the modules above (plain objects: they add no state-dict keys)
        self.towers: dict[str, Tower] = {m: self._build_tower(m) for m in config.modalities}

    def _build_tower(self, modality: str) -> Tower:
        if modality == "text" and self.config.locked_text:
            return LockedTextTower()
        head = self.heads.head_for(modality)
        if modality == "image":
            assert self.image is not None  # built whenever images have a front-end
            return ImageTower(self.image, head)
        encoder = self.language["shared" if self.config.shared_language_encoder else modality]
        return LanguageTower(encoder, self.config.front_ends[modality], head)  # type: ignore[arg-type]

    def tower(self, modality: str) -> Tower:
        """The path `modality` takes through the model; a ValueError for a modality it does not embed."""
        if modality not in self.towers:
            raise ValueError(f"this model embeds {', '.join(self.modalities)}, not {modality!r}")
        return self.towers[modality]

    @property
    def modalities(self) -> list[str]:
        return self.config.modalities

    @property
    def dim(self) -> int:
        return self.config.heads.dim

    def parts_for(self, modality: str) -> list[nn.Module]:
        """The trainable modules a modality's embedding passes through (to freeze or train them)."""
        return self.tower(modality).parts()

    def pooled(self, modality: str, features: Tensor, mask: Tensor) -> Tensor:
        """(B, width) features before the head: `h_L` for language, the image block's output for images."""
        return self.tower(modality).pooled(features, mask)

    def embed(self, modality: str, features: Tensor, mask: Tensor) -> Tensor:
        """(B, d) unit-norm joint embeddings of padded frozen features."""
        return self.tower(modality).embed(features, mask)

    def embed_with_positions(self, modality: str, features: Tensor, mask: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """`embed`'s (B, d) vectors, and per-position joint embeddings (B, T', d) with their (B, T') mask,
        from one pass through the modality's encoder.

        Per position, the head is applied to every position instead of the pooled vector: `o_1..N`
        for language, each contextualised patch for images, each front-end token for locked text
        (whose mean is the text embedding). Sequence alignment (DTW, DS-Net, Result Filter) compares these.
        """
        return self.tower(modality).embed_with_positions(features, mask)

    def forward(self, batch: Mapping[str, FeatureBatch], positions: Sequence[str] = ()) -> dict[str, Tensor]:
        """Joint embeddings per modality; for each modality in `positions` also `"{m}:positions"` and `"{m}:mask"`."""
        out: dict[str, Tensor] = {}
        for modality, (features, mask) in batch.items():
            if modality in positions:
                out[modality], out[f"{modality}:positions"], out[f"{modality}:mask"] = self.embed_with_positions(
                    modality, features, mask
                )
            else:
                out[modality] = self.embed(modality, features, mask)
        return out

    @torch.no_grad()
    def encode(
        self,
        modality: str,
        inputs: Any,
        batch_size: int = 64,
        cache: bool = True,
        progress: bool | None = None,
    ) -> np.ndarray:
        """(N, d) float32 unit-norm embeddings of raw inputs, row i for input i."""
        self.tower(modality)  # refuses a modality this model does not embed, before any encoding
        from bgtai.embed import encode_sequence

        sequences = encode_sequence(
            modality, inputs, encoder=self.config.front_ends[modality], cache=cache, progress=progress
        ).features
        return self.embed_sequences(modality, sequences, batch_size)

    @torch.no_grad()
    def embed_sequences(self, modality: str, sequences: Sequence[np.ndarray], batch_size: int = 64) -> np.ndarray:
        """(N, d) float32 embeddings of frozen feature sequences (T_i, D), in eval mode."""
        was_training = self.training
        self.eval()
        try:
            rows = [
                self.embed(modality, *pad_sequences(sequences[start : start + batch_size])).numpy()
                for start in range(0, len(sequences), batch_size)
            ]
        finally:
            self.train(was_training)
        return np.concatenate(rows).astype(np.float32) if rows else np.zeros((0, self.dim), dtype=np.float32)

    def save(self, path: str | Path) -> Path:
        """Write `config.json` and `model.safetensors` into the folder `path` (made if needed)."""
        return write_model_folder(path, FORMAT, self.config.to_dict(), self)


def write_model_folder(path: str | Path, format_name: str, config: dict[str, Any], module: nn.Module) -> Path:
    """`config.json` ({"format", "config"}) and `model.safetensors` of `module` in the folder `path` (made if needed)."""
    from safetensors.torch import save_file

    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    header = {"format": format_name, "config": config}
    (folder / CONFIG_FILE).write_text(json.dumps(header, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    state = {name: tensor.detach().contiguous() for name, tensor in module.state_dict().items()}
    save_file(state, str(folder / WEIGHTS_FILE), metadata={"format": format_name})
    return folder


def pad_sequences(sequences: Sequence[np.ndarray | Tensor]) -> FeatureBatch:
    """(B, Tmax, D) zero-padded float32 features and the (B, Tmax) mask of real positions."""
    if not sequences:
        raise ValueError("no sequences to pad")
    tensors = [torch.as_tensor(np.asarray(s, dtype=np.float32)) for s in sequences]
    lengths = [len(t) for t in tensors]
    if min(lengths) == 0:
        raise ValueError("an empty feature sequence cannot be embedded")
    features = torch.nn.utils.rnn.pad_sequence(tensors, batch_first=True)
    mask = torch.arange(features.shape[1])[None, :] < torch.tensor(lengths)[:, None]
    return features, mask


def load_model(path: str | Path) -> JointModel:
    """A `JointModel` from a folder written by `JointModel.save` (no network), in eval mode; a folder
    written by `GroundedModel.save` (`bgtai.model.grounded`) gives that model, with the same `encode`."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    folder = Path(path)
    config_path, weights_path = folder / CONFIG_FILE, folder / WEIGHTS_FILE
    for required in (config_path, weights_path):
        if not required.is_file():
            raise BadInputError(str(folder), f"not a saved joint model: {required.name} is missing")
    try:
        header = json.loads(config_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BadInputError(str(config_path), f"not valid JSON ({error})") from error
    from bgtai.model.grounded import FORMAT as GROUNDED_FORMAT
    from bgtai.model.grounded import load_grounded

    if isinstance(header, dict) and header.get("format") == GROUNDED_FORMAT:
        return load_grounded(folder)  # type: ignore[return-value]  # same encode(modality, inputs) contract
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise BadInputError(str(config_path), f'not a joint-model config (expected "format": "{FORMAT}")')
    try:
        model = JointModel(JointConfig.from_dict(header["config"]))
    except (KeyError, TypeError, ValueError) as error:
        raise BadInputError(str(config_path), f"bad model config ({error})") from error
    try:
        state = load_file(str(weights_path))
    except (SafetensorError, OSError) as error:
        raise BadInputError(str(weights_path), f"unreadable weights ({error})") from error
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as error:
        raise BadInputError(str(weights_path), f"weights do not fit the config: {error}") from error
    return model.eval()
