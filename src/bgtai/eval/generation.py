"""Automatic measures of audio-driven generation (no person rates pictures here).

Two-choice test (UniBriVL Table 5, made automatic): for a pair of held-out sounds of different
classes A and B, a picture generated from the A sound passes when an independent judge puts it
closer to class A than to class B. The judge is the bridges-only space (EfficientNet-Lite0's
ImageNet scores mixed into label-name vectors, `bgtai.bridges`): it shares no trained weight
with the joint model that conditions and reranks, so the generator cannot pass by pleasing its
own conditioner. Chance is 0.5. The sounds: ESC-50 fold 4 (never trained on) of the classes the
judge's label list can name (ImageNet names them by `bgtai.eval.label_overlap`'s rule, so the
judge is able to recognise them at all).

Rerank gain: the judged two-choice accuracy of the top-ranked of N candidates (ranked by the
joint model's sound-picture cosine, the paper's Fig. 4) minus that of a random one of the N
(the mean over all N). Control: the same judgement of pictures generated from a sound of a
third class (conditioning shuffled across classes), which must sit near 0.5.

Fréchet distance in EfficientNet-Lite0's pooled 1280-d feature space (no Inception weights
offline, so it is named for its feature space and not comparable to published FID): pictures
generated from Tux Paint test sounds against the real held-out Tux Paint pictures. Beside it
the paired test: is each generated picture closer, in the same feature space, to its own
object's real picture than to another test object's (chance 0.5), and the same for the
shuffled control.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from bgtai.generate.base import Condition, ImageGenerator
from bgtai.generate.rerank import image_scores

JUDGE = "bridges (EfficientNet-Lite0 ImageNet scores -> label-name vectors; no trained weights)"
FEATURES = "efficientnet-lite0"


@dataclass(frozen=True)
class GenerationSettings:
    per_class: int = 2  # ESC-50 clips per class
    candidates: int = 8  # N pictures per sound, reranked
    tuxpaint_sounds: int = 40  # Tux Paint test sounds for the distance measures (0: skip)
    seed: int = 0
    reference_pictures: int = 0  # real pictures per side of the Fréchet distance (0: all held-out ones)


@dataclass(frozen=True)
class Sound:
    path: Path
    label: str


def judge_classes(classes: Sequence[str]) -> list[str]:
    """The classes ImageNet's label list names (the judge can only see those), in the given order."""
    from bgtai.eval.label_overlap import label_coverage

    coverage = label_coverage(list(classes), ("imagenet",))
    return [name for name in classes if coverage[name].named]


def esc50_sounds(per_class: int, seed: int) -> list[Sound]:
    """`per_class` ESC-50 fold 4 clips of each judge-visible class, chosen with `seed`, sorted by class."""
    from bgtai.eval.datasets import load_zeroshot_set

    data = load_zeroshot_set("esc50")
    labels = [str(label) for label in data.labels]
    classes = judge_classes(sorted(set(labels)))
    rng = np.random.default_rng(seed)
    sounds = []
    for name in classes:
        rows = [i for i, label in enumerate(labels) if label == name]
        for row in sorted(rng.choice(rows, size=min(per_class, len(rows)), replace=False)):
            sounds.append(Sound(Path(data.inputs[row]), name))
    return sounds


def class_vectors(classes: Sequence[str]) -> np.ndarray:
    """(C, 384) unit vectors of "a picture of a <class>" prompts in the judge's (MiniLM) text space."""
    from bgtai import embed
    from bgtai.eval.zeroshot import clean_class_name

    prompts = [f"a picture of a {clean_class_name(name)}" for name in classes]
    return np.asarray(embed.encode("text", prompts, encoder="minilm"), dtype=np.float32)


def judge_vectors(images: Sequence[Image.Image]) -> np.ndarray:
    from bgtai.bridges import BridgeSpace

    return np.asarray(BridgeSpace().encode("image", list(images)), dtype=np.float32)


def shuffled_partners(labels: Sequence[str], seed: int) -> tuple[np.ndarray, np.ndarray]:
    """For each sound: a pair partner of another class, and a control sound of a third class (neither its own nor the partner's)."""
    rng = np.random.default_rng(seed)
    labels = np.asarray(labels)
    partner = np.empty(len(labels), dtype=np.int64)
    control = np.empty(len(labels), dtype=np.int64)
    for i, label in enumerate(labels):
        others = np.flatnonzero(labels != label)
        if len(others) == 0:
            raise ValueError("the two-choice test needs sounds of at least two classes")
        partner[i] = rng.choice(others)
        thirds = np.flatnonzero((labels != label) & (labels != labels[partner[i]]))
        control[i] = rng.choice(thirds if len(thirds) else others)
    return partner, control


