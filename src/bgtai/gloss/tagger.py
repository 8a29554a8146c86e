"""The trained edit tagger: English text -> ASLG-style gloss, as edits of the rule glosser's output.

For each word of a sentence a small BiLSTM (`bgtai.gloss.tagger_model`) picks an edit tag
(`bgtai.gloss.tagger_tags`: keep the rule's token, add or drop `DESC-`, write the word as it
stands, a verbatim token, ...), and the tags are applied. What it sees is the English
sentence and the rule glosser's token for each word; what it learnt is where the ASLG-PC12
references differ from the rules (`bgtai train gloss --corpus aslg --model tagger`).

A model folder holds `config.json` (`"kind": "gloss-edit-tagger"`, the network's shape, meta),
`model.safetensors` and `tagger_vocab.json` (words, suffixes, tags); it is written beside its
place and renamed into it, so a reader never sees half of one.

Like the rule glosser, it writes words whole unless `aslg_artefacts` ("the" deleted inside
words, as ASLG's references have it: only for scoring against ASLG).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_model, save_model

from bgtai.atomic import replace_folder, temporary_folder
from bgtai.errors import BadInputError
from bgtai.gloss.tagger_model import EditTaggerNet, Featurizer, SentenceFeatures, TaggerConfig, collate
from bgtai.gloss.tagger_tags import Tag, WordEdits, split_words

KIND = "gloss-edit-tagger"
FILES = ("config.json", "model.safetensors", "tagger_vocab.json")


def is_tagger_folder(folder: str | Path) -> bool:
    """Whether `folder` holds an edit tagger (its config says so), not a Langue2Gloss."""
    config = Path(folder) / "config.json"
    if not config.is_file():
        return False
    try:
        return json.loads(config.read_text()).get("kind") == KIND
    except (json.JSONDecodeError, AttributeError):
        return False


@dataclass
class Prepared:
    """One sentence ready for the network: its words, their rule tokens with the ASLG artefact (the input)."""

    words: list[str]
    edits: WordEdits
    features: SentenceFeatures


class EditTagger:
    """A loaded or freshly built edit tagger: `gloss_many(texts)` -> gloss strings."""

    def __init__(
        self,
        net: EditTaggerNet,
        featurizer: Featurizer,
        labels: Sequence[str],
        meta: dict[str, Any] | None = None,
        aslg_artefacts: bool = False,
        batch_size: int = 64,
    ) -> None:
        if len(labels) != net.config.labels:
            raise ValueError(f"{len(labels)} tag names for a network with {net.config.labels} outputs")
        self.net = net
        self.featurizer = featurizer
        self.labels = list(labels)
        self.tags = [Tag.parse(label) for label in self.labels]
        self.meta = dict(meta or {})
        self.aslg_artefacts = aslg_artefacts
        self.batch_size = batch_size

    def prepare(self, text: str) -> Prepared:
        # the network always reads the rule tokens it was trained on (with the artefact)
        words = split_words(text)
        edits = WordEdits(words, artefacts=True)
        return Prepared(words, edits, self.featurizer.features(words, edits.rule))

    @torch.no_grad()
    def predict(self, prepared: Sequence[Prepared]) -> list[list[Tag]]:
        """The best tag of each word of each prepared sentence."""
        self.net.eval()
        out: list[list[Tag]] = []
        for start in range(0, len(prepared), self.batch_size):
            batch = prepared[start : start + self.batch_size]
            features, mask = collate([item.features for item in batch])
            best = self.net(features, mask).argmax(dim=-1)
            out += [[self.tags[int(i)] for i in best[row, : len(item.words)]] for row, item in enumerate(batch)]
        return out

    def gloss_prepared(self, prepared: Sequence[Prepared]) -> list[str]:
        glosses = []
        for item, tags in zip(prepared, self.predict(prepared)):
            edits = item.edits if self.aslg_artefacts else WordEdits(item.words, artefacts=False)
            glosses.append(" ".join(token for index, tag in enumerate(tags) for token in edits.apply(index, tag)))
        return glosses

    def gloss_many(self, texts: Sequence[str]) -> list[str]:
        return self.gloss_prepared([self.prepare(text) for text in texts])

    def gloss(self, text: str) -> str:
        return self.gloss_many([text])[0]

    def translate_audio(self, paths: Sequence[str | Path]) -> list[str]:
        """Glosses of English speech through a Whisper tiny.en transcript (the tagger reads text only)."""
        from bgtai.gloss.translator import transcribe

        transcripts = transcribe(paths, "whisper-tiny-en")
        return [gloss if text.strip() else "" for text, gloss in zip(transcripts, self.gloss_many(transcripts))]

    audio_route = "whisper-tiny-en transcript -> edit tagger"

    def save(self, folder: str | Path) -> Path:
        """Write the model folder atomically (staged beside it, then renamed into place)."""
        folder = Path(folder)
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = temporary_folder(folder)
        try:
            config = {"kind": KIND, "model": self.net.config.to_dict(), "meta": self.meta}
            (staging / "config.json").write_text(json.dumps(config, indent=2) + "\n")
            save_model(self.net, str(staging / "model.safetensors"))
            vocab = {**self.featurizer.to_dict(), "labels": self.labels}
            (staging / "tagger_vocab.json").write_text(json.dumps(vocab, ensure_ascii=False) + "\n")
            replace_folder(staging, folder)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return folder

    @classmethod
    def load(cls, folder: str | Path, aslg_artefacts: bool = False) -> EditTagger:
        folder = Path(folder)
        if not folder.is_dir():
            raise BadInputError(str(folder), "no such model folder")
        missing = [name for name in FILES if not (folder / name).is_file()]
        if missing:
            raise BadInputError(str(folder), f"not an edit-tagger model folder: missing {', '.join(missing)}")
        try:
            data = json.loads((folder / "config.json").read_text())
            if data.get("kind") != KIND:
                raise BadInputError(str(folder / "config.json"), f"kind is {data.get('kind')!r}, not {KIND!r}")
            config = TaggerConfig.from_dict(data["model"])
            vocab = json.loads((folder / "tagger_vocab.json").read_text())
            featurizer = Featurizer.from_dict(vocab)
            labels = [str(label) for label in vocab["labels"]]
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as error:
            raise BadInputError(str(folder), f"unreadable edit-tagger files ({error})") from error
        net = EditTaggerNet(config)
        try:
            load_model(net, str(folder / "model.safetensors"))
        except Exception as error:  # safetensors raises its own error types for a damaged or mismatched file
            raise BadInputError(str(folder / "model.safetensors"), f"does not fit the config ({error})") from error
        try:
            return cls(net.eval(), featurizer, labels, dict(data.get("meta", {})), aslg_artefacts)
        except ValueError as error:
            raise BadInputError(str(folder), str(error)) from error
