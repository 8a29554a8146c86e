"""The joint model: shapes, the image block's post-norm layers, gradient flow, save/load, encode."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import bgtai
from bgtai.errors import BadInputError
from bgtai.model.config import JointConfig
from bgtai.model.image_block import ImageBlock
from bgtai.model.joint import JointModel, load_model, pad_sequences


def _batch(seed: int = 0, rows: int = 3) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    g = torch.Generator().manual_seed(seed)
    batch = {}
    for modality, length in (("text", 5), ("audio", 7), ("image", 9)):
        features = torch.randn(rows, length, 16, generator=g)
        mask = torch.ones(rows, length, dtype=torch.bool)
        mask[0, length - 2 :] = False  # one padded row
        batch[modality] = (features, mask)
    return batch


def _model(seed: int = 0, **overrides) -> JointModel:
    torch.manual_seed(seed)
    return JointModel(JointConfig.tiny(**overrides))


def test_outputs_are_unit_norm_joint_embeddings() -> None:
    out = _model()(_batch())
    assert set(out) == {"text", "audio", "image"}
    for emb in out.values():
        assert emb.shape == (3, 8)
        assert torch.allclose(emb.norm(dim=1), torch.ones(3), atol=1e-5)


def test_padding_does_not_change_an_embedding() -> None:
    model = _model().eval()
    features, mask = _batch()["audio"]
    short = model.embed("audio", features[:1, :5], mask[:1, :5])
    padded = model.embed("audio", features[:1], mask[:1])  # row 0 has 5 real frames of 7
    assert torch.allclose(short, padded, atol=1e-5)
    img_features, img_mask = _batch()["image"]
    assert torch.allclose(
        model.embed("image", img_features[:1, :7], img_mask[:1, :7]),
        model.embed("image", img_features[:1], img_mask[:1]),
        atol=1e-5,
    )


def test_image_block_is_four_post_norm_layers_by_default() -> None:
    from bgtai.model.config import ImageBlockConfig

    block = ImageBlock(ImageBlockConfig())
    layers = block.transformer.layers
    assert len(layers) == 4 and all(not layer.norm_first for layer in layers)
    assert isinstance(block.mlp[1], torch.nn.ReLU) and len(block.mlp) == 3
    assert block(torch.randn(2, 49, 1280)).shape == (2, 512)


def test_shared_or_separate_language_heads() -> None:
    shared = _model()
    separate = _model(heads={"dim": 8, "hidden": 16, "shared_language_head": False}, shared_language_encoder=False)
    assert shared.heads.head_for("text") is shared.heads.head_for("audio")
    assert separate.heads.head_for("text") is not separate.heads.head_for("audio")
    assert set(separate.language) == {"text", "audio"}


def test_gradient_flows_only_into_the_parts_used() -> None:
    model = _model(heads={"dim": 8, "hidden": 16, "shared_language_head": False})
    batch = _batch()
    out = model({"image": batch["image"], "text": batch["text"]})
    (out["image"] * out["text"]).sum().backward()
    grads = {name: p.grad is not None and bool(p.grad.abs().sum() > 0) for name, p in model.named_parameters()}
    assert all(v for n, v in grads.items() if n.startswith(("image.", "heads.heads.image.", "heads.heads.text.")))
    assert not any(v for n, v in grads.items() if n.startswith("heads.heads.audio."))
    # the audio projection of the shared language encoder was not used by text
    assert not any(v for n, v in grads.items() if "projections.tiny-audio" in n)


def test_frozen_parts_get_no_gradient() -> None:
    model = _model()
    for module in model.parts_for("text"):
        module.requires_grad_(False)
    out = model(_batch())
    (out["image"] * out["audio"]).sum().backward()
    assert all(p.grad is None for m in model.parts_for("text") for p in m.parameters())
    assert all(p.grad is not None for p in model.image.parameters())


def test_save_load_round_trip_is_bit_exact(tmp_path) -> None:
    model = _model(seed=3)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 1e-3)  # not just the initialisation
    model.save(tmp_path / "m")
    loaded = bgtai.load_model(tmp_path / "m")
    assert loaded.config == model.config
    for (name, a), (_, b) in zip(model.state_dict().items(), loaded.state_dict().items()):
        assert a.dtype == b.dtype and torch.equal(a, b), name
    batch = _batch()
    model.eval()
    for modality, emb in model(batch).items():
        assert torch.equal(emb, loaded(batch)[modality])


def test_load_model_rejects_bad_folders(tmp_path) -> None:
    with pytest.raises(BadInputError, match="config.json is missing"):
        load_model(tmp_path)
    _model().save(tmp_path / "m")
    (tmp_path / "m" / "config.json").write_text(json.dumps({"format": "something else"}))
    with pytest.raises(BadInputError, match="not a joint-model config"):
        load_model(tmp_path / "m")
    other = tmp_path / "other"
    _model(heads={"dim": 4, "hidden": 16}).save(other)
    (tmp_path / "m" / "config.json").write_text((other / "config.json").read_text())
    with pytest.raises(BadInputError, match="do not fit"):
        load_model(tmp_path / "m")


def test_encode_from_raw_inputs_is_deterministic_and_matches_features() -> None:
    model = _model().train()  # encode must switch dropout off by itself
    texts = ["a dog barks", "rain on a tin roof", "a dog barks"]
    first = model.encode("text", texts, batch_size=2)
    assert first.shape == (3, 8) and first.dtype == np.float32
    assert model.training
    assert np.array_equal(first, model.encode("text", texts, batch_size=2))  # same call, same bits
    assert np.allclose(first[0], first[2], atol=1e-6)  # same text, other batch mates: same vector up to float rounding
    sequences = bgtai.encode_sequence("text", texts, encoder="tiny-text").features
    features, mask = pad_sequences(sequences)
    with torch.no_grad():
        direct = model.eval().embed("text", features, mask).numpy()
    assert np.allclose(first, direct, atol=1e-6)
    image = np.random.default_rng(0).integers(0, 255, (40, 40, 3), dtype=np.uint8)
    assert model.encode("image", [image]).shape == (1, 8)


def test_config_json_round_trip_and_validation() -> None:
    config = JointConfig.tiny(shared_language_encoder=False)
    assert JointConfig.from_json(config.to_json()) == config
    assert JointConfig().image.in_dim == 1280 and JointConfig().language_config().feature_frontends == {
        "minilm": 384,
        "aisfx": 512,
    }
    with pytest.raises(ValueError, match="unknown joint-model settings"):
        JointConfig.from_dict({"bogus": 1})
    with pytest.raises(ValueError, match="feature width"):
        JointConfig(front_ends={"text": "hf:some/model"})


def test_locked_text_is_the_front_ends_sentence_embedding_and_has_no_trainable_parts(tmp_path) -> None:
    heads = {"dim": 16, "hidden": 16}  # the tiny text front-end's width
    model = _model(locked_text=True, heads=heads)
    batch = _batch()
    features, mask = batch["text"]
    expected = torch.nn.functional.normalize((features * mask[..., None]).sum(1) / mask.sum(1, keepdim=True), dim=-1)
    out = model(batch)
    assert torch.allclose(out["text"], expected, atol=1e-6)
    assert model.parts_for("text") == [] and "text" not in model.heads.by_modality
    (out["audio"] * out["text"]).sum().backward()  # the text side cannot learn; audio can
    assert all(p.grad is not None for p in model.parts_for("audio")[0].parameters() if p.requires_grad)
    model.save(tmp_path / "locked")
    assert torch.equal(bgtai.load_model(tmp_path / "locked")(batch)["text"], model.eval()(batch)["text"])
    with pytest.raises(ValueError, match="heads.dim must be 16"):
        JointConfig.tiny(locked_text=True)  # tiny heads are 8-d: cannot be the 16-d text space


def test_known_dims_is_the_registry_view() -> None:
    """`KNOWN_DIMS` (kept for old imports) reads the widths registered with the encoders, live.

    That each registered width matches its encoder is tests/test_encoder_registry.py's job.
    """
    from bgtai.encoders.registry import names, spec
    from bgtai.model.config import KNOWN_DIMS

    assert sorted(KNOWN_DIMS) == names()
    assert all(KNOWN_DIMS[name] == spec(name).dim for name in names())
    assert KNOWN_DIMS["whisper-base-fast"] == 512 and KNOWN_DIMS.get("no-such-encoder") is None


def test_state_dict_keys_keep_their_saved_names() -> None:
    """Saved models (runs/*/best) load strictly by these keys: the towers must add none."""
    keys = set(
        _model(
            shared_language_encoder=False, heads={"dim": 8, "hidden": 16, "shared_language_head": False}
        ).state_dict()
    )
    assert {k.split(".")[0] for k in keys} == {"language", "image", "heads"}
    assert {"language.text.output_norm.weight", "image.positions", "heads.heads.audio.net.0.weight"} <= keys
    shared = set(_model().state_dict())
    assert "heads.heads.language.net.2.bias" in shared and any(k.startswith("language.shared.") for k in shared)


def test_a_deep_copy_has_its_own_towers() -> None:
    """MoCo's momentum model is `copy.deepcopy(model)`: its towers must run its own modules."""
    import copy

    model = _model()
    twin = copy.deepcopy(model)
    assert twin.towers["audio"].encoder is twin.language["shared"]  # type: ignore[attr-defined]
    assert twin.towers["image"].block is twin.image and twin.towers["image"].head is twin.heads.heads["image"]  # type: ignore[attr-defined]
    with torch.no_grad():
        for parameter in twin.parameters():
            parameter.zero_()
    batch = _batch()
    assert not torch.equal(model(batch)["audio"], twin(batch)["audio"])


def test_a_modality_the_model_lacks_is_refused_by_name() -> None:
    model = _model(front_ends={"text": "tiny-text", "audio": "tiny-audio"})
    assert set(model.towers) == {"text", "audio"}
    for call in (lambda: model.parts_for("image"), lambda: model.embed("image", *_batch()["image"])):
        with pytest.raises(ValueError, match="this model embeds text, audio, not 'image'"):
            call()
