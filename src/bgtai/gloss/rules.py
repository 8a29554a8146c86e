"""A rule-based English -> ASL-gloss glosser following the conventions of ASLG-PC12.

The conventions were read off the corpus's real pairs (`aslg.dev.*`):

- lemmas in capitals: verbs to their base form (`sent` -> `SEND`, `is` -> `BE`), nouns to
  the singular (`minutes` -> `MINUTE`); adjectives and adverbs keep their form and get the
  prefix `DESC-` (`far` -> `DESC-FAR`, `greater` -> `DESC-GREATER`, `not` -> `DESC-NOT`);
- articles (`a`, `an`, `the`) and `of` are dropped; copulas and auxiliaries are *kept* as
  their lemma (`we are` -> `X-WE BE`, `did not` -> `DO DESC-NOT`), which is what the corpus
  does; `drop_copulas=True` / `drop_auxiliaries=True` give the sparser textbook style;
- personal pronouns, object and possessive forms included, become `X-` plus the subject
  form (`me` -> `X-I`, `our` -> `X-WE`), and the possessive `'s` becomes `X-POSS`;
- the corpus's generator also deleted the letters "the" inside every word (`weather` ->
  `WEAR`, `together` -> `TOGER`, `there` -> `DESC-RE`, `they` -> `X-Y`). That is an artefact,
  not a convention: the default output keeps words whole, and `aslg_artefacts=True` (CLI
  `--aslg-artefacts`) reproduces it, which scoring against ASLG's references needs
  (`bgtai eval gloss --corpus aslg --model rules` turns it on);
- contractions are read as the words they stand for (`we're` -> `X-WE BE`, `don't` ->
  `DO DESC-NOT`, `it's` -> `X-IT BE`); any other `'s` is the possessive.

Lemmas and parts of speech come from `lemminflect`'s bundled lexicon (offline). It has no
tagger, so a word the lexicon lists as an adjective or adverb is descriptive unless it is an
inflected noun or verb form (`united`) or could be a noun and is not followed by one
(`the council .` but `public money`); closed-class words and modals are written as they stand.

    >>> RuleGlosser().gloss("we are far from achieving this objective .")
    'X-WE BE DESC-FAR FROM ACHIEVE THIS OBJECTIVE .'
    >>> RuleGlosser().gloss("the weather will be sunny tomorrow")
    'WEATHER WILL BE DESC-SUNNY TOMORROW'
    >>> RuleGlosser(aslg_artefacts=True).gloss("the weather will be sunny tomorrow")
    'WEAR WILL BE DESC-SUNNY TOMORROW'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import lemminflect

ARTICLES = frozenset({"a", "an", "the"})
DROPPED = ARTICLES | {"of"}
COPULAS = frozenset({"be", "is", "are", "am", "was", "were", "been", "being", "'s", "'re", "'m"})
AUXILIARIES = frozenset(
    {
        "do",
        "does",
        "did",
        "have",
        "has",
        "had",
        "will",
        "would",
        "shall",
        "should",
        "can",
        "could",
        "may",
        "might",
        "must",
    }
)

# pronoun (any case form) -> the ASLG gloss; the "the"-deleted forms of the corpus come from `aslg_artefacts`
PRONOUNS = {
    "i": "I",
    "me": "I",
    "my": "MY",
    "mine": "I",
    "myself": "MYSELF",
    "we": "WE",
    "us": "WE",
    "our": "WE",
    "ours": "WE",
    "ourselves": "OURSELVES",
    "you": "YOU",
    "your": "YOU",
    "yours": "YOU",
    "yourself": "YOURSELF",
    "yourselves": "YOURSELVES",
    "it": "IT",
    "its": "ITS",
    "itself": "ITSELF",
    "he": "HE",
    "him": "HE",
    "his": "HE",
    "himself": "HIMSELF",
    "she": "SHE",
    "her": "SHE",
    "hers": "SHE",
    "herself": "HERSELF",
    "they": "THEY",
    "them": "THEY",
    "their": "THEY",
    "theirs": "THEY",
    "themselves": "THEMSELVES",
}
POSSESSIVE = "'s"
_PUNCTUATION = re.compile(r"^[^\w]+$")
_TOKEN = re.compile(r"'s\b|\w+(?:-\w+)*(?:'\w+)?|[^\w\s]")
_POSSESSIVE_S = re.compile(r"(?<=\w)'s\b")
# contractions, expanded before tokenising, in this order: irregular negatives, "n't", the other
# clitics, "let's" (us), and "'s" after the words where it means "is"; any other "'s" is the possessive
_CONTRACTIONS = (
    (re.compile(r"\b(ca|wo|sha)n't\b"), lambda m: {"ca": "can", "wo": "will", "sha": "shall"}[m.group(1)] + " not"),
    (re.compile(r"(?<=\w)n't\b"), lambda m: " not"),
    (
        re.compile(r"(?<=\w)'(re|m|ll|ve|d)\b"),
        lambda m: " " + {"re": "are", "m": "am", "ll": "will", "ve": "have", "d": "would"}[m.group(1)],
    ),
    (re.compile(r"\blet's\b"), lambda m: "let us"),
    (re.compile(r"\b(it|he|she|that|there|here|what|who|where|how|when|why|this)'s\b"), lambda m: m.group(1) + " is"),
)
_DESCRIPTIVE = ("ADJ", "ADV")
# closed-class words the lexicon also lists as adverbs or adjectives; the corpus writes them plain
FUNCTION_WORDS = frozenset(
    [
        "about",
        "above",
        "across",
        "after",
        "against",
        "along",
        "among",
        "around",
        "as",
        "at",
        "before",
        "behind",
        "below",
        "beneath",
        "beside",
        "between",
        "beyond",
        "but",
        "by",
        "during",
        "except",
        "for",
        "from",
        "in",
        "inside",
        "into",
        "like",
        "near",
        "off",
        "on",
        "onto",
        "out",
        "outside",
        "over",
        "past",
        "per",
        "since",
        "through",
        "throughout",
        "till",
        "to",
        "toward",
        "towards",
        "under",
        "underneath",
        "until",
        "upon",
        "via",
        "with",
        "within",
        "without",
        "and",
        "or",
        "nor",
        "if",
        "because",
        "although",
        "though",
        "unless",
        "whether",
        "while",
        "whereas",
        "than",
        "how",
        "when",
        "where",
        "why",
        "what",
        "which",
        "who",
        "whom",
        "whose",
        "that",
        "this",
        "these",
        "those",
        "no",
        "any",
        "some",
        "every",
        "each",
        "either",
        "neither",
        "both",
        "all",
        "half",
        "most",
        "more",
        "next",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "hundred",
        "thousand",
        "million",
        "billion",
    ]
)
# modals are written as they stand ("would" stays WOULD, not WILL)
MODALS = frozenset({"will", "would", "shall", "should", "can", "could", "may", "might", "must"})


@lru_cache(maxsize=65536)
def _lemmas(word: str) -> dict[str, tuple[str, ...]]:
    return dict(lemminflect.getAllLemmas(word))


def _only_noun(word: str) -> bool:
    lemmas = _lemmas(word)
    return bool(lemmas) and set(lemmas) <= {"NOUN", "PROPN"}


@dataclass
class RuleGlosser:
    """English text -> ASLG-style gloss string; `gloss(text)` for one sentence, `gloss_many` for a list."""

    drop_copulas: bool = False
    drop_auxiliaries: bool = False
    aslg_artefacts: bool = False  # True: delete "the" inside words as ASLG-PC12's generator did

    def tokens(self, text: str) -> list[str]:
        """The gloss tokens of one sentence."""
        words = _TOKEN.findall(_POSSESSIVE_S.sub(" 's", expand_contractions(text.lower())))
        out: list[str] = []
        for index, word in enumerate(words):
            following = words[index + 1] if index + 1 < len(words) else ""
            token = self._token(word, following)
            if token:
                out.append(token)
        return out

    def tokens_with_sources(self, words: list[str]) -> list[tuple[str, int]]:
        """(gloss token, index of the word it came from) for already split, lower-cased words."""
        out: list[tuple[str, int]] = []
        for index, word in enumerate(words):
            following = words[index + 1] if index + 1 < len(words) else ""
            token = self._token(word, following)
            if token:
                out.append((token, index))
        return out

    def gloss(self, text: str) -> str:
        return " ".join(self.tokens(text))

    def gloss_many(self, texts: list[str]) -> list[str]:
        return [self.gloss(text) for text in texts]

    def _token(self, word: str, following: str) -> str | None:
        if word in DROPPED:
            return None
        if self.drop_copulas and word in COPULAS:
            return None
        if self.drop_auxiliaries and word in AUXILIARIES:
            return None
        if word == POSSESSIVE:
            return "X-POSS"
        if _PUNCTUATION.match(word) or word.isdigit():
            return word
        if word in FUNCTION_WORDS or word in MODALS:
            return self._clean(word).upper() or None
        if word in PRONOUNS:
            return "X-" + self._clean(PRONOUNS[word].lower()).upper()
        descriptive, lemma = self._analyse(word, following)
        lemma = self._clean(lemma)
        if not lemma:
            return None
        return ("DESC-" if descriptive else "") + lemma.upper()

    def _analyse(self, word: str, following: str) -> tuple[bool, str]:
        """(is it descriptive, the form to write) for a content word."""
        lemmas = _lemmas(word)
        kinds = set(lemmas)
        can_describe = bool(kinds & set(_DESCRIPTIVE))
        inflected = any(word not in lemmas[kind] for kind in ("NOUN", "VERB") if kind in lemmas)
        # a word that can be a noun is descriptive only in front of another noun ("council" vs "public money")
        attributive = "NOUN" not in kinds or ("NOUN" in _lemmas(following) and following not in FUNCTION_WORDS)
        if can_describe and not inflected and attributive:
            return True, word  # the corpus keeps comparatives and superlatives as written
        for kind in ("VERB", "AUX", "NOUN", "PROPN"):
            if kind in lemmas:
                return False, lemmas[kind][0]
        if lemmas:
            return False, next(iter(lemmas.values()))[0]
        return False, lemminflect.getAllLemmasOOV(word, "NOUN").get("NOUN", (word,))[0]

    def _clean(self, word: str) -> str:
        # ASLG's generator removed every "the" inside words; only scoring against its references wants that
        return word.replace("the", "") if self.aslg_artefacts else word


def expand_contractions(text: str) -> str:
    """Lower-cased text with contractions written out (`we're` -> `we are`); a typographic apostrophe counts."""
    text = text.replace("\u2019", "'")
    for pattern, replacement in _CONTRACTIONS:
        text = pattern.sub(replacement, text)
    return text
