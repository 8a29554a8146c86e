"""Grouped nearest neighbour: hand-made cases where leaking a group would change the answer."""

from __future__ import annotations

import numpy as np
import pytest

from bgtai.eval.knn import nearest_neighbour_accuracy


def test_own_group_is_never_the_neighbour() -> None:
    # items 0 and 1 are the same recording (identical vectors) but labelled differently on purpose:
    # a leak would match them with each other; the grouped rule must pick the other-group item.
    features = np.array([[1.0, 0.0], [1.0, 0.0], [0.9, 0.1], [0.0, 1.0]])
    labels = np.array(["a", "b", "a", "b"])
    groups = np.array([1, 1, 2, 3])
    result = nearest_neighbour_accuracy(features, labels, groups)
    assert result.predictions.tolist() == ["a", "a", "a", "a"]
    assert result.accuracy == pytest.approx(0.5)


def test_folds_exclude_same_fold_neighbours_and_queries_can_be_a_subset() -> None:
    features = np.array([[1.0, 0.0], [1.0, 0.01], [0.0, 1.0], [0.1, 1.0]])
    labels = np.array(["x", "x", "y", "y"])
    groups = np.arange(4)
    folds = np.array([1, 1, 2, 2])
    # within fold 1 the best match would be item 1 ("x"); across folds it is item 3 ("y")
    result = nearest_neighbour_accuracy(features, labels, groups, folds=folds, evaluate=np.array([1, 0, 0, 0], bool))
    assert result.evaluated == 1 and result.predictions.tolist() == ["y"] and result.accuracy == 0.0


def test_no_admissible_neighbour_is_an_error() -> None:
    with pytest.raises(ValueError, match="no admissible neighbour"):
        nearest_neighbour_accuracy(np.eye(2), np.array([0, 1]), np.array([5, 5]))
