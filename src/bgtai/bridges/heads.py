"""Class scores from the frozen features already cached, not from a second run of the network.

A classifier head is one linear layer on the pooled features: EfficientNet-Lite0's ImageNet
logits are `fc(mean of its 49 patch vectors)`, and YAMNet's AudioSet logits are a dense layer
on each patch's 1024-d embedding. Reading the head's weights once and applying them to the
cached sequences gives the same scores as running the network again, so the bridges cost
almost nothing beyond the features a model needs anyway.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class FeatureHead:
    feature_encoder: str  # the cached sequence the head reads
    scores: Callable[[np.ndarray], np.ndarray]  # (T, D) sequence -> (classes,) pooled scores


@functools.cache
def _imagenet_weights() -> tuple[np.ndarray, np.ndarray]:
    from bgtai.encoders.efficientnet import load_network

    fc = load_network()._fc
    return fc.weight.detach().double().numpy(), fc.bias.detach().double().numpy()


def imagenet_scores(sequence: np.ndarray) -> np.ndarray:
    """Softmax of EfficientNet-Lite0's classifier on the mean of its patch vectors (the network's own pooling)."""
    weight, bias = _imagenet_weights()
    logits = weight @ np.asarray(sequence, dtype=np.float64).mean(axis=0) + bias
    logits -= logits.max()
    probabilities = np.exp(logits)
    return (probabilities / probabilities.sum()).astype(np.float32)


@functools.cache
def _audioset_weights() -> tuple[np.ndarray, np.ndarray]:
    """YAMNet's classifier (the Gemm after the embedding) from the graph the `yamnet` encoder runs."""
    import onnx
    from onnx import numpy_helper

    from bgtai.encoders.yamnet import DEFAULT_VARIANT, model_path

    graph = onnx.load(str(model_path(DEFAULT_VARIANT))).graph
    gemm = next(node for node in graph.node if node.op_type == "Gemm" and node.output[0] == "logits")
    weights = {init.name: numpy_helper.to_array(init) for init in graph.initializer}
    weight, bias = weights[gemm.input[1]].astype(np.float64), weights[gemm.input[2]].astype(np.float64)
    transposed = any(a.name == "transB" and a.i == 1 for a in gemm.attribute)
    return (weight if transposed else weight.T), bias


def audioset_scores(sequence: np.ndarray) -> np.ndarray:
    """The mean over patches of sigmoid(YAMNet's classifier on each patch's 1024-d embedding): `yamnet-tags` pooled."""
    weight, bias = _audioset_weights()
    from scipy.special import expit  # a sigmoid that does not overflow on very negative logits

    logits = np.asarray(sequence, dtype=np.float64) @ weight.T + bias
    return expit(logits).mean(axis=0).astype(np.float32)


FEATURE_HEADS: dict[str, FeatureHead] = {
    "efficientnet-lite0-imagenet": FeatureHead("efficientnet-lite0", imagenet_scores),
    "yamnet-tags": FeatureHead("yamnet", audioset_scores),
}


def scores_from_features(
    scorer: str, modality: str, inputs: Sequence[Any], progress: bool | None = None
) -> np.ndarray | None:
    """(N, classes) scores of `scorer` computed from its feature encoder's cached sequences; None if it has no such head."""
    head = FEATURE_HEADS.get(scorer)
    if head is None:
        return None
    from bgtai import embed

    sequences = embed.encode_sequence(modality, list(inputs), encoder=head.feature_encoder, progress=progress).features
    return np.stack([head.scores(sequence) for sequence in sequences])
