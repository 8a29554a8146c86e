"""SLAVA pairwise loss: one logit scale per pair, terms per variant."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from bgtai.losses import PairwiseLoss, info_nce, slava_terms


def _unit(rows: int, seed: int) -> torch.Tensor:
    return F.normalize(torch.randn(rows, 6, generator=torch.Generator().manual_seed(seed)), dim=1)


def test_sum_of_pairwise_infonce_with_separate_scales() -> None:
    loss = PairwiseLoss(temperature=0.07, learn_scale=True)
    with torch.no_grad():
        loss.terms["AV"].log_scale.fill_(1.0)
        loss.terms["AT"].log_scale.fill_(2.0)
        loss.terms["VT"].log_scale.fill_(3.0)
    emb = {"audio": _unit(4, 0), "image": _unit(4, 1), "text": _unit(4, 2)}
    total, parts = loss(emb)
    want = {
        "AV": info_nce(emb["audio"], emb["image"], torch.tensor(1.0).exp()),
        "AT": info_nce(emb["audio"], emb["text"], torch.tensor(2.0).exp()),
        "VT": info_nce(emb["image"], emb["text"], torch.tensor(3.0).exp()),
    }
    for term, value in want.items():
        assert parts[term].item() == pytest.approx(value.item(), rel=1e-6)
    assert total.item() == pytest.approx(sum(v.item() for v in want.values()), rel=1e-6)
    total.backward()
    assert all(loss.terms[t].log_scale.grad is not None for t in ("AV", "AT", "VT"))


def test_only_present_modalities_and_chosen_terms() -> None:
    loss = PairwiseLoss()
    emb = {"audio": _unit(3, 3), "text": _unit(3, 4)}
    total, parts = loss(emb)
    assert set(parts) == {"AT"}
    total, parts = loss({**emb, "image": _unit(3, 5)}, terms=["AV"])
    assert set(parts) == {"AV"} and total.item() == pytest.approx(parts["AV"].item())


@pytest.mark.parametrize(
    ("variant", "kind", "want"),
    [
        ("a-and-v", "audio", ["AV", "AT"]),
        ("a-and-v", "visual", ["AV", "VT"]),
        ("av", "av", ["AT", "VT", "AV"]),
        ("av-no-av", "av", ["AT", "VT"]),
        ("audioclip", "audio", ["AV", "AT", "VT"]),
        ("wav2clip-stage1", "visual", ["VT"]),
        ("wav2clip-stage2", "audio", ["AT"]),
    ],
)
def test_variant_terms(variant: str, kind: str, want: list[str]) -> None:
    assert slava_terms(variant, kind, ["audio", "image", "text"]) == want


def test_variant_terms_drop_absent_modalities_and_reject_unknowns() -> None:
    assert slava_terms("audioclip", "audio", ["audio", "text"]) == ["AT"]
    with pytest.raises(ValueError, match="unknown SLAVA variant"):
        slava_terms("clip", "audio", ["audio"])
    with pytest.raises(ValueError, match="no terms"):
        slava_terms("av", "audio", ["audio"])
