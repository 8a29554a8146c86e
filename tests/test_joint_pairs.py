"""Training pairs from the real datasets: tags, balance, ESC-50 held out, determinism."""

from __future__ import annotations

from collections import Counter

import pytest

from bgtai.data.pairs import PairOptions, build_pairs, class_phrase, summarise

pytestmark = pytest.mark.needs_data


@pytest.fixture(scope="module")
def pairs():
    return build_pairs(PairOptions())


def test_every_source_contributes_and_each_pair_is_tagged(pairs) -> None:
    counts = summarise(pairs)
    for how in (
        "sound-library caption",
        "class caption",
        "tuxpaint object",
        "coco caption",
        "fsdd transcript",
        "asterisk transcript",
        "class-level audio-picture",
        "tuxpaint spoken description",
    ):
        assert counts.get(how, 0) > 0, how
    assert sum(counts.values()) == len(pairs)
    assert all(p.audio is not None or p.image is not None for p in pairs)
    assert all(p.caption or p.audio_caption or p.visual_caption for p in pairs)


def test_esc50_is_held_out_by_default_and_only_outside_fold_4_when_asked(pairs) -> None:
    assert not any(p.source == "esc50" or "esc50" in str(p.audio) for p in pairs)
    with_esc = build_pairs(PairOptions(sources=["esc50"], hold_out=[]))
    assert with_esc and all(p.how == "class caption" for p in with_esc)
    from bgtai.data import load_esc50

    fold4 = {str(i.audio) for i in load_esc50() if i.fold == 4}
    assert not fold4 & {str(p.audio) for p in with_esc}


def test_urbansound8k_is_balanced_by_class(pairs) -> None:
    per_class = Counter(p.label for p in pairs if p.how == "class caption")
    assert len(per_class) == 10 and max(per_class.values()) <= PairOptions().per_class
    tight = build_pairs(PairOptions(sources=["urbansound8k"], per_class=5))
    assert Counter(p.label for p in tight) == {label: 5 for label in per_class}


def test_class_level_pairs_join_a_class_sound_with_a_picture_naming_it(pairs) -> None:
    dogs = [p for p in pairs if p.how == "class-level audio-picture" and p.label == "class:dog_bark"]
    assert dogs and all(p.audio is not None and p.image is not None for p in dogs)
    assert all("dog" in p.visual_caption.lower() or "pupp" in p.visual_caption.lower() for p in dogs)
    assert all(p.audio_caption and "dog bark" in p.audio_caption for p in dogs)
    # the audio-visual caption names both, so SLAVA's caption variants really differ on these pairs
    assert all(p.caption.startswith(p.audio_caption) and p.visual_caption[1:] in p.caption for p in dogs)


def test_same_options_same_pairs_and_caps() -> None:
    options = PairOptions(sources=["sound_library", "urbansound8k"], max_per_source={"sound_library": 50}, per_class=3)
    first, second = build_pairs(options), build_pairs(options)
    assert first == second
    assert sum(p.source == "sound_library" for p in first) == 50
    assert class_phrase("Crackling_fire") == "crackling fire"
    with pytest.raises(ValueError, match="unknown pair sources"):
        PairOptions(sources=["vggsound"])


def test_no_training_pair_uses_an_item_that_retrieval_scores(pairs) -> None:
    from bgtai.eval.retrieval import builtin_pairs

    trained_files = {str(p.audio) for p in pairs if p.audio} | {str(p.image) for p in pairs if p.image}
    for name in (
        "tuxpaint-sound-image",
        "tuxpaint-speech-text",
        "coco-image-text",
        "fsdd-speech-text",
        "asterisk-speech-text",
    ):
        test = builtin_pairs(name, "test")
        scored = {str(x) for side in (test.a, test.b) if side.modality != "text" for x in side.inputs}
        assert scored and not scored & trained_files, name
        everything = builtin_pairs(name, "all")
        assert len(everything.a.inputs) > len(test.a.inputs)  # the split removed something
    fsdd_test = builtin_pairs("fsdd-speech-text", "test")
    assert all(int(str(path).rsplit("_", 1)[1].split(".")[0]) < 5 for path in fsdd_test.a.inputs)
    with_test = build_pairs(PairOptions(sources=["tuxpaint"], exclude_test=False))
    without = build_pairs(PairOptions(sources=["tuxpaint"]))
    assert 0.55 < len(without) / len(with_test) < 0.85  # about 30 % of stamps are test


def test_gloss_view_pairs_and_retrieval_set_match_the_raw_captions() -> None:
    from bgtai.eval.retrieval import builtin_pairs
    from bgtai.gloss.view import gloss_view

    raw = build_pairs(PairOptions(sources=["coco"]))
    both = build_pairs(PairOptions(sources=["coco"], gloss_view=True))
    glossed = [p for p in both if p.how == "coco caption gloss"]
    assert len(glossed) == len(raw) and len(both) == 2 * len(raw)
    assert [(p.image, p.label, p.caption) for p in glossed] == [(p.image, p.label, gloss_view(p.caption)) for p in raw]
    text, gloss = builtin_pairs("coco-image-text"), builtin_pairs("coco-image-gloss")
    assert gloss.a.inputs == text.a.inputs  # the same pictures
    assert all(t == t.upper() for t in gloss.b.inputs) and not set(gloss.b.inputs) & set(text.b.inputs)


def test_each_test_fold_leaves_out_its_own_stamps_and_the_folds_cover_tux_paint_once() -> None:
    from bgtai.eval.retrieval import builtin_pairs

    scored = [set(map(str, builtin_pairs("tuxpaint-sound-image", "test", fold).a.inputs)) for fold in range(3)]
    everything = set(map(str, builtin_pairs("tuxpaint-sound-image", "all").a.inputs))
    assert all(scored) and set.union(*scored) == everything and sum(map(len, scored)) == len(everything)
    for fold in (1, 2):
        trained = {str(p.audio) for p in build_pairs(PairOptions(sources=["tuxpaint"], test_fold=fold)) if p.audio}
        assert not trained & scored[fold] and scored[0] <= trained  # fold 0's stamps train when fold 1 or 2 is test
    with pytest.raises(ValueError, match="test fold 3"):
        PairOptions(test_fold=3)
