"""One annotation convention per gloss corpus, so a model never learns marks its test set does not use.

RWTH-PHOENIX-Weather 2014 T as stored here mixes two conventions. The dev and test glosses are
the cleaned translation-corpus glosses: plain gloss words, with only the `neg-`, `negalp-` and
`poss-` prefixes kept. The train glosses still carry the raw annotation marks:

- whole tokens between double underscores: `__ON__`, `__OFF__` (hands up / down), `__PU__`,
  `__HOLD__`, `__LEFTHAND__`, `__EMP__`, `__??__`... (13 % of the train tokens, none in dev/test);
- the `loc-` (sign placed at a location) and `cl-` (classifier) prefixes: `loc-REGION`,
  `cl-KOMMEN`, also after another prefix as in `neg-cl-KOMMEN` (none in dev/test);
- the `-PLUSPLUS` suffix marking a repeated sign (none in dev/test).

`phoenix_gloss(line)` rewrites a line into the dev/test convention: marks dropped, `loc-`,
`cl-` and `-PLUSPLUS` taken off the word they decorate. Applied to dev and test it changes
nothing (a test checks this on the real files); applied to train it brings the gloss vocabulary
from 1232 to 1076 types, next to the 1066 glosses published for the corpus.
"""

from __future__ import annotations

import re

_MARK = re.compile(r"__.*__")
_PLACEMENT_PREFIX = re.compile(r"(?:^|(?<=-))(?:loc|cl)-")
_REPEAT_SUFFIX = re.compile(r"(?:-PLUSPLUS)+$")


def phoenix_gloss(line: str) -> str:
    """A PHOENIX-2014T gloss line in the dev/test convention (see the module doc)."""
    words = []
    for token in line.split():
        if _MARK.fullmatch(token):
            continue
        token = _REPEAT_SUFFIX.sub("", _PLACEMENT_PREFIX.sub("", token))
        if token:
            words.append(token)
    return " ".join(words)


GLOSS_CONVENTIONS = {"phoenix": phoenix_gloss}
