"""Linear and MLP probes on frozen features, with the grouped protocols used here.

Two kinds of split, chosen by each dataset's `ClassificationProtocol` (`bgtai.data.registry`; the
protocol's name is written into every result):
- grouped stratified CV (`grouped_splits`), e.g. `esc50-fold4-grouped-4cv`: the 400 clips of
  ESC-50 fold 4, split into 4 folds by `StratifiedGroupKFold` on `src_file`, so clips cut from
  one recording are never on both sides of a split;
- official folds (`fold_splits`), e.g. `urbansound8k-folds-1-2-10`: testing on UrbanSound8K folds
  1, 2 and 10 in turn and training on every other fold present (the partial fold 3 only ever trains).

The linear probe standardises features and fits a multinomial logistic regression whose C
is chosen by an inner grouped 3-fold CV on the training part only. The MLP probe is
scikit-learn's MLPClassifier (one hidden layer, early stopping on a held-out 10 % of the
training part, patience 50 epochs). BLAS runs on one thread: on this machine multithreaded BLAS made the
probes about ten times slower.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
from threadpoolctl import threadpool_limits

from bgtai.eval.metrics import accuracy, per_class_accuracy

if TYPE_CHECKING:  # scikit-learn takes ~2 s to import: only the functions that fit probes import it
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import Pipeline

Classifier = Literal["linear", "mlp"]
C_GRID: tuple[float, ...] = (0.01, 0.1, 1.0, 10.0)
INNER_FOLDS = 3
US8K_TEST_FOLDS: tuple[int, ...] = (1, 2, 10)  # `fold_splits`' default; the datasets name theirs


@dataclass(frozen=True)
class Split:
    name: str
    train: np.ndarray  # item indices
    test: np.ndarray


@dataclass(frozen=True)
class ProbeResult:
    classifier: Classifier
    classes: list[str]
    fold_names: list[str]
    fold_accuracies: list[float]
    per_class: dict[str, float]  # over all test predictions pooled across folds
    confusion: np.ndarray  # (C, C) counts, rows = true class, summed over folds
    chosen: list[dict[str, float]] = field(default_factory=list)  # hyper-parameters picked per fold

    @property
    def mean(self) -> float:
        return float(np.mean(self.fold_accuracies))

    @property
    def std(self) -> float:
        """Standard deviation over folds (population, ddof=0)."""
        return float(np.std(self.fold_accuracies))


def grouped_splits(
    labels: Sequence | np.ndarray, groups: Sequence | np.ndarray, n_splits: int = 4, seed: int = 0
) -> list[Split]:
    """Stratified folds that keep every group (ESC-50: every `src_file`) on one side."""
    labels, groups = np.asarray(labels), np.asarray(groups)
    from sklearn.model_selection import StratifiedGroupKFold

    splitter = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    splits = [
        Split(f"cv{i + 1}", train, test)
        for i, (train, test) in enumerate(splitter.split(np.zeros(len(labels)), labels, groups))
    ]
    assert_no_group_leak(splits, groups)
    return splits


esc50_splits = grouped_splits  # the name ESC-50's protocol had first


def fold_splits(folds: Sequence | np.ndarray, test_folds: Sequence[int] = US8K_TEST_FOLDS) -> list[Split]:
    """One split per test fold: test on it, train on every other fold present."""
    folds = np.asarray(folds)
    missing = sorted(set(test_folds) - set(folds.tolist()))
    if missing:
        raise ValueError(f"test fold(s) {missing} have no items")
    return [Split(f"fold{f}", np.flatnonzero(folds != f), np.flatnonzero(folds == f)) for f in test_folds]


def assert_no_group_leak(splits: Sequence[Split], groups: Sequence | np.ndarray) -> None:
    groups = np.asarray(groups)
    for split in splits:
        shared = set(groups[split.train].tolist()) & set(groups[split.test].tolist())
        if shared:
            raise ValueError(f"split {split.name}: groups on both sides: {sorted(shared)[:5]}")


def _linear(train_groups: np.ndarray, seed: int) -> GridSearchCV:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV, GroupKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    pipeline = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, random_state=seed))
    n_inner = min(INNER_FOLDS, len(np.unique(train_groups)))
    return GridSearchCV(pipeline, {"logisticregression__C": list(C_GRID)}, cv=GroupKFold(n_splits=n_inner), n_jobs=1)


def _mlp(seed: int) -> Pipeline:
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    mlp = MLPClassifier(
        hidden_layer_sizes=(512,),
        alpha=1e-2,
        early_stopping=True,
        validation_fraction=0.1,
        n_iter_no_change=50,
        max_iter=500,
        random_state=seed,
    )
    return make_pipeline(StandardScaler(), mlp)


def run_probe(
    features: np.ndarray,
    labels: Sequence | np.ndarray,
    splits: Sequence[Split],
    groups: Sequence | np.ndarray,
    classifier: Classifier = "linear",
    seed: int = 0,
) -> ProbeResult:
    """Fit on each split's training part, score on its test part; features (N, D), labels (N,)."""
    features = np.asarray(features, dtype=np.float64)
    labels, groups = np.asarray(labels).astype(str), np.asarray(groups)
    if features.ndim != 2 or len(features) != len(labels) or len(labels) != len(groups):
        raise ValueError(f"features {features.shape}, {len(labels)} labels and {len(groups)} groups do not match")
    if not np.all(np.isfinite(features)):
        raise ValueError("features contain NaN or infinite values")
    assert_no_group_leak(splits, groups)
    classes = sorted(set(labels.tolist()))
    index = {c: i for i, c in enumerate(classes)}
    confusion = np.zeros((len(classes), len(classes)), dtype=np.int64)
    fold_accuracies: list[float] = []
    chosen: list[dict[str, float]] = []
    true_all, pred_all = [], []
    with threadpool_limits(limits=1):
        for split in splits:
            x_train, y_train = features[split.train], labels[split.train]
            if classifier == "linear":
                model = _linear(groups[split.train], seed)
                model.fit(x_train, y_train, groups=groups[split.train])
                chosen.append({"C": float(model.best_params_["logisticregression__C"])})
            elif classifier == "mlp":
                model = _mlp(seed)
                model.fit(x_train, y_train)
                chosen.append({"epochs": float(model[-1].n_iter_)})
            else:
                raise ValueError(f"unknown classifier {classifier!r}: use 'linear' or 'mlp'")
            predicted = model.predict(features[split.test])
            truth = labels[split.test]
            fold_accuracies.append(accuracy(truth, predicted))
            np.add.at(confusion, ([index[t] for t in truth], [index[p] for p in predicted]), 1)
            true_all.append(truth)
            pred_all.append(predicted)
    per_class = per_class_accuracy(np.concatenate(true_all), np.concatenate(pred_all), classes)
    return ProbeResult(classifier, classes, [s.name for s in splits], fold_accuracies, per_class, confusion, chosen)


def plot_confusion(result: ProbeResult, path: str | Path, title: str) -> Path:
    """Write the summed confusion matrix, rows normalised to the true class, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    counts = result.confusion.astype(np.float64)
    rates = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    n = len(result.classes)
    size = max(5.0, 0.22 * n + 3)
    fig, ax = plt.subplots(figsize=(size, size))
    image = ax.imshow(rates, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(n), result.classes, rotation=90, fontsize=7 if n > 20 else 9)
    ax.set_yticks(range(n), result.classes, fontsize=7 if n > 20 else 9)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title, fontsize=10)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path
