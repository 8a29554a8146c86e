"""The search page in a real browser: Playwright driving Debian's Chromium (`make setup` installs it).

Skipped when Playwright or /usr/bin/chromium is missing (never a downloaded browser). The
server is the real app under uvicorn on a free loopback port, over an index of the fake
collection (no weights).
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from search_fakes import FakeEmbedder, make_collection, tone

from bgtai.search.index import SearchIndex
from bgtai.search.service import create_app

CHROMIUM = Path("/usr/bin/chromium")
playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists() or shutil.which(str(CHROMIUM)) is None,
        reason="Debian's chromium is not installed (apt-get install chromium)",
    ),
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    import uvicorn

    root = tmp_path_factory.mktemp("browser")
    collection = make_collection(root / "collection")
    index = SearchIndex.create(root / "index", {"kind": "bridges"})
    index.update([collection], FakeEmbedder())
    port = _free_port()
    config = uvicorn.Config(
        create_app(index, FakeEmbedder(), max_upload_bytes=64 * 1024), host="127.0.0.1", port=port, log_level="warning"
    )
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not running.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", root
    running.should_exit = True
    thread.join(timeout=10)
    index.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: object, server: tuple[str, Path]) -> Iterator[object]:
    context = browser.new_context()  # type: ignore[attr-defined]
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.goto(server[0] + "/")
    yield opened
    context.close()
    assert errors == [], errors  # no JavaScript errors on the page


def test_type_a_query_and_see_ranked_results(page: object) -> None:
    expect = playwright_api.expect
    expect(page.locator("#stats")).to_contain_text("15 items")  # type: ignore[attr-defined]
    page.fill("#query", "a bird singing")  # type: ignore[attr-defined]
    page.click("#search-button")  # type: ignore[attr-defined]
    results = page.locator("#results li")  # type: ignore[attr-defined]
    expect(results).to_have_count(10)
    names = results.locator(".name").all_text_contents()
    assert set(names[:3]) == {"clip4.wav", "pic4.png", "note4.txt"}
    scores = [float(s) for s in results.locator(".score").all_text_contents()]
    assert scores == sorted(scores, reverse=True)
    expect(results.locator("img").first).to_be_visible()  # a thumbnail
    assert results.locator("audio").count() >= 1  # a player
    assert page.evaluate("document.querySelector('#results img').naturalWidth") == 24  # type: ignore[attr-defined]

    page.select_option("#modality", "audio")  # type: ignore[attr-defined]
    page.click("#search-button")  # type: ignore[attr-defined]
    expect(results).to_have_count(5)
    assert set(results.evaluate_all("items => items.map(i => i.dataset.modality)")) == {"audio"}


def test_upload_a_sound_and_see_pictures(page: object, server: tuple[str, Path]) -> None:
    expect = playwright_api.expect
    clip = tone(server[1] / "query.wav", "rain", seconds=0.3)
    page.select_option("#modality", "image")  # type: ignore[attr-defined]
    page.set_input_files("#file", str(clip))  # type: ignore[attr-defined]
    results = page.locator("#results li")  # type: ignore[attr-defined]
    expect(results).to_have_count(5)
    assert results.locator(".name").first.text_content() == "pic1.png"
    expect(results.locator("img")).to_have_count(5)
    expect(page.locator("#status")).to_contain_text("audio query")  # type: ignore[attr-defined]


def test_drag_and_drop_a_sound(page: object, server: tuple[str, Path]) -> None:
    clip = tone(server[1] / "dropped.wav", "car", seconds=0.3)
    data = list(clip.read_bytes())
    # a DataTransfer with the file, dispatched as a drop on the drop zone: what a real drag ends with
    page.evaluate(  # type: ignore[attr-defined]
        """(bytes) => {
            const transfer = new DataTransfer();
            transfer.items.add(new File([new Uint8Array(bytes)], "dropped.wav", {type: "audio/wav"}));
            document.querySelector("#drop").dispatchEvent(new DragEvent("drop", {dataTransfer: transfer, bubbles: true}));
        }""",
        data,
    )
    results = page.locator("#results li")  # type: ignore[attr-defined]
    playwright_api.expect(results.first).to_be_visible()
    assert results.locator(".name").first.text_content() in {"clip3.wav", "pic3.png", "note3.txt"}


def test_a_bad_upload_shows_a_clear_message(page: object, server: tuple[str, Path]) -> None:
    bad = server[1] / "notes.png"
    bad.write_text("this is text, not a picture", encoding="utf-8")
    page.set_input_files("#file", str(bad))  # type: ignore[attr-defined]
    error = page.locator("#error")  # type: ignore[attr-defined]
    playwright_api.expect(error).to_be_visible()
    playwright_api.expect(error).to_contain_text("not an audio or image file")
    assert page.locator("#results li").count() == 0  # type: ignore[attr-defined]
