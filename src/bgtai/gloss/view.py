"""The gloss view of a sentence: what the joint space embeds as a further language view.

Sign-language-style gloss of English text by the rule glosser with the conventions of
METHOD.md (lemmas in capitals; articles, copulas and auxiliaries dropped), without the
ASLG-PC12 corpus artefacts (those make the corpus targets, not a view for embedding).

    >>> gloss_view("A man is riding a horse on the beach.")
    'MAN RIDE HORSE ON BEACH .'
"""

from __future__ import annotations

import functools

from bgtai.gloss.rules import RuleGlosser


@functools.lru_cache(maxsize=1)
def _glosser() -> RuleGlosser:
    return RuleGlosser(drop_copulas=True, drop_auxiliaries=True, aslg_artefacts=False)


def gloss_view_with_sources(words: list[str]) -> list[tuple[str, int]]:
    """The gloss-view tokens of already split, lower-cased words, each with the index of its word."""
    return _glosser().tokens_with_sources(words)


def gloss_view(text: str) -> str:
    """The gloss of one English sentence (empty input gives an empty gloss)."""
    return _glosser().gloss(text)
