"""The built-in evaluation tasks and the run functions of the three that score any registered model.

Registered in the order `bgtai eval --help` lists them; `report_rank` orders the report's pages
(zero-shot, retrieval, probe, gloss, align: the papers' tasks). The classification tasks apply to
every dataset whose registry entry has a `ClassificationProtocol`, so a new dataset with one is
probed and scored zero-shot with no edit here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from bgtai.data.registry import classification_sets
from bgtai.eval.tasks import EvalTask, JointColumn, Pick, TaskLayout, register_task

if TYPE_CHECKING:
    from bgtai.eval.datasets import ClassificationSet
    from bgtai.eval.metrics import RetrievalResult
    from bgtai.eval.probe import Classifier, ProbeResult
    from bgtai.eval.retrieval import PairSet, Split
    from bgtai.eval.zeroshot import JointEmbedder, ZeroShotResult

# the papers' datasets, never here: their columns say "not available here" (`bgtai.eval.report_tables`)
PAPER_DATASETS: dict[str, str] = {
    "fsd50k": "FSD50K",
    "vggsound": "VGGSound",
    "tau": "TAU Urban Acoustic Scenes",
    "audiocaps": "AudioCaps",
    "clotho": "Clotho (full)",
}


def evaluate_zeroshot(
    model: JointEmbedder,
    dataset: str,
    synonyms: Mapping[str, Sequence[str]] | None = None,
    root: Path | None = None,
) -> tuple[ZeroShotResult, ClassificationSet]:
    """Zero-shot classification of `dataset`'s zero-shot items (its protocol) among its classes, by `model`."""
    from bgtai.eval.datasets import classification_protocol, load_zeroshot_set
    from bgtai.eval.zeroshot import zero_shot_classify

    data = load_zeroshot_set(dataset, root)
    modality = classification_protocol(dataset).modality
    return zero_shot_classify(model, data.inputs, list(data.labels), synonyms=synonyms, modality=modality), data


def evaluate_probe(
    data: ClassificationSet, features: np.ndarray, classifier: Classifier = "linear", seed: int = 0
) -> ProbeResult:
    """A probe on `features` (row i: item i of `data`) under `data`'s protocol (`ClassificationSet.splits`)."""
    from bgtai.eval.probe import run_probe

    return run_probe(features, data.labels, data.splits(seed), data.groups, classifier, seed)


def evaluate_retrieval(
    model: JointEmbedder, pair_set: str, split: Split = "test", fold: int = 0, chunk_size: int = 256
) -> tuple[PairSet, dict[str, RetrievalResult]]:
    """Both directions of built-in pair set `pair_set` (`bgtai.eval.retrieval.BUILTIN_PAIRS`) by `model`."""
    from bgtai.eval.retrieval import builtin_pairs, evaluate_pairs

    pairs = builtin_pairs(pair_set, split, fold)
    return pairs, evaluate_pairs(model, pairs, chunk_size=chunk_size)


def _zeroshot_keys() -> tuple[str, ...]:
    from bgtai.eval.datasets import zeroshot_key

    return tuple(zeroshot_key(name) for name in classification_sets())


def _pair_sets() -> tuple[str, ...]:
    from bgtai.eval.retrieval import BUILTIN_PAIRS

    return tuple(BUILTIN_PAIRS)


def _probe_picks() -> tuple[Pick, ...]:
    from bgtai.eval.datasets import classification_protocol

    return tuple(
        Pick(f"{classification_protocol(n).display} probe accuracy", "probe", n, "accuracy")
        for n in classification_sets()
    )


def _zeroshot_columns() -> tuple[JointColumn, ...]:
    from bgtai.eval.datasets import zeroshot_display, zeroshot_key

    return tuple(
        (f"{zeroshot_display(n)} zero-shot top-1", "zeroshot", zeroshot_key(n), "top1") for n in classification_sets()
    )


# the joint-space table's retrieval columns: the directions the papers report
RETRIEVAL_COLUMNS: tuple[JointColumn, ...] = (
    ("Tux Paint sound->picture R@1", "retrieval", "tuxpaint-sound-image A->I", "R@1"),
    ("R@5", "retrieval", "tuxpaint-sound-image A->I", "R@5"),
    ("R@10", "retrieval", "tuxpaint-sound-image A->I", "R@10"),
    ("MRR", "retrieval", "tuxpaint-sound-image A->I", "MRR"),
    ("Tux Paint picture->sound MRR", "retrieval", "tuxpaint-sound-image I->A", "MRR"),
    ("COCO-mini text->image R@1", "retrieval", "coco-image-text T->I", "R@1"),
    ("R@5", "retrieval", "coco-image-text T->I", "R@5"),
    ("R@10", "retrieval", "coco-image-text T->I", "R@10"),
    ("COCO-mini image->text R@1", "retrieval", "coco-image-text I->T", "R@1"),
    ("COCO-mini gloss->image R@1", "retrieval", "coco-image-gloss T->I", "R@1"),
    ("R@10", "retrieval", "coco-image-gloss T->I", "R@10"),
    ("FSDD speech->transcript R@1", "retrieval", "fsdd-speech-text A->T", "R@1"),
    ("Asterisk speech->transcript R@1", "retrieval", "asterisk-speech-text A->T", "R@1"),
)

