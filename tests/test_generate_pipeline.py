"""Generator kind 2 end to end, offline: prompts from the joint space, a tiny random Stable Diffusion
pipeline loaded through `DiffusersGenerator`, the rerank, and contact sheets."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from bgtai.errors import BadInputError
from bgtai.generate.base import Condition, ImageGenerator, ScoredImage
from bgtai.generate.diffusers_pipeline import DiffusersGenerator, candidate_seed, load_pipeline
from bgtai.generate.prompts import PromptVocabulary, picture_prompt, read_labels, sound_prompts
from bgtai.generate.rerank import rerank
from bgtai.generate.sheet import (
    BEST_COLOUR,
    CAPTION_HEIGHT,
    LABEL_WIDTH,
    PAD,
    TITLE_HEIGHT,
    contact_sheet,
    sheet_size,
    volume_sheet,
)

SIZE = 32


def _unit(*values: float) -> np.ndarray:
    vector = np.asarray(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


class TableModel:
    """`encode(modality, inputs)` from fixed tables: texts by string, pictures by their top-left pixel's red value."""

    def __init__(self, texts: dict[str, np.ndarray] | None = None, reds: dict[int, np.ndarray] | None = None) -> None:
        self.texts = texts or {}
        self.reds = reds or {}
        self.text_calls = 0

    def encode(self, modality: str, inputs: Any) -> np.ndarray:
        if modality == "text":
            self.text_calls += 1
            return np.stack([self.texts[text] for text in inputs])
        if modality == "image":
            return np.stack([self.reds[image.getpixel((0, 0))[0]] for image in inputs])
        raise ValueError(modality)


# --- prompts ------------------------------------------------------------------------------


def test_sound_prompts_are_the_nearest_labels_best_first_with_their_cosines():
    texts = {
        "Dog": _unit(1, 0, 0),
        "Rain": _unit(0, 1, 0),
        "Bark": _unit(1, 1, 0),
        "Church bell": _unit(0, 0, 1),
        "owl": _unit(1, 0, 1),  # ties with "Bark" below: the earlier label wins
    }
    model = TableModel(texts)
    got = sound_prompts(model, _unit(1, 0.2, 0.2), k=4, labels=list(texts))
    assert [p.prompt for p in got] == [
        "a photo of a dog",
        "a photo of a bark",
        "a photo of an owl",
        "a photo of a rain",
    ]
    expected = [float(texts[label] @ _unit(1, 0.2, 0.2)) for label in ("Dog", "Bark", "owl", "Rain")]
    np.testing.assert_allclose([p.score for p in got], expected, rtol=1e-6)
    prompt, score = got[0]  # unpacks as (prompt, cosine)
    assert (prompt, score) == (got[0].prompt, got[0].score)
    assert got[1].score == got[2].score  # the tie is real, and kept in the labels' order
    # asked for more than there are: every label once
    assert len(sound_prompts(model, _unit(1, 0, 0), k=50, labels=list(texts))) == 5
    assert model.text_calls == 1  # the labels were embedded once for this model and list


def test_sound_prompts_merge_labels_that_read_the_same_and_check_the_vector():
    texts = {"Dog": _unit(1, 0), "dog ": _unit(1, 0.1), "Dog, domestic dog": _unit(1, 0.05), "Cat": _unit(0, 1)}
    model = TableModel(texts)
    # "dog " cleans to "dog", a case-insensitive repeat of "Dog": embedded once; "Dog, domestic dog" reads "a photo of a dog"
    vocabulary = PromptVocabulary.build(model, list(texts))
    assert vocabulary.labels == ("Dog", "Dog, domestic dog", "Cat")
    got = sound_prompts(model, _unit(1, 0), k=2, vocabulary=vocabulary)
    assert [p.prompt for p in got] == ["a photo of a dog", "a photo of a cat"]
    with pytest.raises(ValueError, match="dimensions"):
        sound_prompts(model, _unit(1, 0, 0), vocabulary=vocabulary)
    with pytest.raises(ValueError, match="k must be"):
        sound_prompts(model, _unit(1, 0), k=0, vocabulary=vocabulary)


def test_picture_prompts_read_as_short_captions():
    assert picture_prompt("Vehicle horn, car horn, honking") == "a photo of a vehicle horn"
    assert picture_prompt("Owl") == "a photo of an owl"
    assert picture_prompt("the sea", "a painting of {}") == "a painting of the sea"


