"""`SearchIndex`: an index folder of audio, image and text files, built, updated and queried.

Layout of the folder:

- `index.json`: format, the embedding model (`bgtai.search.embedders`), the vectors' width and
  which `generation` of the table the FAISS files hold; written atomically;
- `items.sqlite`: one row per file with its vector (`bgtai.search.metadata`);
- `audio.faiss`, `image.faiss`, `text.faiss`: one FAISS index per modality (`bgtai.search.vectors`),
  so a modality filter searches one index exactly instead of filtering a shared one.

Updating embeds only what is new or changed (by content sha256; a file whose bytes are already
indexed under another path reuses that vector) in chunks, one SQLite transaction per chunk, so
a killed run loses nothing it committed. The FAISS files are rewritten at the end; when they
are older than the table (a killed run), opening the index rebuilds them in memory.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bgtai.errors import BadInputError, BadItemsError
from bgtai.search import vectors as faiss_vectors
from bgtai.search.embedders import Embedder, describe
from bgtai.search.files import MODALITIES, collect_files, read_text_document
from bgtai.search.metadata import Item, ItemStore, NewItem, file_sha256

FORMAT = "bgtai-search-index/1"
MANIFEST = "index.json"
DATABASE = "items.sqlite"
CHUNK = 32  # files per embedding call and per committed transaction


@dataclass(frozen=True)
class Hit:
    id: int
    path: str
    modality: str
    score: float


@dataclass
class UpdateReport:
    found: int = 0
    unchanged: int = 0
    embedded: int = 0
    reused: int = 0  # same bytes already indexed under another path: the vector is copied
    bad: list[tuple[str, str]] = field(default_factory=list)  # (path, problem)
    seconds: float = 0.0


@dataclass(frozen=True)
class _Pending:
    path: Path
    modality: str
    sha256: str
    bytes: int
    duration: float | None = None
    width: int | None = None
    height: int | None = None
    text: str | None = None

    def with_vector(self, vector: np.ndarray) -> NewItem:
        return NewItem(
            str(self.path), self.modality, self.sha256, self.bytes, self.duration, self.width, self.height, vector
        )


class SearchIndex:
    def __init__(self, folder: Path, manifest: dict[str, Any], store: ItemStore) -> None:
        self.folder = folder
        self.manifest = manifest
        self.store = store
        self._lock = threading.RLock()  # the web service searches from several threads
        self._indexes: dict[str, Any] = {}
        self._indexes_generation = -1

    # ---- opening -------------------------------------------------------------------------------
    @classmethod
    def create(cls, folder: Path, model: dict[str, Any]) -> SearchIndex:
        """A new index folder for `model`, or the existing one when it was made with the same model (to resume)."""
        if (folder / MANIFEST).is_file():
            index = cls.open(folder)
            if index.manifest["model"] != model:
                index.close()
                raise BadInputError(
                    str(folder),
                    f"is an index built with {describe(index.manifest['model'])}, not {describe(model)}; "
                    "give another --out or use that model",
                )
            return index
        if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
            raise BadInputError(str(folder), "exists and is not a search index; give a new folder for --out")
        folder.mkdir(parents=True, exist_ok=True)
        manifest = {
            "format": FORMAT,
            "model": model,
            "dim": None,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "faiss": {"generation": -1, "kinds": {}},
        }
        _write_manifest(folder, manifest)
        return cls(folder, manifest, ItemStore(folder / DATABASE))

    @classmethod
    def open(cls, folder: Path) -> SearchIndex:
        path = folder / MANIFEST
        if not folder.is_dir():
            raise BadInputError(str(folder), "no such index folder (make one with `bgtai index build`)")
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise BadInputError(str(folder), f"not a search index ({MANIFEST} is missing)") from None
        except (OSError, ValueError) as error:
            raise BadInputError(str(path), f"cannot read the index manifest ({error})") from None
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise BadInputError(str(path), f"not a {FORMAT} manifest")
        return cls(folder, manifest, ItemStore(folder / DATABASE))

    def close(self) -> None:
        self.store.close()

    @property
    def model(self) -> dict[str, Any]:
        return dict(self.manifest["model"])

    # ---- updating ------------------------------------------------------------------------------
    def update(
        self,
        roots: list[Path],
        embedder: Embedder,
        chunk: int = CHUNK,
        progress: Callable[[int], None] | None = None,
        on_total: Callable[[int], None] | None = None,
    ) -> UpdateReport:
        """Index the files under `roots` that are new or changed; `progress(n)` after each n files embedded."""
        started = time.perf_counter()
        report = UpdateReport()
        files = collect_files(roots)
        report.found = len(files)
        known = self.store.sha_by_path()
        pending: list[_Pending] = []
        for path, modality in files:
            try:
                sha = file_sha256(path)
                if known.get(str(path)) == sha:
                    report.unchanged += 1
                    continue
                pending.append(_probe(path, modality, sha))
            except BadInputError as error:
                report.bad.append((str(path), error.problem))
            except OSError as error:
                report.bad.append((str(path), f"cannot read ({error.strerror})"))
        # same bytes already indexed elsewhere: copy the vector (the model is deterministic), no embedding
        to_embed: list[_Pending] = []
        reused: list[NewItem] = []
        for item in pending:
            vector = self.store.vector_by_sha(item.sha256, item.modality)
            if vector is None:
                to_embed.append(item)
            else:
                reused.append(item.with_vector(vector))
        if reused:
            self.store.write(reused)
            report.reused = len(reused)
        if on_total is not None:
            on_total(len(to_embed))
        for modality in MODALITIES:
            batch = [item for item in to_embed if item.modality == modality]
            for start in range(0, len(batch), chunk):
                part = batch[start : start + chunk]
                good, bad = _encode(embedder, modality, part)
                report.bad.extend(bad)
                new = [item.with_vector(vector) for item, vector in good]
                if new:
                    self._check_dim(new[0].vector)
                    self.store.write(new)
                    report.embedded += len(new)
                if progress is not None:
                    progress(len(part))
        self.write_vectors()
        report.seconds = time.perf_counter() - started
        return report

    def remove(self, targets: Iterable[Path], missing: bool = False) -> list[str]:
        """Remove the indexed files at or under `targets` (and with `missing`, those gone from disk); their paths."""
        gone: list[str] = []
        for target in targets:
            matches = self.store.paths_under(str(target.absolute()))
            if not matches:
                matches = self.store.paths_under(str(target.resolve()))
            gone.extend(matches)
        if missing:
            gone.extend(item.path for item in self.store.items() if not Path(item.path).is_file())
        gone = sorted(set(gone))
        if gone:
            self.store.write([], remove_paths=gone)
        self.write_vectors()
        return gone

    def _check_dim(self, vector: np.ndarray) -> None:
        dim = int(vector.shape[0])
        if self.manifest.get("dim") is None:
            self.manifest["dim"] = dim
            _write_manifest(self.folder, self.manifest)
        elif self.manifest["dim"] != dim:
            raise BadInputError(str(self.folder), f"holds {self.manifest['dim']}-d vectors; the model gives {dim}-d")

    def write_vectors(self) -> None:
        """Rebuild the FAISS files from the table and record the generation they hold (atomic writes)."""
        with self._lock:
            generation = self.store.generation()
            kinds: dict[str, str] = {}
            for modality in MODALITIES:
                index = self._build(modality)
                path = self.folder / f"{modality}.faiss"
                if index is None:
                    path.unlink(missing_ok=True)
                    continue
                faiss_vectors.save(index, path)
                kinds[modality] = faiss_vectors.kind_for(int(index.ntotal))
                self._indexes[modality] = index
            self._indexes = {m: i for m, i in self._indexes.items() if m in kinds}
            self._indexes_generation = generation
            self.manifest["faiss"] = {"generation": generation, "kinds": kinds}
            _write_manifest(self.folder, self.manifest)

    def _build(self, modality: str) -> Any:
        ids, vectors = self.store.vectors(modality)
        return faiss_vectors.build(ids, vectors) if len(ids) else None

    # ---- querying ------------------------------------------------------------------------------
    def _faiss_indexes(self) -> dict[str, Any]:
        """The per-modality FAISS indexes, loaded once; rebuilt in memory when older than the table."""
        with self._lock:
            generation = self.store.generation()
            if self._indexes_generation == generation:
                return self._indexes
            fresh = self.manifest.get("faiss", {}).get("generation") == generation
            indexes = {}
            for modality in MODALITIES:
                path = self.folder / f"{modality}.faiss"
                if fresh and path.is_file():
                    indexes[modality] = faiss_vectors.load(path)
                elif not fresh:
                    built = self._build(modality)
                    if built is not None:
                        indexes[modality] = built
            self._indexes, self._indexes_generation = indexes, generation
            return indexes

    def search(self, vector: np.ndarray, k: int = 10, modality: str | None = None) -> list[Hit]:
        """The `k` indexed files nearest `vector` (cosine), best first; only `modality` when given."""
        if modality is not None and modality not in MODALITIES:
            raise BadInputError(modality, f"unknown modality (one of {', '.join(MODALITIES)})")
        query = np.asarray(vector, dtype=np.float32).reshape(-1)
        dim = self.manifest.get("dim")
        if dim is not None and query.shape[0] != dim:
            raise BadInputError("query", f"a {query.shape[0]}-d vector; this index holds {dim}-d vectors")
        norm = float(np.linalg.norm(query))
        if not np.isfinite(norm) or norm == 0.0:
            raise BadInputError("query", "the query embeds to a zero or non-finite vector")
        query = query / norm
        found: list[tuple[float, int]] = []
        for name, index in self._faiss_indexes().items():
            if modality is None or name == modality:
                scores, ids = faiss_vectors.search(index, query, k)
                found.extend(zip(scores.tolist(), ids.tolist()))
        found.sort(key=lambda pair: -pair[0])
        found = found[:k]
        with self._lock:
            items = self.store.get_many(i for _, i in found)
        return [Hit(i, items[i].path, items[i].modality, float(s)) for s, i in found if i in items]

    def item(self, item_id: int) -> Item | None:
        with self._lock:
            return self.store.get(item_id)

    def stats(self) -> dict[str, Any]:
        with self._lock:
            generation = self.store.generation()
            return {
                "folder": str(self.folder),
                "model": describe(self.manifest["model"]),
                "dim": self.manifest.get("dim"),
                "items": self.store.count(),
                "by_modality": self.store.counts(),
                "bytes": self.store.total_bytes(),
                "faiss": self.manifest.get("faiss", {}).get("kinds", {}),
                "up_to_date": self.manifest.get("faiss", {}).get("generation") == generation,
            }


def _probe(path: Path, modality: str, sha: str) -> _Pending:
    """The file's size and duration (audio), width/height (images) or text; a bad input when it does not decode."""
    size = path.stat().st_size
    if size == 0:
        raise BadInputError(str(path), "empty file (0 bytes)")
    if modality == "audio":
        import soundfile as sf

        try:
            info = sf.info(str(path))
        except (sf.LibsndfileError, RuntimeError, TypeError) as error:
            raise BadInputError(str(path), f"cannot decode audio ({error})") from None
        return _Pending(path, modality, sha, size, duration=float(info.duration))
    if modality == "image":
        from PIL import Image, UnidentifiedImageError

        try:
            with Image.open(path) as image:
                width, height = image.size
        except (UnidentifiedImageError, OSError) as error:
            raise BadInputError(str(path), f"cannot decode image ({error})") from None
        return _Pending(path, modality, sha, size, width=int(width), height=int(height))
    return _Pending(path, modality, sha, size, text=read_text_document(path))


