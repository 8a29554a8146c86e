"""Greedy and beam-search decoding of gloss tokens from a `LanguageEncoding`.

Beam search keeps `beam` prefixes per sentence ranked by summed log-probability; a prefix
that emits `<eos>` is finished and carried unchanged. The final choice divides each
finished score by `length ** length_penalty` (length in tokens, `<eos>` included), so longer
glosses are not penalised just for having more terms. With `beam=1` every step keeps the
single most probable token, which is exactly greedy decoding.

Both run the decoder one position at a time with cached keys and values
(`bgtai.gloss.incremental`), so a step costs one position, not the whole prefix.

Several models that share one gloss vocabulary decode as an ensemble (`decode_ensemble`):
at every step the next-token distribution is the mean of the members' probabilities, each
member reading the sentence through its own encoder. One member is exactly that model.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from bgtai.gloss.incremental import IncrementalDecoder
from bgtai.gloss.model import Langue2Gloss
from bgtai.gloss.vocab import BOS_ID, EOS_ID, PAD_ID
from bgtai.model.language_encoder import LanguageEncoding

Member = tuple[Langue2Gloss, LanguageEncoding]  # a model and its encoding of the batch


def _repeat(encoding: LanguageEncoding, times: int) -> LanguageEncoding:
    return LanguageEncoding(
        o=encoding.o.repeat_interleave(times, dim=0),
        h=encoding.h.repeat_interleave(times, dim=0),
        mask=encoding.mask.repeat_interleave(times, dim=0),
    )


class _LogProbSteps:
    """Next-token log-probabilities (B, V) of one model or the probability mean of several."""

    def __init__(self, members: Sequence[Member], repeat: int = 1) -> None:
        if not members:
            raise ValueError("decoding needs at least one model")
        sizes = {model.config.decoder.vocab_size for model, _ in members}
        if len(sizes) != 1:
            raise ValueError(f"ensemble members have gloss vocabularies of different sizes: {sorted(sizes)}")
        self.decoders = [IncrementalDecoder(model.decoder, _repeat(encoding, repeat)) for model, encoding in members]

    def step(self, tokens: torch.Tensor) -> torch.Tensor:
        log_probs = [torch.log_softmax(d.step(tokens).float(), dim=-1) for d in self.decoders]
        if len(log_probs) == 1:
            return log_probs[0]
        return torch.logsumexp(torch.stack(log_probs), dim=0) - math.log(len(log_probs))

    def reorder(self, rows: torch.Tensor) -> None:
        for decoder in self.decoders:
            decoder.reorder(rows)


def _strip(sequence: list[int]) -> list[int]:
    """Tokens after <bos> up to (not including) the first <eos>."""
    out = []
    for token in sequence[1:]:
        if token == EOS_ID:
            break
        out.append(token)
    return out


@torch.no_grad()
def greedy_decode(model: Langue2Gloss, encoding: LanguageEncoding, max_length: int | None = None) -> list[list[int]]:
    """The most probable next token at every step, for each sentence; ids without specials."""
    return _greedy([(model, encoding)], max_length)


def _greedy(members: Sequence[Member], max_length: int | None) -> list[list[int]]:
    model, encoding = members[0]
    max_length = max_length or model.config.decoder.max_length
    batch = encoding.o.shape[0]
    device = encoding.o.device
    sequences = torch.full((batch, 1), BOS_ID, dtype=torch.long, device=device)
    done = torch.zeros(batch, dtype=torch.bool, device=device)
    steps = _LogProbSteps(members)
    for _ in range(max_length):
        token = steps.step(sequences[:, -1]).argmax(dim=-1)  # argmax of log-probabilities = of logits
        token = torch.where(done, torch.full_like(token, PAD_ID), token)
        sequences = torch.cat([sequences, token[:, None]], dim=1)
        done |= token == EOS_ID
        if bool(done.all()):
            break
    return [_strip(row) for row in sequences.tolist()]


@torch.no_grad()
def beam_search(
    model: Langue2Gloss,
    encoding: LanguageEncoding,
    beam: int = 4,
    length_penalty: float = 1.0,
    max_length: int | None = None,
) -> list[list[int]]:
    """The best finished hypothesis per sentence by score / length**length_penalty; ids without specials."""
    return _beam([(model, encoding)], beam, length_penalty, max_length)


def _beam(members: Sequence[Member], beam: int, length_penalty: float, max_length: int | None) -> list[list[int]]:
    if beam < 1:
        raise ValueError(f"beam must be at least 1, got {beam}")
    model, encoding = members[0]
    max_length = max_length or model.config.decoder.max_length
    batch = encoding.o.shape[0]
    device = encoding.o.device
    steps = _LogProbSteps(members, repeat=beam)
    sequences = torch.full((batch * beam, 1), BOS_ID, dtype=torch.long, device=device)
    # only the first beam is live at the start, so the K beams do not all repeat one prefix
    scores = torch.full((batch, beam), float("-inf"), device=device)
    scores[:, 0] = 0.0
    finished = torch.zeros(batch, beam, dtype=torch.bool, device=device)
    lengths = torch.zeros(batch, beam, device=device)
    for _ in range(max_length):
        log_probs = steps.step(sequences[:, -1])
        vocab = log_probs.shape[-1]
        log_probs = log_probs.view(batch, beam, vocab)
        # a finished beam continues only with <pad>, at no cost: its score stays as it was
        carry = torch.full((vocab,), float("-inf"), device=device)
        carry[PAD_ID] = 0.0
        log_probs = torch.where(finished[..., None], carry, log_probs)
        candidates = (scores[..., None] + log_probs).view(batch, beam * vocab)
        scores, flat = candidates.topk(beam, dim=-1)
        source_beam = torch.div(flat, vocab, rounding_mode="floor")
        token = flat % vocab
        rows = (source_beam + torch.arange(batch, device=device)[:, None] * beam).view(-1)
        sequences = torch.cat([sequences[rows], token.view(-1, 1)], dim=1)
        steps.reorder(rows)
        was_finished = finished.gather(1, source_beam)
        lengths = lengths.gather(1, source_beam) + (~was_finished).float()
        finished = was_finished | (token == EOS_ID)
        if bool(finished.all()):
            break
    normalised = scores / lengths.clamp_min(1.0) ** length_penalty
    # unfinished hypotheses (max_length reached) compete too, so a sentence always gets an answer
    best = normalised.argmax(dim=-1)
    chosen = sequences.view(batch, beam, -1)[torch.arange(batch, device=device), best]
    return [_strip(row) for row in chosen.tolist()]


def decode(
    model: Langue2Gloss,
    encoding: LanguageEncoding,
    beam: int = 1,
    length_penalty: float = 1.0,
    max_length: int | None = None,
) -> list[list[int]]:
    """Greedy when `beam == 1`, else beam search."""
    if beam == 1:
        return greedy_decode(model, encoding, max_length)
    return beam_search(model, encoding, beam, length_penalty, max_length)


@torch.no_grad()
def decode_ensemble(
    members: Sequence[Member],
    beam: int = 1,
    length_penalty: float = 1.0,
    max_length: int | None = None,
) -> list[list[int]]:
    """`decode` with several (model, encoding) members sharing one gloss vocabulary: their mean probabilities."""
    if beam == 1:
        return _greedy(members, max_length)
    return _beam(members, beam, length_penalty, max_length)