def test_read_labels_names_a_bad_file(tmp_path: Path):
    path = tmp_path / "labels.txt"
    path.write_text("# my sounds\ndog\n\n  rain on a roof \n", encoding="utf-8")
    assert read_labels(path) == ["dog", "rain on a roof"]
    (tmp_path / "empty.txt").write_text("# nothing\n", encoding="utf-8")
    with pytest.raises(BadInputError, match="empty.txt"):
        read_labels(tmp_path / "empty.txt")


# --- the tiny pipeline through DiffusersGenerator -------------------------------------------


@pytest.fixture(scope="module")
def tiny_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from bgtai.generate.tiny_pipeline import build_tiny_pipeline

    return build_tiny_pipeline(tmp_path_factory.mktemp("pipelines") / "tiny-sd")


@pytest.fixture(scope="module")
def generator(tiny_folder: Path) -> DiffusersGenerator:
    return DiffusersGenerator(tiny_folder, steps=2, guidance_scale=3.0, height=SIZE, width=SIZE, device="cpu")


CONDITION = Condition(vector=_unit(1, 0, 0), source="dog.wav", prompts=("a photo of a dog", "a photo of a bark"))


def test_tiny_pipeline_generates_rgb_pictures_of_the_asked_size(tiny_folder: Path, generator: DiffusersGenerator):
    assert (tiny_folder / "model_index.json").is_file()
    assert isinstance(generator, ImageGenerator)
    pictures = generator.generate(CONDITION, 3, seed=0)
    assert len(pictures) == 3
    assert all(p.mode == "RGB" and p.size == (SIZE, SIZE) for p in pictures)
    arrays = [np.asarray(p) for p in pictures]
    assert not np.array_equal(arrays[0], arrays[1])  # own noise per candidate


def test_the_same_seed_gives_the_same_pixels_and_another_seed_others(generator: DiffusersGenerator):
    first = [np.asarray(p) for p in generator.generate(CONDITION, 3, seed=7)]
    again = [np.asarray(p) for p in generator.generate(CONDITION, 3, seed=7)]
    other = [np.asarray(p) for p in generator.generate(CONDITION, 3, seed=8)]
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert all(not np.array_equal(a, b) for a, b in zip(first, other))