def _encode(
    embedder: Embedder, modality: str, part: list[_Pending]
) -> tuple[list[tuple[_Pending, np.ndarray]], list[tuple[str, str]]]:
    """(good (item, unit vector) pairs, bad (path, problem)): bad inputs are set aside and the rest retried."""
    bad: list[tuple[str, str]] = []
    remaining = list(part)
    while remaining:
        inputs = [item.text if modality == "text" else str(item.path) for item in remaining]
        try:
            vectors = np.asarray(embedder.encode(modality, inputs), dtype=np.float32)
        except BadItemsError as error:
            drop = {b.index for b in error.bad}
            bad.extend((str(remaining[b.index].path), b.problem) for b in error.bad)
            remaining = [item for i, item in enumerate(remaining) if i not in drop]
            continue
        except BadInputError as error:
            if len(remaining) == 1:  # one input: it is the bad one
                return [], bad + [(str(remaining[0].path), error.problem)]
            good: list[tuple[_Pending, np.ndarray]] = []
            for item in remaining:  # find which: one at a time
                more_good, more_bad = _encode(embedder, modality, [item])
                good.extend(more_good)
                bad.extend(more_bad)
            return good, bad
        if vectors.shape[0] != len(remaining) or vectors.ndim != 2:
            raise RuntimeError(f"the embedder gave {vectors.shape} for {len(remaining)} {modality} inputs")
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        ok = np.isfinite(norms[:, 0]) & (norms[:, 0] > 0)
        bad.extend((str(item.path), "embeds to a zero or non-finite vector") for item, o in zip(remaining, ok) if not o)
        unit = vectors / np.where(ok[:, None], norms, 1.0)
        return [(item, unit[i]) for i, item in enumerate(remaining) if ok[i]], bad
    return [], bad


def _write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    from bgtai.atomic import write_text

    write_text(folder / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True) + "\n")
