"""The demo's joint-space stages on a tiny untrained model: every row is there, chance is stated right."""

from __future__ import annotations

import pytest
import torch

from bgtai.cli.demo_joint import (
    QUERY_SENTENCES,
    RETRIEVAL_ROWS,
    cross_modal_queries,
    joint_scores,
)
from bgtai.model.config import JointConfig
from bgtai.model.joint import JointModel

pytestmark = pytest.mark.needs_data


@pytest.fixture(scope="module")
def model() -> JointModel:
    torch.manual_seed(0)
    return JointModel(JointConfig.tiny()).eval()


def test_scores_cover_zero_shot_and_every_retrieval_direction(model) -> None:
    rows = joint_scores(model)
    zero_shot = [r for r in rows if r[0] == "zero-shot"]
    assert [r[4] for r in zero_shot] == ["0.0200", "0.1000"]  # chance: 1/50 and 1/10 classes
    assert all(0.0 <= float(r[3]) <= 1.0 for r in zero_shot)
    retrieval = [r for r in rows if r[0] == "retrieval"]
    assert len(retrieval) == len(RETRIEVAL_ROWS)
    for (name, direction), row in zip(RETRIEVAL_ROWS, retrieval):
        assert row[1].startswith(f"{name} {direction} (")
        r1, r10, mrr = (float(v) for v in row[3].split(" / "))
        assert 0 <= r1 <= r10 <= 1 and r1 <= mrr <= 1


def test_queries_name_matches_for_each_sentence_and_clip(model) -> None:
    rows = cross_modal_queries(model, top=2)
    sentence_rows = [r for r in rows if r[0].startswith('"')]
    assert [r[0] for r in sentence_rows] == [f'"{s}"' for s in QUERY_SENTENCES]
    clip_rows = [r for r in rows if r[0].startswith("ESC-50 clip")]
    assert clip_rows and all(r[1] == "pictures" and r[2].count(";") == 1 for r in clip_rows)
