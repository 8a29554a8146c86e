"""Our embedding-conditioned diffusion decoder: shapes, seeds, guidance, condition dropout, save/load, resume."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from bgtai.errors import BadInputError
from bgtai.generate.base import Condition
from bgtai.generate.decoder import DecoderConfig, EmbeddingDecoder, load_decoder
from bgtai.generate.sampling import DecoderGenerator, _guided_noise, sample
from bgtai.train.generator import GeneratorSettings, GeneratorTask, TrainingData, train_generator
from bgtai.train.loop import LoopSettings, TrainingLoop

DIM = 6


def tiny_config(size: int = 8) -> DecoderConfig:
    return DecoderConfig(size=size, condition_dim=DIM, channels=(8, 16), train_timesteps=50)


def tiny_decoder(seed: int = 0) -> EmbeddingDecoder:
    torch.manual_seed(seed)
    return EmbeddingDecoder(tiny_config()).eval()


def unit_rows(count: int, seed: int = 0) -> np.ndarray:
    rows = np.random.default_rng(seed).standard_normal((count, DIM)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def tiny_data(count: int = 10) -> TrainingData:
    rng = np.random.default_rng(1)
    pixels = rng.uniform(-1, 1, (count, 3, 8, 8)).astype(np.float32)
    return TrainingData(pixels, unit_rows(count, 2), [f"p{i}" for i in range(count)])


def tiny_settings(**changes) -> GeneratorSettings:
    values = dict(size=8, channels=(8, 16), steps=6, batch_size=4, warmup_steps=2, checkpoint_every=3, seed=3)
    values.update(changes)
    return GeneratorSettings(**values)


def test_forward_predicts_noise_of_the_picture_shape() -> None:
    decoder = tiny_decoder()
    noisy = torch.randn(3, 3, 8, 8)
    out = decoder(noisy, torch.tensor([1, 10, 40]), torch.from_numpy(unit_rows(3)))
    assert out.shape == noisy.shape


def test_the_condition_changes_the_prediction() -> None:
    decoder = tiny_decoder()
    with torch.no_grad():  # the projection is random here, so two conditions must differ
        noisy = torch.randn(1, 3, 8, 8)
        a = decoder(noisy, torch.tensor([5]), torch.from_numpy(unit_rows(1, 0)))
        b = decoder(noisy, torch.tensor([5]), torch.from_numpy(unit_rows(1, 1)))
    assert not torch.allclose(a, b)


def test_size_must_fit_the_resolution_levels() -> None:
    with pytest.raises(ValueError, match="divisible"):
        DecoderConfig(size=10, channels=(8, 16, 16))


def test_sampling_is_seeded_per_picture() -> None:
    decoder = tiny_decoder()
    vectors = unit_rows(3)
    first = sample(decoder, vectors, seed=7, steps=3)
    assert first.shape == (3, 3, 8, 8) and np.all(np.abs(first) <= 1.0)
    np.testing.assert_array_equal(first, sample(decoder, vectors, seed=7, steps=3))
    assert not np.allclose(first, sample(decoder, vectors, seed=8, steps=3))
    # row i depends on (seed, i) only, not on the batch it was sampled in
    np.testing.assert_allclose(first[:1], sample(decoder, vectors[:1], seed=7, steps=3), atol=1e-5)
    np.testing.assert_allclose(first, sample(decoder, vectors, seed=7, steps=3, batch_size=2), atol=1e-5)


def test_guidance_mixes_conditional_and_unconditional_predictions() -> None:
    class Fake(torch.nn.Module):
        def forward(self, x, t, vectors):  # "noise" = 2 where conditioned, 1 where the vector is zero
            conditioned = (vectors.abs().sum(1) > 0).float()[:, None, None, None]
            return torch.ones_like(x) + conditioned

    x = torch.zeros(2, 3, 4, 4)
    condition = torch.from_numpy(unit_rows(2))
    assert torch.allclose(_guided_noise(Fake(), x, torch.tensor(3), condition, 1.0), torch.full_like(x, 2.0))
    # 1 + 4 * (2 - 1) = 5
    assert torch.allclose(_guided_noise(Fake(), x, torch.tensor(3), condition, 4.0), torch.full_like(x, 5.0))


def test_guidance_scale_changes_the_pictures() -> None:
    decoder = tiny_decoder()
    vectors = unit_rows(2)
    assert not np.allclose(
        sample(decoder, vectors, 0, steps=3, guidance=1.0), sample(decoder, vectors, 0, steps=3, guidance=5.0)
    )


def test_condition_dropout_zeroes_that_share_of_the_vectors(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[torch.Tensor] = []
    for dropout in (0.0, 0.5):
        task = GeneratorTask(tiny_settings(batch_size=400, condition_dropout=dropout), tiny_data(), {})
        original = task.decoder.forward

        def recording(noisy, timesteps, vectors, original=original):
            seen.append(vectors.clone())
            return original(noisy, timesteps, vectors)

        monkeypatch.setattr(task.decoder, "forward", recording)
        task.loss(task.decoder, None, 0)
    zero_share = [float((v.abs().sum(1) == 0).float().mean()) for v in seen]
    assert zero_share[0] == 0.0
    assert 0.4 < zero_share[1] < 0.6


def test_save_and_load_give_the_same_pictures(tmp_path: Path) -> None:
    decoder = tiny_decoder()
    decoder.save(tmp_path / "gen", training={"steps": 0})
    loaded = load_decoder(tmp_path / "gen")
    vectors = unit_rows(2)
    np.testing.assert_array_equal(sample(decoder, vectors, 1, steps=2), sample(loaded, vectors, 1, steps=2))
    assert (tmp_path / "gen" / "training.json").is_file()


def test_loading_a_folder_that_is_not_a_generator_names_it(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="not a generator folder"):
        load_decoder(tmp_path)
    decoder = tiny_decoder()
    decoder.save(tmp_path / "gen")
    (tmp_path / "gen" / "model.safetensors").write_bytes(b"damaged")
    with pytest.raises(BadInputError, match="model.safetensors"):
        load_decoder(tmp_path / "gen")


def test_generator_interface_returns_n_pictures() -> None:
    generator = DecoderGenerator(tiny_decoder(), steps=2, guidance=2.0)
    pictures = generator.generate(Condition(unit_rows(1)[0], "made-up"), 3, seed=0)
    assert len(pictures) == 3 and all(p.size == (8, 8) and p.mode == "RGB" for p in pictures)
    again = generator.generate(Condition(unit_rows(1)[0], "made-up"), 3, seed=0)
    assert [np.asarray(p).tolist() for p in pictures] == [np.asarray(p).tolist() for p in again]


def test_training_lowers_the_loss_on_one_picture() -> None:
    data = TrainingData(np.zeros((1, 3, 8, 8), dtype=np.float32) + 0.5, unit_rows(1), ["flat"])
    task = GeneratorTask(tiny_settings(steps=60, batch_size=8, lr=3e-3, condition_dropout=0.0), data, {})
    TrainingLoop(task, LoopSettings(select_on="", grad_clip=1.0, progress=False), None, identity={}).run()
    assert len(task.losses) == 60
    assert np.mean(task.losses[-10:]) < 0.7 * np.mean(task.losses[:10])


def test_resumed_training_equals_an_uninterrupted_run(tmp_path: Path) -> None:
    settings = tiny_settings()  # 6 steps, a checkpoint every 3
    quiet = {"progress": lambda _: None}
    train_generator(settings, tiny_data(), tmp_path / "whole", **quiet)

    def kill(step: int) -> None:
        if step == 5:  # inside the second stretch of 3 steps: the run resumes from the checkpoint at step 3
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train_generator(settings, tiny_data(), tmp_path / "cut", on_step=kill, **quiet)
    summary = train_generator(settings, tiny_data(), tmp_path / "cut", resume=True, **quiet)
    assert summary["steps"] == 6 and summary["steps_this_run"] == 3
    resumed, expected = load_decoder(tmp_path / "cut" / "model"), load_decoder(tmp_path / "whole" / "model")
    for name, value in expected.state_dict().items():
        torch.testing.assert_close(resumed.state_dict()[name], value, rtol=0, atol=0, msg=name)


def test_a_damaged_checkpoint_falls_back_to_the_previous_one(tmp_path: Path) -> None:
    settings = tiny_settings(steps=9)  # checkpoints after steps 3 and 6; killed before the one after 9
    quiet = {"progress": lambda _: None}
    train_generator(settings, tiny_data(), tmp_path / "whole", **quiet)
    with pytest.raises(KeyboardInterrupt):
        train_generator(settings, tiny_data(), tmp_path / "cut", on_step=_raise_at(9), **quiet)
    (tmp_path / "cut" / "checkpoint.pt").write_bytes(b"truncated")  # the newest checkpoint is damaged
    with pytest.warns(UserWarning, match="damaged"):
        train_generator(settings, tiny_data(), tmp_path / "cut", resume=True, **quiet)
    resumed, expected = load_decoder(tmp_path / "cut" / "model"), load_decoder(tmp_path / "whole" / "model")
    for name, value in expected.state_dict().items():
        torch.testing.assert_close(resumed.state_dict()[name], value, rtol=0, atol=0, msg=name)


def _raise_at(stop: int):
    def kill(step: int) -> None:
        if step == stop:
            raise KeyboardInterrupt

    return kill


def test_a_finished_run_is_not_overwritten_without_resume(tmp_path: Path) -> None:
    settings = tiny_settings(steps=2)
    train_generator(settings, tiny_data(), tmp_path / "run", progress=lambda _: None)
    with pytest.raises(BadInputError, match="--resume"):
        train_generator(settings, tiny_data(), tmp_path / "run", progress=lambda _: None)


def test_resuming_with_other_settings_is_refused(tmp_path: Path) -> None:
    train_generator(tiny_settings(steps=2), tiny_data(), tmp_path / "run", progress=lambda _: None)
    with pytest.raises(BadInputError, match="other settings"):
        train_generator(
            tiny_settings(steps=4, lr=1e-2), tiny_data(), tmp_path / "run", resume=True, progress=lambda _: None
        )


def test_nearest_picture_prior_lands_among_picture_vectors() -> None:
    from bgtai.generate.prior import NearestPicturePrior

    pictures = np.eye(DIM, dtype=np.float32)[:3]  # three picture vectors on the first axes
    prior = NearestPicturePrior(pictures, k=1)
    condition = np.array([[0.9, 0.3, 0.0, 0.3, 0.0, 0.0]], dtype=np.float32)
    np.testing.assert_allclose(prior(condition), pictures[:1], atol=1e-6)
    mixed = NearestPicturePrior(pictures, k=2, temperature=10.0)(condition)[0]
    assert mixed[0] > mixed[1] > 0 and mixed[2] == 0 and np.isclose(np.linalg.norm(mixed), 1.0)