class RecordingPipeline:
    """A stand-in text-to-image pipeline: each picture's colour is its generator's first draw, recorded with its prompt."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def __call__(
        self,
        prompt: list[str],
        num_inference_steps: int,
        guidance_scale: float,
        generator: list[Any],
        output_type: str = "pil",
        height: int = 8,
        width: int = 8,
    ) -> Any:
        import torch

        self.calls.append(list(prompt))
        draws = [int(torch.randint(0, 256, (1,), generator=g)) for g in generator]
        images = [Image.new("RGB", (width, height), (d, len(self.calls), 0)) for d in draws]
        return type("Output", (), {"images": images})()


def test_prompts_cycle_and_each_candidate_has_its_own_seeded_noise():
    pipeline = RecordingPipeline()
    generator = DiffusersGenerator(pipeline, steps=1, batch_size=2)
    pictures = generator.generate(CONDITION, 5, seed=3)
    assert pipeline.calls == [["a photo of a dog", "a photo of a bark"]] * 2 + [["a photo of a dog"]]
    # candidate i's noise depends on (seed, i) only: the same with other batch sizes and fewer candidates
    one_by_one = DiffusersGenerator(RecordingPipeline(), steps=1, batch_size=1).generate(CONDITION, 2, seed=3)
    assert [p.getpixel((0, 0))[0] for p in one_by_one] == [p.getpixel((0, 0))[0] for p in pictures[:2]]
    assert candidate_seed(0, 1) != candidate_seed(1, 0)


def test_a_condition_without_prompts_is_refused_by_name():
    generator = DiffusersGenerator(RecordingPipeline(), steps=1)
    with pytest.raises(ValueError, match="silence.wav: no prompts"):
        generator.generate(Condition(vector=_unit(1, 0), source="silence.wav"), 2, seed=0)


def test_missing_or_wrong_pipelines_give_a_clear_error(tmp_path: Path):
    missing = tmp_path / "no-such-pipeline"
    with pytest.raises(BadInputError, match="no such pipeline folder") as caught:
        DiffusersGenerator(missing)
    assert str(missing) in str(caught.value)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(BadInputError, match="model_index.json is missing"):
        load_pipeline(empty)
    (tmp_path / "file.bin").write_bytes(b"x")
    with pytest.raises(BadInputError, match="is a file"):
        load_pipeline(tmp_path / "file.bin")

    class ImageToImage:
        def __call__(self, prompt: str, image: Any) -> Any: ...

    with pytest.raises(BadInputError, match="needs image"):
        DiffusersGenerator(ImageToImage())


def test_an_unknown_hub_id_is_named_when_offline():
    import os

    if os.environ.get("HF_HUB_OFFLINE", "").lower() not in ("1", "true", "yes"):
        pytest.skip("the hub is reachable: this would try a download")
    with pytest.raises(
        BadInputError, match="bgtai-tests/no-such-pipeline: could not load a diffusers pipeline from the hub"
    ):
        load_pipeline("bgtai-tests/no-such-pipeline", device="cpu")


def test_a_broken_pipeline_folder_is_named(tmp_path: Path, tiny_folder: Path):
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(tiny_folder, broken)
    shutil.rmtree(broken / "unet")
    with pytest.raises(BadInputError, match="could not load") as caught:
        load_pipeline(broken, device="cpu")
    assert str(broken) in str(caught.value)


# --- the rerank -----------------------------------------------------------------------------


def test_rerank_puts_the_closest_pictures_first_and_keeps_ties_in_generation_order():
    reds = {10: _unit(0, 1), 20: _unit(1, 0), 30: _unit(1, 1), 40: _unit(1, 0), 50: _unit(-1, 0)}
    pictures = [Image.new("RGB", (4, 4), (red, 0, 0)) for red in reds]
    condition = Condition(vector=_unit(1, 0), source="dog.wav", prompts=("a dog",))
    ranked = rerank(TableModel(reds=reds), pictures, condition)
    assert [item.index for item in ranked] == [1, 3, 2, 0, 4]
    scores = [item.score for item in ranked]
    np.testing.assert_allclose(scores, [1.0, 1.0, np.sqrt(0.5), 0.0, -1.0], atol=1e-6)
    assert all(item.image is pictures[item.index] for item in ranked)


# --- contact sheets -------------------------------------------------------------------------


def _scored(colours: list[tuple[int, int, int]], scores: list[float]) -> list[ScoredImage]:
    return [
        ScoredImage(Image.new("RGB", (SIZE, SIZE), colour), score, i)
        for i, (colour, score) in enumerate(zip(colours, scores))
    ]


def test_contact_sheet_is_a_readable_png_of_the_layout_size_with_the_best_framed_first(tmp_path: Path):
    thumb = 64
    rows = [
        (CONDITION, _scored([(255, 0, 0), (0, 0, 255), (0, 255, 0)], [0.1, 0.5, 0.3])),  # given unranked on purpose
        ("a very long source name that has to be wrapped over several lines.wav", _scored([(9, 9, 9)], [0.2])),
    ]
    out = contact_sheet(rows, tmp_path / "sheets" / "dog.png", "dog.wav -> tiny", thumb=thumb)
    with Image.open(out) as sheet:
        assert sheet.format == "PNG"
        assert sheet.size == sheet_size(2, 3, thumb)
        sheet = sheet.convert("RGB")
        left, top = PAD + LABEL_WIDTH, TITLE_HEIGHT
        middle = thumb // 2
        # ranked: blue (0.5), green (0.3), red (0.1); the best has the frame in the padding beside it
        assert sheet.getpixel((left + middle, top + middle)) == (0, 0, 255)
        assert sheet.getpixel((left + thumb + PAD + middle, top + middle)) == (0, 255, 0)
        assert sheet.getpixel((left + 2 * (thumb + PAD) + middle, top + middle)) == (255, 0, 0)
        assert sheet.getpixel((left - 2, top + middle)) == BEST_COLOUR
        assert sheet.getpixel((left + thumb + PAD - 2, top + middle)) != BEST_COLOUR  # the second is not framed
        second_row = TITLE_HEIGHT + thumb + CAPTION_HEIGHT + PAD
        assert sheet.getpixel((left + middle, second_row + middle)) == (9, 9, 9)
    assert not list((tmp_path / "sheets").glob(".*"))  # no temporary left behind


def test_volume_sheet_has_one_row_per_factor(tmp_path: Path):
    rows = [(factor, _scored([(50, 50, 50), (200, 200, 200)], [0.3, 0.4])) for factor in (0.25, 1.0, 4.0)]
    out = volume_sheet(rows, tmp_path / "volume.png", "dog.wav at three volumes", thumb=32)
    with Image.open(out) as sheet:
        assert sheet.size == sheet_size(3, 2, 32)
    from bgtai.generate.sheet import volume_label

    assert [volume_label(f) for f, _ in rows] == ["x0.25", "x1", "x4"]
    with pytest.raises(ValueError, match="at least one row"):
        contact_sheet([], tmp_path / "none.png", "empty")
    with pytest.raises(BadInputError, match="is a folder"):
        contact_sheet(rows[:1], tmp_path, "into a folder")


def test_the_whole_path_tiny_pipeline_rerank_sheet(tmp_path: Path, generator: DiffusersGenerator):
    """Generate, score every candidate with a content-based fake joint model, rank and draw the sheet."""

    class BrightnessModel:
        def encode(self, modality: str, inputs: Any) -> np.ndarray:
            assert modality == "image"
            means = np.array([np.asarray(image, dtype=np.float32).mean() / 255.0 for image in inputs])
            return np.stack([means, np.sqrt(1.0 - means**2)], axis=1).astype(np.float32)

    condition = Condition(vector=_unit(1, 0), source="dog.wav", prompts=("a photo of a dog",))
    pictures = generator.generate(condition, 3, seed=1)
    ranked = rerank(BrightnessModel(), pictures, condition)
    brightness = [float(np.asarray(p, dtype=np.float32).mean()) for p in pictures]
    assert [item.index for item in ranked] == sorted(range(3), key=lambda i: -brightness[i])
    out = contact_sheet([(condition, ranked)], tmp_path / "sheet.png", "tiny pipeline", thumb=32)
    with Image.open(out) as sheet:
        assert sheet.size == sheet_size(1, 3, 32)


def test_generator_signature_is_the_agreed_one():
    names = list(inspect.signature(DiffusersGenerator).parameters)
    assert names[:5] == ["pipeline_or_path", "steps", "guidance_scale", "height", "width"]


# --- on the trained model and a real clip ----------------------------------------------------

DEFAULT_MODEL = Path(__file__).resolve().parents[1] / "runs" / "default" / "best"
DOG_WORDS = (
    "dog",
    "bark",
    "bow-wow",
    "howl",
    "yip",
    "growl",
    "whimper",
    "puppy",
    "hound",
    "terrier",
    "retriever",
    "spaniel",
)


@pytest.mark.integration
@pytest.mark.needs_data
def test_unheard_esc50_dog_clips_get_a_dog_prompt_in_their_top_three():
    if not (DEFAULT_MODEL / "config.json").is_file():
        pytest.skip(f"{DEFAULT_MODEL}: no trained default model (run `bgtai train --recipe default`)")
    from bgtai.data import load_esc50
    from bgtai.encoders.registry import get_encoder
    from bgtai.model.joint import load_model

    model = load_model(DEFAULT_MODEL)
    needed = ["minilm", "yamnet"] + [
        name for names in getattr(model.config, "front_ends", {}).values() for name in names
    ]
    for name in needed:
        if not get_encoder(name).weights_present():
            pytest.skip(f"{name}: weights not installed")
    # ESC-50 is held out of the default training pairs; fold 4 is its test fold
    clips = sorted(str(item.audio) for item in load_esc50() if item.label == "dog" and item.fold == 4)
    vocabulary = PromptVocabulary.build(model)
    vectors = model.encode("audio", clips)
    tops = [" / ".join(p.prompt for p in sound_prompts(model, vector, 3, vocabulary=vocabulary)) for vector in vectors]
    hits = [any(word in top for word in DOG_WORDS) for top in tops]
    assert len(clips) == 8
    assert sum(hits) >= 6, f"dog-related prompts in the top 3 for {sum(hits)} of {len(clips)} clips: {tops}"
