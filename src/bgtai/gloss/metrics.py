"""Gloss translation scores: BLEU-1..4 (sacrebleu), ROUGE-L F1 (sentence mean) and WER (jiwer).

BLEU-n is corpus BLEU with uniform weights over 1..n-grams and the brevity penalty, on
whitespace tokens (glosses are already tokenised: `tokenize="none"`), as sign-language
translation papers report it; all scores are in percent except WER, a fraction.
"""

from __future__ import annotations

from collections.abc import Sequence

import jiwer
from sacrebleu.metrics import BLEU


def bleu_scores(hypotheses: Sequence[str], references: Sequence[str]) -> dict[str, float]:
    """{"bleu1".."bleu4"}: corpus BLEU up to n-grams of order n, in percent."""
    _check(hypotheses, references)
    scores = {}
    for order in range(1, 5):
        metric = BLEU(max_ngram_order=order, tokenize="none", effective_order=False, force=True)
        scores[f"bleu{order}"] = float(metric.corpus_score(list(hypotheses), [list(references)]).score)
    return scores


def _lcs_length(a: list[str], b: list[str]) -> int:
    previous = [0] * (len(b) + 1)
    for token in a:
        current = [0]
        for column, other in enumerate(b, start=1):
            current.append(previous[column - 1] + 1 if token == other else max(previous[column], current[-1]))
        previous = current
    return previous[-1]


def rouge_l(hypotheses: Sequence[str], references: Sequence[str]) -> float:
    """Mean sentence ROUGE-L F1 (beta = 1) over token longest common subsequences, in percent."""
    _check(hypotheses, references)
    total = 0.0
    for hypothesis, reference in zip(hypotheses, references):
        hyp, ref = hypothesis.split(), reference.split()
        common = _lcs_length(hyp, ref)
        if common:
            precision, recall = common / len(hyp), common / len(ref)
            total += 2 * precision * recall / (precision + recall)
    return 100.0 * total / len(hypotheses)


def word_error_rate(hypotheses: Sequence[str], references: Sequence[str]) -> float:
    """Corpus WER: (substitutions + deletions + insertions) / reference words."""
    _check(hypotheses, references)
    # jiwer refuses empty strings; an empty hypothesis is all deletions, which a placeholder-free
    # list of words gives once empty references are dropped from both sides
    pairs = [(h, r) for h, r in zip(hypotheses, references) if r.strip()]
    refs = [r for _, r in pairs]
    hyps = [h if h.strip() else "" for h, _ in pairs]
    return float(jiwer.wer(refs, hyps))


def gloss_scores(hypotheses: Sequence[str], references: Sequence[str]) -> dict[str, float]:
    """BLEU-1..4, ROUGE-L and WER of hypotheses against one reference each."""
    scores = bleu_scores(hypotheses, references)
    scores["rouge_l"] = rouge_l(hypotheses, references)
    scores["wer"] = word_error_rate(hypotheses, references)
    return scores


def _check(hypotheses: Sequence[str], references: Sequence[str]) -> None:
    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} hypotheses for {len(references)} references")
    if not hypotheses:
        raise ValueError("no sentences to score")
