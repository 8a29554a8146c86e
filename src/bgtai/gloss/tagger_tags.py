"""Edit tags over the rule glosser's output: what each English word becomes in the gloss.

The edit tagger (`bgtai.gloss.tagger`) does not write glosses token by token; it says, for
each word of the sentence, which edit to apply (the idea of LaserTagger, Malmi et al. 2019,
and GECToR, Omelianchuk et al. 2020). A tag is one *main* edit and an optional *append*:

- main edits that hold for any word, seen or not: `RULE` (what `bgtai.gloss.rules` writes for
  the word, which may be nothing), `DELETE`, `DESC` / `PLAIN` (the rule's token with / without
  the `DESC-` prefix), `WORD` / `DESC_WORD` (the word as written, in capitals, without / with
  `DESC-`), `NOUN` / `VERB` (the word's noun / verb lemma), `US` (the rule's token in American
  spelling: the references write `FAVOR`, `PROGRAM`, `ORGANIZATION`), `LATIN` (a final A or I
  read as a Latin plural, as the corpus's lemmatiser did: `RUSSIA` -> `RUSSIUM`, `DATA` -> `DATUM`);
  and `=TOKENS`, the tokens verbatim;
- `+TOKENS` after `|`: tokens written after the word's own (`RULE|+X-POSS`).

`derive_tags` finds the cheapest tags that turn a sentence's words into its reference gloss
(a monotonic alignment: each word takes the next 0..`MAX_SPAN` gloss tokens, a dynamic
programme like edit distance), so `apply_tags(words, derive_tags(words, gloss))` gives the
gloss back exactly. Edits are preferred over verbatim tokens, so that a tag learnt on one
word carries over to words never seen in training.

The ASLG references delete "the" inside words (`weather` -> `WEAR`, see `bgtai.gloss.rules`);
tags are derived with that artefact, and applied with or without it (`artefacts`): the edits
themselves do not depend on it, only the spelling of the tokens they write.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bgtai.gloss.rules import _POSSESSIVE_S, _TOKEN, RuleGlosser, _lemmas, expand_contractions

DESC = "DESC-"
# main edits in order of preference (their alignment cost): the first that writes the right tokens is the tag
EDITS = ("RULE", "DESC", "PLAIN", "WORD", "DESC_WORD", "NOUN", "VERB", "US", "LATIN", "DELETE")
EDIT_COST = {
    "RULE": 0.0,
    "DESC": 0.3,
    "PLAIN": 0.3,
    "WORD": 0.4,
    "DESC_WORD": 0.4,
    "NOUN": 0.5,
    "VERB": 0.5,
    "US": 0.6,
    "LATIN": 0.6,
    "DELETE": 1.0,
}
VERBATIM_COST = 1.2  # a word written as other tokens: a substitution, dearer than any edit
APPEND_COST = 1.0  # per token written after the word's own: an insertion
MAX_SPAN = 4  # gloss tokens one word may take (widened when a gloss is longer than its sentence allows)
SEPARATOR = "|+"
# British -> American spelling, as ASLG's references have it; applied only where the tagger says `US`
_AMERICAN = (
    (re.compile(r"(?<=[BCDFGHILMNPRTV])OUR(?=(?:ABLE|HOOD|ITE|ED|ING|S)?$)"), "OR"),  # FAVOUR, NEIGHBOURHOOD
    (re.compile(r"IS(E|ED|ES|ING|ATION|ATIONS)$"), r"IZ\1"),  # RECOGNISE, ORGANISATION
    (re.compile(r"(?<=[BCDFGHMNPSTV])RE$"), "ER"),  # CENTRE
    (re.compile(r"MME$"), "M"),  # PROGRAMME
    (re.compile(r"(?<=[FC])ENCE$"), "ENSE"),  # DEFENCE, OFFENCE, LICENCE
    (re.compile(r"OEUVRE$"), "EUVER"),  # MANOEUVRE
)


def split_words(text: str) -> list[str]:
    """The words of a sentence as the rule glosser reads them: lower-cased, contractions written out,
    the possessive `'s` a word of its own (so each word's rule token lines up with it)."""
    return _TOKEN.findall(_POSSESSIVE_S.sub(" 's", expand_contractions(text.lower())))


@dataclass(frozen=True)
class Tag:
    """One word's edit: `main` (one of `EDITS`, or "=" and verbatim tokens) and the tokens appended after it."""

    main: str
    append: tuple[str, ...] = ()

    def __str__(self) -> str:
        return self.main + (SEPARATOR + " ".join(self.append) if self.append else "")

    @classmethod
    def parse(cls, text: str) -> Tag:
        main, _, append = text.partition(SEPARATOR)
        if main not in EDITS and not main.startswith("="):
            raise ValueError(f"not an edit tag: {text!r}")
        return cls(main, tuple(append.split()))


class WordEdits:
    """What each main edit writes for the words of one sentence (`outputs[i][edit]`), with or without the artefact."""

    def __init__(self, words: Sequence[str], artefacts: bool = True) -> None:
        self.words = list(words)
        self.artefacts = artefacts
        glosser = RuleGlosser(aslg_artefacts=artefacts)
        rule = [""] * len(self.words)
        for token, index in glosser.tokens_with_sources(self.words):
            rule[index] = token
        self.rule = rule
        self.outputs = [self._outputs(word, token) for word, token in zip(self.words, rule)]

    def _clean(self, text: str) -> str:
        return text.replace("the", "") if self.artefacts else text

    def _outputs(self, word: str, rule: str) -> dict[str, tuple[str, ...]]:
        written = self._clean(word).upper()
        base = rule[len(DESC) :] if rule.startswith(DESC) else (rule or written)
        lemmas = _lemmas(word)
        out = {
            "RULE": (rule,),
            "DESC": (DESC + base,),
            "PLAIN": (base,),
            "WORD": (written,),
            "DESC_WORD": (DESC + written,),
            "NOUN": (self._clean(lemmas["NOUN"][0]).upper(),) if "NOUN" in lemmas else (written,),
            "VERB": (self._clean(lemmas["VERB"][0]).upper(),) if "VERB" in lemmas else (written,),
            "US": (american(rule or written),),
            "LATIN": (latin_singular(base),),
            "DELETE": (),
        }
        # an edit that spells nothing ("the" with the artefact, a dropped word) writes no token
        return {edit: tuple(token for token in tokens if token and token != DESC) for edit, tokens in out.items()}

    def apply(self, index: int, tag: Tag) -> list[str]:
        main = list(tag.main[1:].split()) if tag.main.startswith("=") else list(self.outputs[index][tag.main])
        return main + list(tag.append)


def american(token: str) -> str:
    """A gloss token in American spelling (`FAVOUR` -> `FAVOR`), its `DESC-` prefix kept."""
    for pattern, replacement in _AMERICAN:
        token = pattern.sub(replacement, token)
    return token


def latin_singular(token: str) -> str:
    """A final A as -UM, a final I as -US (`DATA` -> `DATUM`, `IRAQI` -> `IRAQUS`); other tokens as they are."""
    if len(token) > 2 and token.endswith("A"):
        return token[:-1] + "UM"
    if len(token) > 2 and token.endswith("I"):
        return token[:-1] + "US"
    return token


def apply_tags(words: Sequence[str], tags: Sequence[Tag | str], artefacts: bool = True) -> list[str]:
    """The gloss tokens that `tags` (one per word) write for `words`."""
    if len(words) != len(tags):
        raise ValueError(f"{len(tags)} tags for {len(words)} words")
    edits = WordEdits(words, artefacts)
    out: list[str] = []
    for index, tag in enumerate(tags):
        out += edits.apply(index, tag if isinstance(tag, Tag) else Tag.parse(tag))
    return out


def _best_tag(outputs: dict[str, tuple[str, ...]], span: tuple[str, ...]) -> tuple[float, Tag]:
    """The cheapest tag that writes exactly `span` for one word."""
    best: tuple[float, Tag] | None = None
    for edit in EDITS:
        written = outputs[edit]
        if span[: len(written)] == written:
            cost = EDIT_COST[edit] + APPEND_COST * (len(span) - len(written))
            if edit == "RULE" and not written and span:
                cost += 0.05  # a dropped word with tokens after it: say DELETE|+..., not RULE (same output)
            if best is None or cost < best[0]:
                best = (cost, Tag(edit, span[len(written) :]))
    verbatim = VERBATIM_COST + 0.01 * len(span)
    if span and (best is None or verbatim < best[0]):
        best = (verbatim, Tag("=" + " ".join(span)))
    assert best is not None  # DELETE writes nothing, so an empty span and every span with appends match it
    return best


def derive_tags(words: Sequence[str], gloss: Sequence[str] | str, artefacts: bool = True) -> list[Tag]:
    """The cheapest tags, one per word, that turn `words` into the tokens of `gloss` (see the module doc)."""
    target = tuple(gloss.split() if isinstance(gloss, str) else gloss)
    if not words:
        if target:
            raise ValueError(f"no words to write the gloss {' '.join(target)!r} from")
        return []
    edits = WordEdits(words, artefacts)
    n, m = len(words), len(target)
    span_limit = max(MAX_SPAN, -(-m // n))  # ceil(m / n): every word may take a share of a long gloss
    infinity = float("inf")
    cost = [[infinity] * (m + 1) for _ in range(n + 1)]
    back: list[list[tuple[int, Tag] | None]] = [[None] * (m + 1) for _ in range(n + 1)]
    cost[0][0] = 0.0
    for i in range(n):
        for j in range(m + 1):
            if cost[i][j] == infinity:
                continue
            for k in range(0, min(span_limit, m - j) + 1):
                step, tag = _best_tag(edits.outputs[i], target[j : j + k])
                total = cost[i][j] + step
                if total < cost[i + 1][j + k]:
                    cost[i + 1][j + k] = total
                    back[i + 1][j + k] = (j, tag)
    if cost[n][m] == infinity:  # unreachable: span_limit * n >= m
        raise ValueError(f"cannot align {n} words with {m} gloss tokens")
    tags: list[Tag] = []
    j = m
    for i in range(n, 0, -1):
        previous = back[i][j]
        assert previous is not None
        j, tag = previous
        tags.append(tag)
    return tags[::-1]