register_task(
    EvalTask(
        "probe",
        "linear or MLP probe on frozen features",
        classification_sets,
        evaluate_probe,
        "bgtai.cli.eval_probe",
        TaskLayout(
            "Classification with a probe on frozen features (accuracy, mean and std over folds)",
            (*classification_sets(), "fsd50k", "vggsound", "tau"),
            ("accuracy", "std"),
        ),
        "Probe classification on frozen features",
        report_rank=2,
        headline=_probe_picks,
    )
)
register_task(
    EvalTask(
        "zeroshot",
        "zero-shot classification with prompt templates",
        classification_sets,
        evaluate_zeroshot,
        "bgtai.cli.eval_zeroshot",
        TaskLayout("Zero-shot classification", (*_zeroshot_keys(), "fsd50k", "vggsound"), ("top1", "top5")),
        "Zero-shot classification",
        report_rank=0,
        joint_columns=_zeroshot_columns,
    )
)
register_task(
    EvalTask(
        "retrieval",
        "retrieval in both directions on built-in pair sets",
        _pair_sets,
        evaluate_retrieval,
        "bgtai.cli.eval_retrieval",
        TaskLayout(
            "Retrieval (each JSON file also has mAP@10 and mean rank)",
            ("clotho", "audiocaps", "vggsound"),
            ("R@1", "R@5", "R@10", "MRR", "median_rank"),
            only_preferred=True,
            datasets_as_rows=True,
        ),
        "Retrieval, every pair set and direction",
        report_rank=1,
        joint_columns=lambda: RETRIEVAL_COLUMNS,
    )
)
register_task(
    EvalTask(
        "align",
        "learned aligners against DTW and simple baselines",
        lambda: ("bbc", "asterisk", "fsdd"),
        None,  # the whole run is `bgtai eval align` (bgtai.align.evaluate does the scoring)
        "bgtai.cli.eval_align",
        TaskLayout(
            "Sequence alignment on held-out items (one row per data set and method; accuracy of whole paths and of "
            "each target step, within one step, F1 of selected cells, SP-Loss)",
            (),
            ("path_accuracy", "sentence_accuracy", "word_accuracy", "within_1", "f1", "sp"),
            methods_as_rows=True,
            datasets_as_rows=True,
        ),
        "Sequence alignment",
        report_rank=4,
        headline=lambda: (
            Pick("BBC spoken summary->article, sentence accuracy", "align", "bbc speech", "sentence_accuracy"),
            Pick("Asterisk speech->words timing, word accuracy", "align", "asterisk recorded", "word_accuracy"),
        ),
    )
)
register_task(
    EvalTask(
        "efficiency",
        "training efficiency: the figures of every epoch's model",
        lambda: ("esc50", "urbansound8k"),
        None,  # the whole run is `bgtai eval efficiency` (bgtai.eval.efficiency)
        "bgtai.cli.eval_efficiency",
        own_page=True,
    )
)
register_task(
    EvalTask(
        "generation",
        "sounds to generated pictures: two-choice, rerank and Fréchet distance",
        lambda: ("esc50", "tuxpaint", "coco"),
        None,  # the whole run is `bgtai eval generation` (bgtai.eval.generation)
        "bgtai.cli.eval_generation",
        headline=lambda: (
            Pick(
                "ESC-50 sound->generated picture, two-choice (judge: bridges)",
                "generation",
                "esc50+tuxpaint",
                "two_choice",
            ),
        ),
    )
)


def _gloss_corpora() -> tuple[str, ...]:
    from bgtai.data.parallel_text import GLOSS_CORPORA

    return tuple(GLOSS_CORPORA)


register_task(
    EvalTask(
        "gloss",
        "text and speech to gloss: BLEU, ROUGE-L, WER",
        _gloss_corpora,
        None,  # the whole run is `bgtai eval gloss` (bgtai.gloss.metrics does the scoring)
        "bgtai.cli.eval_gloss",
        TaskLayout(
            "Text and speech to gloss (BLEU-2 and BLEU-3 are in each JSON file)",
            (),
            ("bleu1", "bleu4", "rouge_l", "wer"),
            only_preferred=True,
            datasets_as_rows=True,
        ),
        "Text and speech to gloss",
        report_rank=3,
        headline=lambda: (
            Pick("ASLG-PC12 text->gloss BLEU-4", "gloss", "ASLG-PC12 test (", "bleu4"),
            Pick("PHOENIX-2014T text->gloss BLEU-4", "gloss", "RWTH-PHOENIX-Weather 2014 T test (", "bleu4"),
        ),
    )
)
