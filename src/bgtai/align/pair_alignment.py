"""Sequence alignment inside the joint trainer: the Result Filter term and DS-Net's self-paced pair selection.

The BGTAI paper adds two modules to contrastive training and leaves most of their wiring
unsaid. This is the reading the toolkit implements (METHOD.md section 3; docs/DECISIONS.md):

- **Alignment view.** Every batch holds one kind of pair (the same modalities present), so
  one (source, target) choice serves the whole batch: the source is the language side (the
  caption's tokens, else the audio's frames), the target is the picture's patches when the
  batch has pictures, else the audio's frames (`alignment_view`). Both sides are the
  model's own per-position joint embeddings (`JointModel.embed_with_positions`), so the local
  cosine cost between a token and a patch is meaningful.
- **Reference path A\\*.** DTW (cosine) between the source interpolated to
  `interpolate_to` steps and the target, mapped back to source indices
  (`bgtai.losses.alignment.dtw_targets`); computed on detached values, so it is a label.
- **Aligner.** A `DSNet` over the two embedded sequences predicts p(t | q); it is trained
  with the Result Filter cross-entropy (eq. 5) plus SP-Loss (eq. 6) against A\\*.
- **`result_filter`**: that alignment loss, times `weight`, joins the contrastive loss and
  its gradient reaches the joint model's per-position outputs (the encoders learn sequence
  structure the aligner can follow). Costs a DTW per pair per step.
- **`ds_net`**: data-pair selection. Each pair's SP-Loss from its latest training step is its
  difficulty; after `warmup_epochs` in which every pair trains (and is scored), an epoch
  admits only the pairs whose difficulty is under a growing threshold
  (`bgtai.align.selection.SelfPacedSelector`). Fewer pairs make shorter epochs. Without
  `result_filter` the aligner still trains (to score pairs) but on detached inputs, so the
  joint model sees only the contrastive loss; `rescore_every=k` scores only every k-th epoch
  after the warm-up, so the epochs between cost what plain contrastive steps cost.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn

from bgtai.align.dsnet import DSNet, DSNetConfig
from bgtai.align.selection import SelfPacedSelector
from bgtai.losses.alignment import dtw_targets, position_l2, result_filter_ce, sp_loss

ALIGNMENT_LOSSES: tuple[str, ...] = ("total", "ce", "sp", "l2")


@dataclass
class AlignmentConfig:
    """The recipe's `alignment` section; both options off gives the plain contrastive trainer."""

    ds_net: bool = False  # self-paced data-pair selection by per-pair alignment loss
    result_filter: bool = False  # the alignment loss trains the joint model too
    weight: float = 0.1  # of the alignment loss in the total
    interpolate_to: int = 16  # the source's length before DTW (the paper's "interpolated" sequence)
    hidden: int = 64  # the aligner's width
    threshold: float = 0.1  # the selection threshold in the first selecting epoch (SP-Loss is in [0, 1])
    growth: float = 1.5  # threshold factor per epoch
    min_fraction: float = 0.5  # at least this share of the scored pairs (the easiest) trains every epoch
    warmup_epochs: int = 1  # epochs of each stage in which every pair trains
    # the aligner's loss (BGTAI Table 4): "total" = CE (eq. 5) + SP-Loss (eq. 6), or one of "ce", "sp", "l2"
    # (SP-Loss with squared distances); each pair's difficulty for selection is its SP-Loss whatever this is
    loss: str = "total"
    # DS-Net alone: score pairs only in the warm-up epochs and in every `rescore_every`-th epoch after them;
    # the other epochs train the selected pairs at plain contrastive cost (1: score in every epoch)
    rescore_every: int = 1

    def __post_init__(self) -> None:
        if self.loss not in ALIGNMENT_LOSSES:
            raise ValueError(f"alignment loss must be one of {', '.join(ALIGNMENT_LOSSES)}, got {self.loss!r}")
        if self.rescore_every < 1:
            raise ValueError(f"alignment rescore_every must be at least 1, got {self.rescore_every}")
        if self.weight < 0 or self.interpolate_to < 2 or self.hidden < 2 or self.warmup_epochs < 1:
            raise ValueError(
                "alignment needs weight >= 0, interpolate_to >= 2, hidden >= 2 and warmup_epochs >= 1; got "
                f"{self.weight}, {self.interpolate_to}, {self.hidden}, {self.warmup_epochs}"
            )
        self.selector()  # validates the selection settings

    @property
    def enabled(self) -> bool:
        return self.ds_net or self.result_filter

    def aligns_in(self, epoch: int) -> bool:
        """Whether batches of `epoch` (0-based, within a stage) run the aligner."""
        if self.result_filter or epoch < self.warmup_epochs:
            return self.enabled
        return self.ds_net and (epoch - self.warmup_epochs + 1) % self.rescore_every == 0

    def selector(self) -> SelfPacedSelector:
        return SelfPacedSelector(self.threshold, self.growth, max(1.0, self.threshold), self.min_fraction)


