"""The concept bridges on real weights and real clips and pictures."""

from __future__ import annotations

import numpy as np
import pytest

from bgtai import embed
from bgtai.bridges import BridgeSpace
from bgtai.bridges.heads import scores_from_features
from bgtai.config import data_root
from bgtai.encoders.registry import get_encoder

pytestmark = [pytest.mark.integration, pytest.mark.needs_data]


def _ready(*names: str) -> None:
    for name in names:
        if not get_encoder(name).weights_present():
            pytest.skip(f"{name}: weights not installed")


def _esc50_clip(label: str) -> str:
    from bgtai.data import load_esc50

    return str(next(item.audio for item in load_esc50() if item.fold == 4 and item.label == label))


def test_imagenet_head_on_cached_features_equals_running_the_classifier():
    _ready("efficientnet-lite0", "efficientnet-lite0-imagenet")
    pictures = sorted((data_root() / "coco_mini" / "val2017").glob("*.jpg"))[:6]
    from_features = scores_from_features("efficientnet-lite0-imagenet", "image", pictures)
    direct = embed.encode("image", pictures, encoder="efficientnet-lite0-imagenet", normalize=False, progress=False)
    np.testing.assert_allclose(from_features, direct, atol=1e-5)


def test_a_dog_clip_and_a_bell_clip_land_nearest_their_own_sentence():
    _ready("yamnet", "minilm")
    space = BridgeSpace(speech=False, progress=False)
    sentences = ["a dog barking", "church bells ringing", "rain falling", "a car horn"]
    clips = [_esc50_clip("dog"), _esc50_clip("church_bells")]
    similarity = space.encode("audio", clips) @ space.encode("text", sentences).T
    assert list(similarity.argmax(axis=1)) == [0, 1]


def test_a_spoken_digit_meets_its_word_through_the_transcript():
    _ready("yamnet", "minilm", "whisper-tiny-en")
    # digits Whisper tiny.en hears right in these recordings; "9" comes out as a numeral and must still meet "nine"
    digits = {1: "one", 3: "three", 7: "seven", 9: "nine"}
    recordings = [next((data_root() / "fsdd" / "recordings").glob(f"{d}_jackson_0.*")) for d in digits]
    words = list(digits.values())
    space = BridgeSpace(progress=False)
    similarity = space.encode("audio", recordings) @ space.encode("text", words).T
    assert list(similarity.argmax(axis=1)) == [0, 1, 2, 3]


def test_audioset_head_on_cached_embeddings_equals_yamnet_tags():
    _ready("yamnet", "yamnet-tags")
    clips = [_esc50_clip(label) for label in ("dog", "rain", "siren")]
    from_features = scores_from_features("yamnet-tags", "audio", clips)
    direct = embed.encode("audio", clips, encoder="yamnet-tags", normalize=False, progress=False)
    np.testing.assert_allclose(from_features, direct, atol=1e-5)