def two_choice_passes(judged: np.ndarray, own: np.ndarray, other: np.ndarray) -> np.ndarray:
    """judged (M, C) picture-class cosines; own/other (M,) class indices: does each picture prefer its own class?"""
    rows = np.arange(len(judged))
    return judged[rows, own] > judged[rows, other]


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance of Gaussians fitted to feature sets a (N, F) and b (M, F) (the FID formula)."""
    from scipy import linalg

    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if len(a) < 2 or len(b) < 2:
        raise ValueError("the Fréchet distance needs at least two pictures on each side")
    mean_a, mean_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = linalg.sqrtm(cov_a @ cov_b)
    root = np.real(root)  # numerical noise can leave tiny imaginary parts
    return float(np.sum((mean_a - mean_b) ** 2) + np.trace(cov_a + cov_b - 2.0 * root))


def picture_features(images: Sequence[Any]) -> np.ndarray:
    """(N, 1280) EfficientNet-Lite0 pooled features, unit length (cosine comparisons)."""
    from bgtai import embed

    return np.asarray(embed.encode("image", list(images), encoder=FEATURES, normalize=True), dtype=np.float32)


def generate_for(
    model: Any,
    generator: ImageGenerator,
    sound_paths: Sequence[Path],
    candidates: int,
    seed: int,
    prompts: Callable[[np.ndarray], tuple[str, ...]] | None = None,
    progress: Callable[[str], None] = print,
) -> tuple[np.ndarray, list[list[Image.Image]], np.ndarray]:
    """Sound vectors (S, D), each sound's N candidates, and the joint model's scores (S, N) of them."""
    vectors = np.asarray(model.encode("audio", list(sound_paths)), dtype=np.float32)
    pictures: list[list[Image.Image]] = []
    scores = np.zeros((len(sound_paths), candidates), dtype=np.float32)
    batched = getattr(generator, "generate_many", None)
    if batched is not None and prompts is None:  # one big batch is much faster on a CPU than a call per sound
        flat = batched(np.repeat(vectors, candidates, axis=0), seed)
        pictures = [flat[i * candidates : (i + 1) * candidates] for i in range(len(sound_paths))]
        progress(f"generated {len(flat)} pictures for {len(sound_paths)} sounds")
    else:
        for index, (path, vector) in enumerate(zip(sound_paths, vectors)):
            condition = Condition(vector, Path(path).name, prompts(vector) if prompts else ())
            pictures.append(generator.generate(condition, candidates, seed + index))
            if (index + 1) % 10 == 0 or index + 1 == len(sound_paths):
                progress(f"generated for {index + 1}/{len(sound_paths)} sounds")
    for index, vector in enumerate(vectors):
        scores[index] = image_scores(model, pictures[index], vector)
    return vectors, pictures, scores


def evaluate_two_choice(
    model: Any,
    generator: ImageGenerator,
    settings: GenerationSettings,
    prompts: Callable[[np.ndarray], tuple[str, ...]] | None = None,
    progress: Callable[[str], None] = print,
) -> tuple[dict[str, float], dict[str, Any], list]:
    """Two-choice, rerank gain and control on ESC-50 sounds; also returns the pictures for a figure."""
    sounds = esc50_sounds(settings.per_class, settings.seed)
    classes = sorted({sound.label for sound in sounds})
    index = {name: i for i, name in enumerate(classes)}
    own = np.array([index[sound.label] for sound in sounds])
    partner, control = shuffled_partners([sound.label for sound in sounds], settings.seed)
    progress(
        f"two-choice test: {len(sounds)} ESC-50 sounds of {len(classes)} judge-visible classes, "
        f"{settings.candidates} candidates each"
    )
    _, pictures, scores = generate_for(
        model, generator, [s.path for s in sounds], settings.candidates, settings.seed, prompts, progress
    )
    flat = [image for images in pictures for image in images]
    judged = (judge_vectors(flat) @ class_vectors(classes).T).reshape(len(sounds), settings.candidates, len(classes))
    n = settings.candidates
    passes = np.stack([two_choice_passes(judged[:, k], own, own[partner]) for k in range(n)], axis=1)  # (S, N)
    top = np.argmax(scores, axis=1)  # the rerank's pick (first of equal scores)
    rows = np.arange(len(sounds))
    # control: sound i's class against its partner's, judged on pictures made from a third class's sound
    control_passes = np.stack([two_choice_passes(judged[control, k], own, own[partner]) for k in range(n)], axis=1)
    judged_top1 = np.argmax(judged, axis=2) == own[:, None]  # (S, N): the judge's best class among all of them
    metrics = {
        "two_choice": float(passes[rows, top].mean()),
        "two_choice_random": float(passes.mean()),
        "rerank_gain": float(passes[rows, top].mean() - passes.mean()),
        "two_choice_control": float(control_passes[rows, top[control]].mean()),
        "two_choice_control_random": float(control_passes.mean()),
        "judged_top1": float(judged_top1[rows, top].mean()),
        "judged_top1_random": float(judged_top1.mean()),
        "judged_top1_chance": 1.0 / len(classes),
    }
    details = {
        "sounds": [str(s.path.name) for s in sounds],
        "labels": [s.label for s in sounds],
        "classes": classes,
        "partners": partner.tolist(),
        "controls": control.tolist(),
        "top_index": top.tolist(),
        "top_passes": passes[rows, top].astype(int).tolist(),
        "judge": JUDGE,
        "per_class_two_choice": {name: float(passes[rows, top][own == i].mean()) for i, name in enumerate(classes)},
    }
    figure = [(f"{s.label} ({s.path.name})", pictures[i], scores[i]) for i, s in enumerate(sounds)]
    return metrics, details, figure


def tuxpaint_test_sounds(limit: int) -> list[tuple[Path, Path, str]]:
    """(sound, its real picture, stamp id) of Tux Paint test stamps with both, sorted by id, at most `limit`."""
    from bgtai.data.splits import ids_in_test
    from bgtai.data.tuxpaint import load_tuxpaint

    items = list(load_tuxpaint().items)
    test = ids_in_test("tuxpaint", items)
    chosen = sorted(
        (i for i in items if str(i.id) in test and i.audio is not None and i.image is not None), key=lambda i: str(i.id)
    )
    return [(Path(i.audio), Path(i.image), str(i.id)) for i in chosen[:limit]]


def evaluate_distances(
    model: Any,
    generator: ImageGenerator,
    settings: GenerationSettings,
    prompts: Callable[[np.ndarray], tuple[str, ...]] | None = None,
    progress: Callable[[str], None] = print,
) -> tuple[dict[str, float], dict[str, Any]]:
    """Fréchet distance to the real held-out pictures, and the paired own-vs-other picture test."""
    from bgtai.generate.pictures import picture_set

    stamps = tuxpaint_test_sounds(settings.tuxpaint_sounds)
    if len(stamps) < 3:
        return {}, {"distance_skipped": f"only {len(stamps)} Tux Paint test stamps with sound and picture"}
    progress(f"distance measures: {len(stamps)} Tux Paint test sounds")
    _, pictures, scores = generate_for(
        model, generator, [s[0] for s in stamps], settings.candidates, settings.seed + 10_000, prompts, progress
    )
    chosen = [pictures[i][int(np.argmax(scores[i]))] for i in range(len(stamps))]
    generated = picture_features(chosen)
    # real pictures go in as files: the encoder's own preprocessing (shorter side to 224, centre crop) and its
    # feature cache; the generated ones are square already
    limit = settings.reference_pictures or None
    real_own = picture_features([s[1] for s in stamps])
    held_out = picture_features([p.path for p in picture_set("test")][:limit])
    train = picture_features([p.path for p in picture_set("train")][: len(held_out)])
    rng = np.random.default_rng(settings.seed)
    other = np.array([rng.choice([j for j in range(len(stamps)) if j != i]) for i in range(len(stamps))])
    control = np.array(
        [rng.choice([j for j in range(len(stamps)) if j not in (i, other[i])]) for i in range(len(stamps))]
    )
    own_cos = np.sum(generated * real_own, axis=1)
    other_cos = np.sum(generated * real_own[other], axis=1)
    control_own = np.sum(generated[control] * real_own, axis=1)
    control_other = np.sum(generated[control] * real_own[other], axis=1)
    metrics = {
        "fid_efficientnet": frechet_distance(generated, held_out),
        "fid_efficientnet_real_train": frechet_distance(train, held_out),  # the floor: real pictures vs real
        "paired_match": float(np.mean(own_cos > other_cos)),
        "paired_match_control": float(np.mean(control_own > control_other)),
    }
    details = {
        "tuxpaint_stamps": [s[2] for s in stamps],
        "fid_pictures": {"generated": len(chosen), "held_out": len(held_out), "real_train": len(train)},
        "features": f"{FEATURES} pooled, unit length",
    }
    return metrics, details
