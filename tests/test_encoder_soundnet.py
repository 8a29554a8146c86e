"""SoundNet-8: layer arithmetic, weight layout, padding and shapes (random weights), then the real
sound8.npy weights and heads on real ESC-50 and Tux Paint clips."""

from __future__ import annotations

import io
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from bgtai.config import data_root
from bgtai.encoders.registry import modality_of, names
from bgtai.encoders.soundnet import (
    HEADS,
    MIN_SAMPLES_CONV7,
    MIN_SAMPLES_HEAD,
    OBJECT_HEAD,
    SAMPLE_RATE,
    TRUNK,
    SoundNet8,
    SoundNetEncoder,
    SoundNetObjectsEncoder,
    SoundNetPlacesEncoder,
    load_weights,
    output_steps,
    readable_place,
    repeat_to,
    soundnet_object_names,
    soundnet_place_names,
    soundnet_place_raw_names,
    torch_kernel,
    weights_path,
)

SR = SAMPLE_RATE
HEAD_LAYERS = (*TRUNK, OBJECT_HEAD)


def _wave(seconds: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(round(seconds * SR)) / SR
    return (0.3 * np.sin(2 * np.pi * (220 + 400 * seed) * t) + 0.05 * rng.standard_normal(t.size)).astype(np.float32)


def _random_net(seed: int = 0) -> SoundNet8:
    torch.manual_seed(seed)
    net = SoundNet8()
    for norm in net.norms:
        norm.momentum = 1.0  # one training-mode pass sets running statistics that fit +-256 input
    with torch.no_grad():
        net.train()(torch.from_numpy(np.concatenate([_wave(11.0, seed=s) for s in range(4)]) * 256)[None, None])
    return net.eval()


def _with_random_net(encoder, seed: int = 0):  # type: ignore[no-untyped-def]
    encoder._network = _random_net(seed)
    return encoder


# --- layer arithmetic -------------------------------------------------------------------------


def test_output_steps_match_the_original_training_setup() -> None:
    # main_train.lua: 20 s at 22.05 kHz gives 4 label steps per head ("2 * 20 / 5 = 8 outputs")
    assert output_steps(20 * SR, HEAD_LAYERS) == 4
    assert output_steps(20 * SR, TRUNK) == 15
    # extract_predictions.lua repeats sounds to 10 s, which is just over one head step
    assert output_steps(10 * SR, HEAD_LAYERS) == 1
    assert 9 * SR < MIN_SAMPLES_HEAD <= 10 * SR


@pytest.mark.parametrize(("layers", "minimum"), [(TRUNK, MIN_SAMPLES_CONV7), (HEAD_LAYERS, MIN_SAMPLES_HEAD)])
def test_min_samples_is_the_exact_threshold(layers: tuple, minimum: int) -> None:
    assert output_steps(minimum, layers) == 1
    assert output_steps(minimum - 1, layers) == 0


def test_min_samples_agree_with_the_real_torch_layers() -> None:
    net = _random_net()
    with torch.no_grad():
        assert net(torch.zeros(1, 1, MIN_SAMPLES_CONV7)).shape == (1, 1024, 1)
        conv7 = net(torch.zeros(1, 1, MIN_SAMPLES_HEAD))
        assert net.head_logits(conv7, "objects").shape == (1, 1000, 1)
        assert net.head_logits(conv7, "places").shape == (1, 401, 1)
        with pytest.raises(RuntimeError):
            net.head_logits(net(torch.zeros(1, 1, MIN_SAMPLES_HEAD - 1)), "objects")


# --- weight layout ----------------------------------------------------------------------------


def test_torch_kernel_undoes_the_tensorflow_transpose() -> None:
    torch_layout = np.arange(5 * 3 * 7, dtype=np.float32).reshape(5, 3, 7, 1)  # Torch (out, in, k, 1)
    tf_layout = torch_layout.transpose(2, 3, 1, 0)  # what SoundNet-tensorflow's load_t7.py stores
    assert tf_layout.shape == (7, 1, 3, 5)
    np.testing.assert_array_equal(torch_kernel(tf_layout).numpy(), torch_layout[..., 0])


def test_load_sound8_rejects_a_wrong_shape() -> None:
    net = SoundNet8()
    weights = {}
    for layer in (*TRUNK, *HEADS.values()):
        entry = {
            "weights": np.zeros((layer.kernel, 1, layer.in_ch, layer.out_ch), np.float32),
            "biases": np.zeros(layer.out_ch, np.float32),
        }
        if layer in TRUNK:
            entry |= {key: np.ones(layer.out_ch, np.float32) for key in ("gamma", "beta", "mean", "var")}
        weights[layer.name] = entry
    net.load_sound8(weights)  # the right shapes load
    weights["conv3"]["weights"] = np.zeros((32, 1, 16, 64), np.float32)  # in and k swapped
    with pytest.raises(ValueError, match="conv3.weights"):
        net.load_sound8(weights)


def test_weights_reader_refuses_arbitrary_pickled_objects(tmp_path: Path) -> None:
    path = tmp_path / "evil.npy"
    with open(path, "wb") as handle:
        np.lib.format.write_array_header_1_0(handle, {"descr": "|O", "fortran_order": False, "shape": ()})
        handle.write(pickle.dumps(io.StringIO("not an array")))
    with pytest.raises(pickle.UnpicklingError, match="refusing"):
        load_weights(path)


# --- names ------------------------------------------------------------------------------------


def test_category_names() -> None:
    objects, places = soundnet_object_names(), soundnet_place_names()
    assert len(objects) == 1000 and objects[0] == "tench" and objects[7] == "rooster"
    assert len(places) == 401 and len(soundnet_place_raw_names()) == 401
    assert places[0] == "abbey" and soundnet_place_raw_names()[-1] == "/z/zen_garden"
    assert readable_place("/a/apartment_building/outdoor") == "apartment building (outdoor)"
    assert "ocean" in places and "beach" in places


def test_registered() -> None:
    for name in ("soundnet", "soundnet-objects", "soundnet-places"):
        assert name in names("audio") and modality_of(name) == "audio"


# --- preprocessing and shapes (random weights) -----------------------------------------------


def test_prepare_scales_to_256_and_repeats_short_clips() -> None:
    clip = _wave(0.01)  # 10 ms
    features, objects = SoundNetEncoder(device="cpu"), SoundNetObjectsEncoder(device="cpu")
    for encoder, minimum in ((features, MIN_SAMPLES_CONV7), (objects, MIN_SAMPLES_HEAD)):
        prepared = encoder.prepare((clip, SR))
        assert prepared.shape == (minimum,) and prepared.dtype == np.float32
        np.testing.assert_allclose(prepared[: clip.size], clip * 256, rtol=1e-6)
        np.testing.assert_allclose(prepared[clip.size : 2 * clip.size], clip * 256, rtol=1e-6)  # cyclic, not zeros
    long = _wave(12.0)
    np.testing.assert_allclose(objects.prepare((long, SR)), long * 256, rtol=1e-6)  # long clips untouched
    assert repeat_to(np.arange(3.0), 7).tolist() == [0, 1, 2, 0, 1, 2, 0]


@pytest.mark.parametrize(("seconds", "conv7_steps", "head_steps"), [(1.0, 2, 1), (10.0, 8, 1), (0.01, 1, 1)])
def test_shapes(seconds: float, conv7_steps: int, head_steps: int) -> None:
    wave = (_wave(seconds), SR)
    features = _with_random_net(SoundNetEncoder(device="cpu"))
    out = features.encode_prepared([features.prepare(wave)])[0]
    assert out.shape == (conv7_steps, 1024) and out.dtype == np.float32 and (out >= 0).all()  # after ReLU
    for encoder, dim in ((SoundNetObjectsEncoder(device="cpu"), 1000), (SoundNetPlacesEncoder(device="cpu"), 401)):
        probabilities = _with_random_net(encoder).encode_prepared([encoder.prepare(wave)])[0]
        assert probabilities.shape == (head_steps, dim) and encoder.dim == dim
        np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


def test_one_second_gives_two_conv7_steps() -> None:
    assert output_steps(SR, TRUNK) == 2


def test_deterministic_and_batch_independent() -> None:
    encoder = _with_random_net(SoundNetObjectsEncoder(device="cpu"))
    items = [encoder.prepare((_wave(s, seed=i), SR)) for i, s in enumerate((1.0, 10.0, 1.0, 12.0))]
    together = encoder.encode_prepared(items)
    alone = [encoder.encode_prepared([item])[0] for item in items]
    again = encoder.encode_prepared(items)
    for a, b, c in zip(together, alone, again):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
    assert np.abs(together[0] - together[2]).max() > 1e-3 * together[0].max()  # different inputs, different outputs


def test_calibration_changes_the_heads_and_the_cache_key() -> None:
    wave = (_wave(10.0), SR)
    calibrated = _with_random_net(SoundNetPlacesEncoder(device="cpu"))
    raw = _with_random_net(SoundNetPlacesEncoder(device="cpu", calibrated=False))
    assert calibrated.settings() != raw.settings() and raw.settings()["calibration"] is None
    a = calibrated.encode_prepared([calibrated.prepare(wave)])[0]
    b = raw.encode_prepared([raw.prepare(wave)])[0]
    assert not np.allclose(a, b)
    assert SoundNetEncoder().settings()["calibration"] is None  # conv7 has no head to calibrate


# --- real weights and real clips --------------------------------------------------------------

needs_weights = pytest.mark.skipif(
    weights_path() is None or not weights_path().is_file(), reason="soundnet package not installed"
)


def _real(name: str) -> Path:
    root = data_root()
    if root is None:
        pytest.skip("no data root")
    path = root / name
    if not path.is_file():
        pytest.skip(f"{path} missing")
    return path


def _top(encoder, path: Path, names_: tuple[str, ...], k: int) -> list[str]:  # type: ignore[no-untyped-def]
    scores = encoder.pool(encoder.encode_prepared([encoder.prepare(path)])[0])
    return [names_[i] for i in np.argsort(-scores)[:k]]


@pytest.mark.integration
@needs_weights
def test_real_weights_have_the_soundnet8_shapes() -> None:
    weights = load_weights()
    assert weights["conv1"]["weights"].shape == (64, 1, 1, 16)
    assert weights["conv7"]["weights"].shape == (4, 1, 512, 1024)
    assert weights["conv8"]["weights"].shape == (8, 1, 1024, 1000)
    assert weights["conv8_2"]["weights"].shape == (8, 1, 1024, 401)
    # running variances (not inverse std): conv1's are in the hundreds+ on a +-256 input
    assert weights["conv1"]["var"].min() > 100 and all((weights[f"conv{i}"]["var"] > 0).all() for i in range(1, 8))


@pytest.mark.integration
@pytest.mark.needs_data
@needs_weights
def test_raw_heads_give_every_clip_the_same_top_class() -> None:
    """Why the heads are calibrated: the original plain softmax ignores the input."""
    dog, sea = _real("esc50/audio/4-182395-A-0.flac"), _real("esc50/audio/4-204618-A-11.flac")
    raw = SoundNetPlacesEncoder(device="cpu", calibrated=False)
    assert _top(raw, dog, soundnet_place_names(), 1) == _top(raw, sea, soundnet_place_names(), 1)


@pytest.mark.integration
@pytest.mark.needs_data
@needs_weights
def test_calibrated_labels_are_plausible_on_real_clips() -> None:
    objects, places = SoundNetObjectsEncoder(device="cpu"), SoundNetPlacesEncoder(device="cpu")
    object_names, place_names = soundnet_object_names(), soundnet_place_names()
    dog_breeds = set(object_names[151:269])  # ILSVRC-2012 classes 151-268 are dog breeds
    water = {
        "ocean",
        "sandbar",
        "coast",
        "beach",
        "wave",
        "islet",
        "beach house",
        "aquarium",
        "underwater (coral reef)",
    }

    dog = _real("esc50/audio/4-182395-A-0.flac")
    assert set(_top(objects, dog, object_names, 3)) <= dog_breeds

    sea = _real("esc50/audio/4-204618-A-11.flac")
    assert len(set(_top(places, sea, place_names, 5)) & water) >= 3

    bells = _real("esc50/audio/4-125825-A-46.flac")
    assert _top(objects, bells, object_names, 1) == ["bell tower"]
    assert {"church (outdoor)", "cathedral (outdoor)"} <= set(_top(places, bells, place_names, 5))

    frog = _real("tuxpaint/stamps/animals/amphibians/frog.ogg")  # a short cartoon clip, repeated to 9.5 s
    assert set(_top(places, frog, place_names, 3)) & water
