"""Decoding audio and images into arrays: no model code here."""

from bgtai.io.audio import Audio, load_audio, resample, fixed_windows, resolve_audio_path
from bgtai.io.image import load_image, resize_center_crop

__all__ = ["Audio", "load_audio", "resample", "fixed_windows", "resolve_audio_path", "load_image", "resize_center_crop"]