def alignment_view(modalities: Sequence[str]) -> tuple[str, str] | None:
    """(source, target) modalities of a batch with these modalities, or None when it has no two sequences."""
    present = set(modalities)
    source = "text" if "text" in present else "audio" if "audio" in present else None
    if source is None:
        return None
    target = "image" if "image" in present else "audio" if ("audio" in present and source != "audio") else None
    return None if target is None else (source, target)


def reference_paths(
    source: Tensor, source_mask: Tensor, target: Tensor, target_mask: Tensor, interpolate_to: int
) -> Tensor:
    """A* per pair (B, Q): the source index DTW matches to each real target step, -1 at padding."""
    source_np = source.detach().float().cpu().numpy().astype(np.float64)
    target_np = target.detach().float().cpu().numpy().astype(np.float64)
    source_lengths = source_mask.sum(1).tolist()
    target_lengths = target_mask.sum(1).tolist()
    paths = np.full(target_mask.shape, -1, dtype=np.int64)
    for row, (t_len, q_len) in enumerate(zip(source_lengths, target_lengths)):
        if t_len == 0 or q_len == 0:
            continue
        paths[row, :q_len] = dtw_targets(source_np[row, :t_len], target_np[row, :q_len], "cosine", interpolate_to)
    return torch.as_tensor(paths, device=target.device)


class AlignedModel(nn.Module):
    """The joint model and its aligner as one module, so one DDP wrapper syncs both.

    `forward(inputs, view)` returns the joint embeddings per modality and, when `view` is
    given and there is an aligner, each pair's alignment loss (CE + SP, (B,)) and SP-Loss (B,).
    """

    def __init__(self, model: nn.Module, config: AlignmentConfig) -> None:
        super().__init__()
        self.model = model
        self.config = config
        self.aligner: DSNet | None = None
        if config.enabled:
            dim = model.dim  # type: ignore[attr-defined]
            # no dropout: the difficulty of a pair should not depend on a random mask
            self.aligner = DSNet(DSNetConfig(source_dim=dim, target_dim=dim, hidden=config.hidden, dropout=0.0))

    def forward(
        self, inputs: dict[str, tuple[Tensor, Tensor]], view: tuple[str, str] | None = None
    ) -> tuple[dict[str, Tensor], Tensor | None, Tensor | None]:
        if view is None or self.aligner is None:
            return self.model(inputs), None, None
        outputs = self.model(inputs, positions=view)
        source, target = view
        source_seq, source_mask = outputs[f"{source}:positions"], outputs[f"{source}:mask"].bool()
        target_seq, target_mask = outputs[f"{target}:positions"], outputs[f"{target}:mask"].bool()
        paths = reference_paths(source_seq, source_mask, target_seq, target_mask, self.config.interpolate_to)
        if not self.config.result_filter:  # the aligner learns to score pairs; the joint model is left alone
            source_seq, target_seq = source_seq.detach(), target_seq.detach()
        log_probs = self.aligner.log_probs(source_seq, target_seq, source_mask, target_mask)
        sp = sp_loss(log_probs, paths, target_mask, source_mask.sum(1), reduce=False)
        loss = self.config.loss
        if loss == "sp":
            per_pair = sp
        elif loss == "l2":
            per_pair = position_l2(log_probs, paths, target_mask, source_mask.sum(1), reduce=False)
        else:
            per_pair = result_filter_ce(log_probs, paths, target_mask, reduce=False)
            if loss == "total":
                per_pair = per_pair + sp
        embeddings = {m: outputs[m] for m in inputs}
        return embeddings, per_pair, sp.detach()
