"""Any Hugging Face transformers model as a frozen encoder: `hf:<hub id or folder>[#text|#audio|#image]`.

What the sequence is, by kind of model:
- joint-space models (CLIP, SigLIP, CLAP, ...): one position, the model's own projected
  feature (`get_text_features` / `get_image_features` / `get_audio_features`), so `pool`
  is exactly that feature and zero-shot comparisons work;
- speech/audio models (wav2vec2, HuBERT, WavLM, ...): last-layer frames; audio is cut into
  30 s windows and only frames over real audio are kept;
- text models (BERT-like): last-layer states of the real tokens, special tokens included;
- vision models (ViT-like): last-layer states of all positions.
A folder loads with `local_files_only`; a hub id loads from the local HF cache only when
`HF_HUB_OFFLINE` is set (tests set it).
"""

from __future__ import annotations

import hashlib
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from bgtai.encoders.base import MODALITIES, Encoder, Modality
from bgtai.encoders.tiny import check_text
from bgtai.errors import BadInputError
from bgtai.io.audio import fixed_windows, load_audio
from bgtai.io.image import load_image

# model_type -> (modalities it embeds, the one used when the name gives none)
JOINT_TYPES: dict[str, tuple[tuple[Modality, ...], Modality]] = {
    "clip": (("text", "image"), "image"),
    "siglip": (("text", "image"), "image"),
    "siglip2": (("text", "image"), "image"),
    "chinese_clip": (("text", "image"), "image"),
    "altclip": (("text", "image"), "image"),
    "clap": (("text", "audio"), "audio"),
}
AUDIO_TYPES = frozenset(
    {
        "wav2vec2",
        "wav2vec2-conformer",
        "wav2vec2-bert",
        "hubert",
        "wavlm",
        "data2vec-audio",
        "unispeech",
        "unispeech-sat",
        "sew",
        "sew-d",
    }
)
IMAGE_TYPES = frozenset({"vit", "deit", "beit", "dinov2", "data2vec-vision", "vit_msn", "vit_mae", "convnext", "swin"})

AUDIO_WINDOW_SECONDS = 30.0
MIN_AUDIO_SECONDS = 1.0  # shorter clips are zero-padded to this: conv front-ends need some length


def split_name(name: str) -> tuple[str, Modality | None]:
    """`[hf:]<id or folder>[#modality]` -> (id or folder, modality or None)."""
    source = name.removeprefix("hf:")
    source, _, fragment = source.partition("#")
    if fragment and fragment not in MODALITIES:
        raise ValueError(f"{name!r}: the part after '#' must be text, audio or image, not {fragment!r}")
    if not source:
        raise ValueError(f"{name!r}: no model id or folder after 'hf:'")
    return source, (fragment or None)  # type: ignore[return-value]


def _local(source: str) -> bool:
    return Path(source).expanduser().is_dir()


def _load_config(source: str) -> Any:
    from transformers import AutoConfig

    if _local(source):
        return AutoConfig.from_pretrained(str(Path(source).expanduser()), local_files_only=True)
    return AutoConfig.from_pretrained(source, local_files_only=os.environ.get("HF_HUB_OFFLINE") == "1")


def _modalities(model_type: str) -> tuple[tuple[Modality, ...], Modality]:
    if model_type in JOINT_TYPES:
        return JOINT_TYPES[model_type]
    if model_type in AUDIO_TYPES:
        return ("audio",), "audio"
    if model_type in IMAGE_TYPES:
        return ("image",), "image"
    return ("text",), "text"


def hf_modality(name: str) -> Modality:
    """The modality `hf:<id>[#m]` embeds: the fragment if given, else the model type's default."""
    source, fragment = split_name(name)
    allowed, default = _modalities(_load_config(source).model_type)
    if fragment is not None and fragment not in allowed:
        raise ValueError(f"{name!r}: this model embeds {', '.join(allowed)}, not {fragment}")
    return fragment or default


