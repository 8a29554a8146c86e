"""`bgtai.search`: building, updating, resuming and querying an index, and `bgtai index|search` (fake embedder)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from search_fakes import CONCEPTS, FakeEmbedder, make_collection, picture, tone

from bgtai.cli.main import main
from bgtai.errors import BadInputError
from bgtai.search import embedders
from bgtai.search.index import SearchIndex
from bgtai.search.query import parse_query

BRIDGES = {"kind": "bridges"}


@pytest.fixture
def collection(tmp_path: Path) -> Path:
    return make_collection(tmp_path / "collection")


def _build(collection: Path, out: Path, embedder: FakeEmbedder | None = None, chunk: int = 32) -> SearchIndex:
    index = SearchIndex.create(out, BRIDGES)
    index.update([collection], embedder or FakeEmbedder(), chunk=chunk)
    return index


def _query(index: SearchIndex, modality: str, item: object, k: int = 3, only: str | None = None) -> list:
    return index.search(FakeEmbedder().encode(modality, [item])[0], k, only)


def test_build_indexes_every_modality_and_searches_across_them(tmp_path: Path, collection: Path) -> None:
    index = _build(collection, tmp_path / "index")
    stats = index.stats()
    assert stats["by_modality"] == {"audio": 5, "image": 5, "text": 5}  # .md and hidden files left out
    assert (
        stats["dim"] == 8 and stats["up_to_date"] and stats["faiss"] == {m: "flat" for m in ("audio", "image", "text")}
    )
    hits = _query(index, "text", "a dog barking", k=3)
    assert {Path(h.path).name for h in hits} == {"clip0.wav", "pic0.png", "note0.txt"}
    assert hits[0].score > 0.9 and all(a.score >= b.score for a, b in zip(hits, hits[1:]))
    only = _query(index, "audio", collection / "sounds" / "clip2.wav", k=5, only="image")
    assert [Path(h.path).name for h in only][0] == "pic2.png" and {h.modality for h in only} == {"image"}
    item = index.item(hits[0].id)
    assert item is not None and item.path == hits[0].path and len(item.sha256) == 64
    wav = next(i for i in index.store.items() if i.modality == "audio")
    png = next(i for i in index.store.items() if i.modality == "image")
    assert wav.duration == pytest.approx(0.25) and (png.width, png.height) == (24, 16)


def test_reopened_index_gives_the_same_results(tmp_path: Path, collection: Path) -> None:
    first = _query(_build(collection, tmp_path / "index"), "text", "rain")
    again = SearchIndex.open(tmp_path / "index")
    assert _query(again, "text", "rain") == first
    assert json.loads((tmp_path / "index" / "index.json").read_text())["model"] == BRIDGES


def test_adding_again_embeds_only_new_or_changed_files(tmp_path: Path, collection: Path) -> None:
    index = _build(collection, tmp_path / "index")
    embedder = FakeEmbedder()
    report = index.update([collection], embedder)
    assert (report.unchanged, report.embedded, embedder.embedded) == (15, 0, 0)

    old_id = next(h.id for h in _query(index, "text", "bird", k=3) if h.path.endswith("pic4.png"))
    picture(collection / "pictures" / "pic4.png", "car", size=(30, 20))  # changed content, same path
    tone(collection / "sounds" / "new.wav", "bell", seconds=0.5)  # a new file
    shutil.copy(collection / "pictures" / "pic1.png", collection / "pictures" / "copy.png")  # same bytes as one indexed
    report = index.update([collection], embedder)
    assert (report.embedded, report.reused, report.unchanged) == (2, 1, 14)
    assert embedder.embedded == 2  # the copy reused its twin's vector
    assert index.item(old_id) is None  # a changed file gets a new id: old links never name other content
    car = [Path(h.path).name for h in _query(index, "text", "car", k=5, only="image")]
    assert car[:2] == ["pic3.png", "pic4.png"] or car[:2] == ["pic4.png", "pic3.png"]
    assert index.stats()["items"] == 17


def test_a_killed_build_resumes_and_loses_nothing_it_wrote(tmp_path: Path, collection: Path) -> None:
    class DiesOnThirdCall(FakeEmbedder):
        def encode(self, modality: str, inputs: object) -> np.ndarray:
            if len(self.calls) == 2:
                raise KeyboardInterrupt
            return super().encode(modality, inputs)

    index = SearchIndex.create(tmp_path / "index", BRIDGES)
    with pytest.raises(KeyboardInterrupt):
        index.update([collection], DiesOnThirdCall(), chunk=2)
    index.close()
    reopened = SearchIndex.open(tmp_path / "index")
    assert reopened.stats()["items"] == 4 and not reopened.stats()["up_to_date"]
    assert len(_query(reopened, "text", "dog", k=10)) == 4  # searchable already: FAISS rebuilt in memory
    embedder = FakeEmbedder()
    report = reopened.update([collection], embedder, chunk=2)
    assert (report.unchanged, report.embedded, embedder.embedded) == (4, 11, 11)
    assert reopened.stats()["items"] == 15 and reopened.stats()["up_to_date"]


def test_bad_files_are_listed_and_the_rest_indexed(tmp_path: Path, collection: Path) -> None:
    (collection / "sounds" / "broken.wav").write_bytes(b"RIFF not really a wav")
    (collection / "pictures" / "empty.png").write_bytes(b"")
    (collection / "notes" / "latin1.txt").write_bytes("caf\xe9".encode("latin-1"))
    index = SearchIndex.create(tmp_path / "index", BRIDGES)
    report = index.update([collection], FakeEmbedder())
    problems = dict((Path(p).name, problem) for p, problem in report.bad)
    assert set(problems) == {"broken.wav", "empty.png", "latin1.txt"}
    assert "decode audio" in problems["broken.wav"] and "0 bytes" in problems["empty.png"]
    assert "UTF-8" in problems["latin1.txt"] and report.embedded == 15


def test_embedder_bad_items_are_set_aside(tmp_path: Path, collection: Path) -> None:
    class RejectsBells(FakeEmbedder):
        def _one(self, modality: str, item: object) -> np.ndarray:
            if modality == "text" and "bell" in str(item):
                raise ValueError("no bells please")
            return super()._one(modality, item)

    index = SearchIndex.create(tmp_path / "index", BRIDGES)
    report = index.update([collection], RejectsBells())
    assert [(Path(p).name, problem) for p, problem in report.bad] == [("note2.txt", "no bells please")]
    assert index.stats()["by_modality"]["text"] == 4


def test_remove_paths_folders_and_missing_files(tmp_path: Path, collection: Path) -> None:
    index = _build(collection, tmp_path / "index")
    assert len(index.remove([collection / "sounds" / "clip0.wav"])) == 1
    assert len(index.remove([collection / "notes"])) == 5
    (collection / "pictures" / "pic0.png").unlink()
    assert [Path(p).name for p in index.remove([], missing=True)] == ["pic0.png"]
    assert index.stats()["by_modality"] == {"audio": 4, "image": 4}
    assert not (tmp_path / "index" / "text.faiss").exists()
    assert all(h.modality != "text" for h in _query(index, "text", "dog", k=20))


def test_an_index_keeps_its_model(tmp_path: Path, collection: Path) -> None:
    _build(collection, tmp_path / "index").close()
    with pytest.raises(BadInputError, match="built with bridges"):
        SearchIndex.create(tmp_path / "index", {"kind": "model", "path": "/somewhere/best"})
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "file").write_text("x")
    with pytest.raises(BadInputError, match="not a search index"):
        SearchIndex.create(tmp_path / "other", BRIDGES)
    with pytest.raises(BadInputError, match="index.json is missing"):
        SearchIndex.open(tmp_path / "other")


def test_search_rejects_a_vector_of_the_wrong_width_or_modality(tmp_path: Path, collection: Path) -> None:
    index = _build(collection, tmp_path / "index")
    with pytest.raises(BadInputError, match="3-d vector"):
        index.search(np.ones(3), 3)
    with pytest.raises(BadInputError, match="unknown modality"):
        index.search(np.ones(8), 3, "video")


def test_hnsw_above_the_exact_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, collection: Path) -> None:
    from bgtai.search import vectors

    monkeypatch.setattr(vectors, "EXACT_LIMIT", 3)
    index = _build(collection, tmp_path / "index")
    assert index.stats()["faiss"] == {m: "hnsw" for m in ("audio", "image", "text")}
    reopened = SearchIndex.open(tmp_path / "index")
    assert Path(_query(reopened, "text", "bird", k=1, only="image")[0].path).name == "pic4.png"


def test_parse_query(tmp_path: Path) -> None:
    wav = tone(tmp_path / "q.wav", "dog")
    assert parse_query("a dog barking") == ("text", "a dog barking")
    assert parse_query(str(wav)) == ("audio", str(wav))
    with pytest.raises(BadInputError, match="no such image file"):
        parse_query(str(tmp_path / "missing.png"))
    with pytest.raises(BadInputError, match="empty query"):
        parse_query("  ")


# ---- the command line -----------------------------------------------------------------------------
@pytest.fixture
def fake_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embedders, "load_embedder", lambda spec: FakeEmbedder())


def _run(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cli_build_search_stats_remove(
    tmp_path: Path, collection: Path, fake_model: None, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "index"
    code, stdout, err = _run(capsys, "index", "build", collection, "--bridges", "--out", out, "--no-progress")
    assert code == 0, err
    assert "15 items (5 audio, 5 image, 5 text)" in stdout and "15 embedded" in stdout

    code, stdout, _ = _run(capsys, "search", out, "a bird singing", "-k", "2", "--json")
    result = json.loads(stdout)
    assert code == 0 and result["query"] == "a bird singing" and len(result["results"]) == 2
    assert {Path(r["path"]).stem[-1] for r in result["results"]} == {"4"}
    assert set(result["results"][0]) >= {"path", "modality", "score"}

    code, stdout, _ = _run(capsys, "search", out, collection / "pictures" / "pic3.png", "--modality", "audio")
    lines = stdout.splitlines()
    assert code == 0 and lines[0].split() == ["rank", "score", "modality", "path"]
    assert lines[2].split()[2:] == ["audio", str((collection / "sounds" / "clip3.wav").resolve())]

    tone(collection / "sounds" / "extra.wav", "rain", seconds=0.3)
    code, stdout, _ = _run(capsys, "index", "add", out, collection, "--no-progress")
    assert code == 0 and "1 embedded" in stdout and "15 unchanged" in stdout

    code, stdout, _ = _run(capsys, "index", "remove", out, collection / "notes")
    assert code == 0 and "removed 5 item(s); 11 left" in stdout
    code, stdout, _ = _run(capsys, "index", "stats", out, "--json")
    assert json.loads(stdout)["by_modality"] == {"audio": 6, "image": 5}


def test_cli_errors_are_one_clear_line(
    tmp_path: Path, collection: Path, fake_model: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _run(capsys, "search", tmp_path / "nowhere", "dog")
    assert code == 2 and "no such index folder" in err and "Traceback" not in err
    code, _, err = _run(capsys, "index", "build", tmp_path / "missing", "--bridges", "--out", tmp_path / "i")
    assert code == 2 and "no such file or folder" in err
    code, _, err = _run(capsys, "index", "build", collection, "--model", tmp_path / "nomodel", "--out", tmp_path / "j")
    assert code == 2 and "no such folder" in err
    _run(capsys, "index", "build", collection, "--bridges", "--out", tmp_path / "k", "--no-progress")
    code, _, err = _run(capsys, "search", tmp_path / "k", str(tmp_path / "gone.wav"))
    assert code == 2 and "no such audio file" in err
    assert CONCEPTS  # the fake's concepts are what the collection is made of
