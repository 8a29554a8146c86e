"""The search service's JSON API, with FastAPI's test client (fake embedder, no weights)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from search_fakes import FakeEmbedder, make_collection, picture, tone

from bgtai.cli.serve import _is_loopback
from bgtai.search.index import SearchIndex
from bgtai.search.service import create_app

LIMIT = 64 * 1024


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[TestClient, Path, Path]:
    collection = make_collection(tmp_path / "collection")
    index = SearchIndex.create(tmp_path / "index", {"kind": "bridges"})
    index.update([collection], FakeEmbedder())
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))  # where the service keeps uploads: watched below
    client = TestClient(create_app(index, FakeEmbedder(), max_upload_bytes=LIMIT), raise_server_exceptions=False)
    return client, collection, temp


def _upload(client: TestClient, name: str, data: bytes, **fields: str):  # -> httpx.Response
    return client.post("/search", files={"file": (name, data)}, data=fields)


def _names(response) -> list[str]:  # response: httpx.Response
    return [r["name"] for r in response.json()["results"]]


def test_text_search_ranks_and_filters(served: tuple[TestClient, Path, Path]) -> None:
    client, _, _ = served
    response = client.get("/search", params={"q": "a dog barking", "k": 3})
    assert response.status_code == 200
    body = response.json()
    assert body["query"] == "a dog barking" and body["modality"] == "text"
    assert set(_names(response)) == {"clip0.wav", "pic0.png", "note0.txt"}
    scores = [r["score"] for r in body["results"]]
    assert scores == sorted(scores, reverse=True) and scores[0] > 0.9
    text_hit = next(r for r in body["results"] if r["modality"] == "text")
    assert text_hit["preview"].startswith("a note about a dog")
    only = client.get("/search", params={"q": "rain", "modality": "image", "k": 10})
    assert {r["modality"] for r in only.json()["results"]} == {"image"} and _names(only)[0] == "pic1.png"


def test_upload_a_sound_finds_pictures_and_leaves_nothing_behind(
    served: tuple[TestClient, Path, Path], tmp_path: Path
) -> None:
    client, _, temp = served
    data = tone(tmp_path / "query.wav", "bell", seconds=0.3).read_bytes()
    response = _upload(client, "../../etc/evil name.wav", data, modality="image", k="2")
    assert response.status_code == 200, response.text
    assert _names(response)[0] == "pic2.png" and response.json()["modality"] == "audio"
    assert response.json()["query"] == "evil name.wav"  # only a display name; never used as a path
    picture_query = picture(tmp_path / "query.png", "car", size=(9, 9)).read_bytes()
    response = _upload(client, "anything.bin", picture_query, modality="audio")
    assert response.status_code == 200 and _names(response)[0] == "clip3.wav"
    assert [p for p in temp.rglob("*") if p.is_file()] == []  # the uploads are gone


@pytest.mark.parametrize(
    "data, status, message",
    [
        (b"this is not a picture", 415, "not an audio or image file"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 40, 415, "not an audio or image file"),  # a PNG header and nothing else
        (b"", 422, "empty"),
    ],
)
def test_bad_uploads_get_a_clear_4xx(
    served: tuple[TestClient, Path, Path], data: bytes, status: int, message: str
) -> None:
    client, _, temp = served
    response = _upload(client, "query.png", data)
    assert response.status_code == status and message in response.json()["detail"]
    assert [p for p in temp.rglob("*") if p.is_file()] == []


def test_uploads_are_size_limited(served: tuple[TestClient, Path, Path], tmp_path: Path) -> None:
    client, _, _ = served
    big = tone(tmp_path / "long.wav", "dog", seconds=5.0).read_bytes()  # 160 kB > 64 kB
    response = _upload(client, "long.wav", big)
    assert response.status_code == 413 and "too large" in response.json()["detail"]

    def chunks():  # no Content-Length: the size cannot be checked before reading, so it is refused
        yield b"--x\r\n"

    response = client.post("/search", content=chunks(), headers={"content-type": "multipart/form-data; boundary=x"})
    assert response.status_code == 411


def test_items_serves_only_indexed_files_by_id(served: tuple[TestClient, Path, Path]) -> None:
    client, collection, _ = served
    hit = client.get("/search", params={"q": "bird", "modality": "image", "k": 1}).json()["results"][0]
    response = client.get(hit["url"])
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    assert response.content == (collection / "pictures" / "pic4.png").read_bytes()
    assert response.headers["x-content-type-options"] == "nosniff"
    assert client.get("/items/999999").status_code == 404
    secret = b"root:"
    for attempt in [
        "/items/../../../../etc/passwd",
        "/items/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/items/-1",
        "/items/1%2f..%2f..%2fetc%2fpasswd",
        "/static/../../../../etc/passwd",
        "/static/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/static/..%2f..%2f..%2fservice.py",
        f"/items/{collection}/pictures/pic0.png",
        "/search?q=x&path=/etc/passwd&k=1",
    ]:
        response = client.get(attempt)
        assert secret not in response.content and b"create_app" not in response.content, attempt
        if not attempt.startswith("/search"):
            assert response.status_code in (404, 422), attempt


def test_a_file_gone_from_disk_is_a_404(served: tuple[TestClient, Path, Path]) -> None:
    client, collection, _ = served
    hit = client.get("/search", params={"q": "rain", "modality": "audio", "k": 1}).json()["results"][0]
    (collection / "sounds" / "clip1.wav").unlink()
    response = client.get(hit["url"])
    assert response.status_code == 404 and "no longer on disk" in response.json()["detail"]


@pytest.mark.parametrize(
    "params",
    [
        {"q": "dog", "k": 0},
        {"q": "dog", "k": 101},
        {"q": "dog", "modality": "video"},
        {"q": "x" * 1001},
        {"q": "   "},
        {},
    ],
)
def test_bad_query_parameters_are_422(served: tuple[TestClient, Path, Path], params: dict) -> None:
    client, _, _ = served
    response = client.get("/search", params=params)
    assert response.status_code == 422 and "Traceback" not in response.text


def test_errors_carry_no_stack_traces(tmp_path: Path) -> None:
    class Broken(FakeEmbedder):
        def encode(self, modality: str, inputs: object) -> np.ndarray:
            raise RuntimeError("secret internals at /home/someone/model.py line 42")

    collection = make_collection(tmp_path / "collection")
    index = SearchIndex.create(tmp_path / "index", {"kind": "bridges"})
    index.update([collection], FakeEmbedder())
    client = TestClient(create_app(index, Broken()), raise_server_exceptions=False)
    response = client.get("/search", params={"q": "dog"})
    assert response.status_code == 500 and response.json() == {"detail": "internal error"}
    response = client.post("/search", files={"file": ("q.png", picture(tmp_path / "q.png", "dog").read_bytes())})
    assert response.status_code == 500 and "secret" not in response.text


def test_page_docs_and_stats(served: tuple[TestClient, Path, Path]) -> None:
    client, _, _ = served
    page = client.get("/")
    assert page.status_code == 200 and 'id="query"' in page.text and "/static/app.js" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert client.get("/static/app.js").status_code == 200 and client.get("/static/style.css").status_code == 200
    schema = client.get("/openapi.json").json()
    assert {"/search", "/items/{item_id}", "/api/stats"} <= set(schema["paths"])
    assert set(schema["paths"]["/search"]) == {"get", "post"}
    assert client.get("/docs").status_code == 200
    stats = client.get("/api/stats").json()
    assert stats["items"] == 15 and stats["by_modality"] == {"audio": 5, "image": 5, "text": 5}
    assert "folder" not in stats


def test_serve_binds_loopback_by_default() -> None:
    from bgtai.cli.main import build_parser

    args = build_parser().parse_args(["serve", "some-index"])
    assert (args.host, args.port) == ("127.0.0.1", 8000)
    assert _is_loopback("127.0.0.1") and _is_loopback("::1") and _is_loopback("localhost")
    assert not _is_loopback("0.0.0.0") and not _is_loopback("192.168.1.10")
