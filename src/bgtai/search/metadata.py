"""The metadata table of an index: one row per indexed file, with its vector, in SQLite.

SQLite because every chunk of a build is one transaction: a build killed at any moment
keeps every chunk it committed and nothing half-written, and the next build carries on
from there. Ids are AUTOINCREMENT, so an id is never reused after a removal: `/items/{id}`
from an old result page never names another file. `generation` grows with every change,
so the FAISS files know whether they are up to date (`bgtai.search.index`).
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

_SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    path TEXT NOT NULL UNIQUE,
    modality TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    duration REAL,
    width INTEGER,
    height INTEGER,
    vector BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS items_sha256 ON items (sha256);
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO state (key, value) VALUES ('generation', 0);
"""
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Item:
    """An indexed file: `duration` (seconds) for audio, `width`/`height` for images, else None."""

    id: int
    path: str
    modality: str
    sha256: str
    bytes: int
    duration: float | None = None
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True)
class NewItem:
    """A file to insert, with its unit float32 vector."""

    path: str
    modality: str
    sha256: str
    bytes: int
    duration: float | None
    width: int | None
    height: int | None
    vector: np.ndarray


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


class ItemStore:
    """The `items.sqlite` of an index folder."""

    def __init__(self, path: Path) -> None:
        self.path = path
        # check_same_thread=False: the web service reads from its worker threads; writes happen only in the CLI
        self._db = sqlite3.connect(str(path), check_same_thread=False)
        self._db.executescript(_SCHEMA)
        self._db.commit()

    def close(self) -> None:
        self._db.close()

    def generation(self) -> int:
        return int(self._db.execute("SELECT value FROM state WHERE key = 'generation'").fetchone()[0])

    def count(self, modality: str | None = None) -> int:
        if modality is None:
            return int(self._db.execute("SELECT COUNT(*) FROM items").fetchone()[0])
        return int(self._db.execute("SELECT COUNT(*) FROM items WHERE modality = ?", (modality,)).fetchone()[0])

    def counts(self) -> dict[str, int]:
        rows = self._db.execute("SELECT modality, COUNT(*) FROM items GROUP BY modality ORDER BY modality")
        return {modality: int(n) for modality, n in rows}

    def total_bytes(self) -> int:
        return int(self._db.execute("SELECT COALESCE(SUM(bytes), 0) FROM items").fetchone()[0])

    def sha_by_path(self) -> dict[str, str]:
        return dict(self._db.execute("SELECT path, sha256 FROM items"))

    def vector_by_sha(self, sha256: str, modality: str) -> np.ndarray | None:
        """The vector of an indexed file with this content (another path, same bytes), if any."""
        row = self._db.execute(
            "SELECT vector FROM items WHERE sha256 = ? AND modality = ? LIMIT 1", (sha256, modality)
        ).fetchone()
        return None if row is None else np.frombuffer(row[0], dtype=np.float32).copy()

    def get(self, item_id: int) -> Item | None:
        row = self._db.execute(f"SELECT {_ITEM_COLUMNS} FROM items WHERE id = ?", (item_id,)).fetchone()
        return None if row is None else Item(*row)

    def get_many(self, ids: Iterable[int]) -> dict[int, Item]:
        wanted = [int(i) for i in ids]
        if not wanted:
            return {}
        marks = ",".join("?" * len(wanted))
        rows = self._db.execute(f"SELECT {_ITEM_COLUMNS} FROM items WHERE id IN ({marks})", wanted)
        return {int(row[0]): Item(*row) for row in rows}

    def items(self) -> Iterator[Item]:
        yield from (Item(*row) for row in self._db.execute(f"SELECT {_ITEM_COLUMNS} FROM items ORDER BY id"))

    def vectors(self, modality: str) -> tuple[np.ndarray, np.ndarray]:
        """(ids (N,), vectors (N, d) float32) of one modality, in id order."""
        rows = self._db.execute("SELECT id, vector FROM items WHERE modality = ? ORDER BY id", (modality,)).fetchall()
        ids = np.asarray([row[0] for row in rows], dtype=np.int64)
        if not rows:
            return ids, np.zeros((0, 0), dtype=np.float32)
        return ids, np.stack([np.frombuffer(row[1], dtype=np.float32) for row in rows])

    def write(self, new: list[NewItem], remove_paths: Iterable[str] = ()) -> None:
        """One transaction: remove `remove_paths`, insert (or replace, by path) `new`, bump the generation."""
        with self._db:
            self._db.executemany("DELETE FROM items WHERE path = ?", [(p,) for p in remove_paths])
            # a changed file: its old row goes and the new one gets a new id (its old results no longer name it)
            self._db.executemany("DELETE FROM items WHERE path = ?", [(item.path,) for item in new])
            self._db.executemany(
                "INSERT INTO items (path, modality, sha256, bytes, duration, width, height, vector) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        i.path,
                        i.modality,
                        i.sha256,
                        i.bytes,
                        i.duration,
                        i.width,
                        i.height,
                        np.ascontiguousarray(i.vector, dtype=np.float32).tobytes(),
                    )
                    for i in new
                ],
            )
            self._db.execute("UPDATE state SET value = value + 1 WHERE key = 'generation'")

    def paths_under(self, target: str) -> list[str]:
        """Indexed paths equal to `target` or inside the folder `target`."""
        prefix = target.rstrip("/") + "/"
        rows = self._db.execute(
            "SELECT path FROM items WHERE path = ? OR substr(path, 1, ?) = ?", (target, len(prefix), prefix)
        )
        return [row[0] for row in rows]


_ITEM_COLUMNS = "id, path, modality, sha256, bytes, duration, width, height"