def build_hf_encoder(id_or_dir: str, modality: Modality | None) -> Encoder:
    """The adapter for one model and modality (`id_or_dir` may end in `#modality`)."""
    source, fragment = split_name(id_or_dir)
    if fragment is not None and modality is not None and fragment != modality:
        raise ValueError(f"{id_or_dir!r} names {fragment} but {modality} was asked for")
    config = _load_config(source)
    allowed, default = _modalities(config.model_type)
    chosen = fragment or modality or default
    if chosen not in allowed:
        raise ValueError(f"{source!r} ({config.model_type}) embeds {', '.join(allowed)}, not {chosen}")
    return HFEncoder(source, chosen, config)


def _fingerprint(source: str) -> str:
    """Names, sizes and mtimes of a folder's files: changes when its weights change."""
    folder = Path(source).expanduser()
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        stat = path.stat()
        digest.update(f"{path.name}:{stat.st_size}:{stat.st_mtime_ns};".encode())
    return digest.hexdigest()[:16]


def _features_tensor(output: Any) -> torch.Tensor:
    """`get_*_features` returns a tensor in older transformers, an output with `pooler_output` in newer."""
    return output if isinstance(output, torch.Tensor) else output.pooler_output


class HFEncoder(Encoder):
    """A transformers model behind the `Encoder` interface (see the module docstring)."""

    description = "Hugging Face transformers model"

    def __init__(self, source: str, modality: Modality, config: Any) -> None:
        self.source = source
        self.modality = modality  # type: ignore[misc]  # per instance: one model, several modalities
        self.name = f"hf:{source}#{modality}"  # type: ignore[misc]
        self.model_type: str = config.model_type
        self.joint = config.model_type in JOINT_TYPES
        self.dim = self._dim(config)
        self._config = config
        self._model: Any = None
        self._processor: Any = None
        if modality == "audio":
            self.sample_rate = int(self._extractor_value("sampling_rate", 16000))
        if modality == "image":
            self.image_size = int(self._image_side(config))

    def _dim(self, config: Any) -> int:
        if self.joint:
            return int(getattr(config, "projection_dim", None) or config.text_config.hidden_size)
        return int(config.hidden_size if hasattr(config, "hidden_size") else config.hidden_sizes[-1])

    def _preprocessor_json(self) -> dict[str, Any]:
        import json

        if _local(self.source):
            path = Path(self.source).expanduser() / "preprocessor_config.json"
            return json.loads(path.read_text()) if path.is_file() else {}
        return {}

    def _extractor_value(self, key: str, default: Any) -> Any:
        return self._preprocessor_json().get(key, default)

    def _image_side(self, config: Any) -> int:
        size = self._preprocessor_json().get("crop_size") or self._preprocessor_json().get("size")
        if isinstance(size, dict):
            return int(size.get("height") or size.get("shortest_edge") or next(iter(size.values())))
        if isinstance(size, int):
            return size
        vision = getattr(config, "vision_config", config)
        return int(getattr(vision, "image_size", 224))

    def weights_present(self) -> bool:
        if _local(self.source):
            folder = Path(self.source).expanduser()
            return any(folder.glob("*.safetensors")) or any(folder.glob("*.bin"))
        try:
            from huggingface_hub import try_to_load_from_cache

            return any(
                isinstance(try_to_load_from_cache(self.source, f), str)
                for f in ("model.safetensors", "pytorch_model.bin")
            )
        except ImportError:
            return False

    def settings(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "model": self.source,
            "model_type": self.model_type,
            "modality": self.modality,
            "output": "projected feature" if self.joint else "last hidden state",
            "dim": self.dim,
        }
        if _local(self.source):
            out["fingerprint"] = _fingerprint(self.source)
        if self.modality == "audio":
            out.update(sample_rate=self.sample_rate, window_s=AUDIO_WINDOW_SECONDS, min_s=MIN_AUDIO_SECONDS)
        if self.modality == "image":
            out["image_size"] = self.image_size
        return out

    def _load(self) -> None:
        if self._model is not None:
            return
        from transformers import (
            AutoFeatureExtractor,
            AutoImageProcessor,
            AutoModel,
            AutoProcessor,
            AutoTokenizer,
        )

        local = _local(self.source)
        where = str(Path(self.source).expanduser()) if local else self.source
        only_local = local or os.environ.get("HF_HUB_OFFLINE") == "1"
        model = AutoModel.from_pretrained(where, local_files_only=only_local)
        self._model = model.eval().requires_grad_(False)
        loader = {"text": AutoTokenizer, "audio": AutoFeatureExtractor, "image": AutoImageProcessor}[self.modality]
        try:
            self._processor = loader.from_pretrained(where, local_files_only=only_local)
        except (OSError, ValueError):
            # some repositories only ship a combined processor
            self._processor = AutoProcessor.from_pretrained(where, local_files_only=only_local)

    def prepare(self, item: Any) -> Any:
        if self.modality == "text":
            return check_text(item)
        if self.modality == "audio":
            return load_audio(item, target_sr=self.sample_rate).samples
        return load_image(item)

    def encode_prepared(self, batch: list[Any]) -> list[np.ndarray]:
        if not batch:
            return []
        self._load()
        with torch.inference_mode():
            if self.modality == "text":
                return self._encode_text(batch)
            if self.modality == "audio":
                return [self._encode_audio(samples) for samples in batch]
            return self._encode_images(batch)

    def _encode_text(self, texts: list[str]) -> list[np.ndarray]:
        limit = getattr(self._config, "max_position_embeddings", None) or getattr(
            getattr(self._config, "text_config", None), "max_position_embeddings", 512
        )
        tokens = self._processor(texts, padding=True, truncation=True, max_length=limit, return_tensors="pt")
        if self.joint:
            features = _features_tensor(self._model.get_text_features(**tokens))
            return [features[i : i + 1].float().numpy() for i in range(len(texts))]
        states = self._model(**tokens).last_hidden_state
        mask = tokens["attention_mask"].bool()
        return [states[i][mask[i]].float().numpy() for i in range(len(texts))]

    def _encode_images(self, images: list[Any]) -> list[np.ndarray]:
        pixels = self._processor(images=images, return_tensors="pt")["pixel_values"]
        if self.joint:
            features = _features_tensor(self._model.get_image_features(pixel_values=pixels))
            return [features[i : i + 1].float().numpy() for i in range(len(images))]
        states = self._model(pixel_values=pixels).last_hidden_state
        if states.ndim == 4:  # convolutional models: (batch, channels, h, w) -> positions row-major
            states = states.flatten(2).transpose(1, 2)
        return [states[i].float().numpy() for i in range(len(images))]

    def _encode_audio(self, samples: np.ndarray) -> np.ndarray:
        rate = self.sample_rate or 16000
        if self.joint:
            # CLAP-style extractors crop audio longer than their window at random: cut it ourselves, at fixed
            # places, so the same clip always gives the same vectors (one per window; pooled = their mean)
            window = int(getattr(self._processor, "nb_max_samples", 0) or 0) or len(samples)
            starts = [
                s for s in range(0, max(1, len(samples)), window) if s == 0 or len(samples) - s >= window // 2
            ]  # a short tail would be mostly padding
            rows = []
            for start in starts:
                inputs = self._processor(samples[start : start + window], sampling_rate=rate, return_tensors="pt")
                rows.append(_features_tensor(self._model.get_audio_features(**inputs)).float().numpy()[:1])
            return np.concatenate(rows)
        window = int(AUDIO_WINDOW_SECONDS * rate)
        padded_length = max(len(samples), int(MIN_AUDIO_SECONDS * rate))
        pieces = []
        for row, chunk in enumerate(fixed_windows(samples, min(window, padded_length), min_fill=0.0)):
            real = min(len(chunk), len(samples) - row * window)
            inputs = self._processor(chunk, sampling_rate=rate, return_tensors="pt")
            frames = self._model(**inputs).last_hidden_state[0]
            keep = max(1, math.ceil(frames.shape[0] * real / len(chunk)))
            pieces.append(frames[:keep].float().numpy())
        if not pieces:
            raise BadInputError("<audio>", "no audio windows")
        return np.concatenate(pieces)

    def close(self) -> None:
        self._model = None
        self._processor = None
