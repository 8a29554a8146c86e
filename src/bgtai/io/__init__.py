"""Decoding audio and images into arrays: no model code here."""

from bgtai.io.audio import (
    Audio,
    fixed_windows,
    load_audio,
    resample,
    resolve_audio_path,
)
from bgtai.io.image import load_image, resize_center_crop

__all__ = ["Audio", "fixed_windows", "load_audio", "load_image", "resample", "resize_center_crop", "resolve_audio_path"]
