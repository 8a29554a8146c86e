"""The few-thousand-parameter joint model over the tiny test encoders, as a recipe's `model` section."""

from __future__ import annotations

from typing import Any


def tiny_model_settings() -> dict[str, Any]:
    """A fresh dict each call: recipes built from it can be changed without touching each other."""
    return {
        "front_ends": {"text": "tiny-text", "audio": "tiny-audio", "image": "tiny-image"},
        "language": {"width": 16, "layers": 1, "heads": 2, "ffn": 32, "dropout": 0.0},
        "image": {
            "width": 16,
            "layers": 1,
            "heads": 2,
            "ffn": 32,
            "dropout": 0.0,
            "max_patches": 64,
            "mlp_hidden": 16,
            "out_dim": 16,
        },
        "heads": {"dim": 8, "hidden": 16},
    }
