"""The web service behind `bgtai serve`: a JSON API and a page to search an index.

- `GET /search?q=TEXT&k=10&modality=image` and `POST /search` (multipart `file`, with `k`
  and `modality` as form fields): `{"query", "modality", "results": [{"id", "path", "name",
  "modality", "score", "url", "preview"}], "ms"}`;
- `GET /items/{id}`: the indexed file with that id; `GET /api/stats`: what the index holds;
- `GET /`: the page (`static/`, plain HTML/JS/CSS); `GET /docs`: the OpenAPI docs.

Safety, because a browser talks to it: the server only ever sends files that are in the
index, looked up by id (no client-given path reaches the file system); an upload must
declare its length, is refused above `max_upload_bytes` before it is read, must decode as
audio or image (415 otherwise), and lives only in a private temporary folder that is
removed after the query; errors are short JSON messages, never stack traces (those go to
the server's log). `bgtai serve` binds 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
import threading
import time
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from bgtai.errors import BadInputError, BadItemsError
from bgtai.search.embedders import Embedder
from bgtai.search.index import Hit, SearchIndex

log = logging.getLogger("bgtai.serve")

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_QUERY_CHARS = 1000
MAX_K = 100
PREVIEW_CHARS = 240
_MEDIA_TYPES = {
    ".wav": "audio/wav",
    ".flac": "audio/flac",
    ".ogg": "audio/ogg",
    ".opus": "audio/ogg",
    ".mp3": "audio/mpeg",
    ".aiff": "audio/aiff",
    ".aif": "audio/aiff",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".bmp": "image/bmp",
    ".webp": "image/webp",
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
    ".txt": "text/plain; charset=utf-8",
}
# soundfile's format names and PIL's, to the suffix the decoders expect for the temporary copy
_AUDIO_SUFFIX = {"WAV": ".wav", "FLAC": ".flac", "OGG": ".ogg", "MP3": ".mp3", "AIFF": ".aiff"}
_IMAGE_SUFFIX = {"PNG": ".png", "JPEG": ".jpg", "GIF": ".gif", "BMP": ".bmp", "WEBP": ".webp", "TIFF": ".tif"}
_SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
_PAGE_POLICY = (
    "default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; style-src 'self'; "
    "script-src 'self'; connect-src 'self'; frame-ancestors 'none'"
)
_DOCS_PATHS = ("/docs", "/redoc", "/openapi.json")


def create_app(index: SearchIndex, embedder: Embedder, max_upload_bytes: int = MAX_UPLOAD_BYTES) -> FastAPI:
    app = FastAPI(
        title="bgtai search",
        version="1",
        description="Search an indexed collection of sounds, pictures and texts by text, sound or picture.",
    )
    encode_lock = threading.Lock()  # the models are not meant to run two batches at once
    static = resources.files("bgtai.search") / "static"
    upload_root = Path(tempfile.mkdtemp(prefix="bgtai-serve-"))  # private (0700): the only place uploads land

    @app.middleware("http")
    async def guard(request: Request, call_next: Any) -> Any:
        if request.method == "POST" and request.url.path == "/search":
            length = request.headers.get("content-length")
            if length is None or not length.isdigit():
                return _error(411, "an upload must declare its Content-Length")
            # the multipart envelope adds a little to the file itself
            if int(length) > max_upload_bytes + 64 * 1024:
                return _error(413, f"upload too large (at most {max_upload_bytes // (1024 * 1024)} MB)")
        try:
            response = await call_next(request)
        except Exception:  # anything unexpected: logged here, a short message out there
            log.exception("error while answering %s %s", request.method, request.url.path)
            response = _error(500, "internal error")
        for name, value in _SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if not request.url.path.startswith(_DOCS_PATHS):  # the docs page loads its scripts from a CDN
            response.headers.setdefault("Content-Security-Policy", _PAGE_POLICY)
        return response

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        return _error(error.status_code, str(error.detail))

    @app.exception_handler(Exception)
    async def any_error(request: Request, error: Exception) -> JSONResponse:
        log.exception("error while answering %s %s", request.method, request.url.path, exc_info=error)
        return _error(500, "internal error")

    def answer(query: str, modality: str, item: Any, k: int, only: str | None) -> dict[str, Any]:
        started = time.perf_counter()
        with encode_lock:
            vector = embedder.encode(modality, [item])[0]
        hits = index.search(vector, k, only)
        return {
            "query": query,
            "modality": modality,
            "results": [_result(hit) for hit in hits],
            "ms": round((time.perf_counter() - started) * 1000, 1),
        }

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def page() -> HTMLResponse:
        return HTMLResponse((static / "index.html").read_text(encoding="utf-8"))

    @app.get("/search", summary="search by text")
    def search_text(
        q: str = Query(..., min_length=1, max_length=MAX_QUERY_CHARS, description="what to look for"),
        k: int = Query(10, ge=1, le=MAX_K),
        modality: str | None = Query(None, pattern="^(audio|image|text)$", description="only this modality"),
    ) -> dict[str, Any]:
        if not q.strip():
            raise HTTPException(422, "empty query")
        return answer(q, "text", q, k, modality)

    @app.post("/search", summary="search by an uploaded sound or picture")
    def search_upload(
        file: UploadFile = File(..., description="an audio or image file"),
        k: int = Form(10, ge=1, le=MAX_K),
        modality: str | None = Form(None, pattern="^(audio|image|text)$"),
    ) -> dict[str, Any]:
        data = file.file.read(max_upload_bytes + 1)
        if len(data) > max_upload_bytes:
            raise HTTPException(413, f"upload too large (at most {max_upload_bytes // (1024 * 1024)} MB)")
        if not data:
            raise HTTPException(422, "the uploaded file is empty")
        with tempfile.TemporaryDirectory(dir=upload_root) as folder:
            kind, suffix = _sniff(data, Path(folder))
            path = Path(folder) / f"upload{suffix}"  # our name: the client's file name is never used as a path
            path.write_bytes(data)
            try:
                return answer(_display_name(file.filename), kind, str(path), k, modality or None)
            except (BadInputError, BadItemsError) as error:
                raise HTTPException(415, f"cannot use this {kind} file: {_problem(error)}") from None

    @app.get("/items/{item_id}", summary="an indexed file, by its id")
    def item(item_id: int) -> FileResponse:
        found = index.item(item_id)
        if found is None:
            raise HTTPException(404, "no such item")
        path = Path(found.path)
        if not path.is_file():
            raise HTTPException(404, "this item's file is no longer on disk")
        return FileResponse(path, media_type=_MEDIA_TYPES.get(path.suffix.lower(), "application/octet-stream"))

    @app.get("/api/stats", summary="what the index holds")
    def stats() -> dict[str, Any]:
        info = index.stats()
        return {key: info[key] for key in ("model", "dim", "items", "by_modality", "up_to_date")}

    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    return app


def _sniff(data: bytes, folder: Path) -> tuple[str, str]:
    """('audio'|'image', suffix) when `data` decodes as one; a 415 otherwise."""
    import io

    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as image:
            image_format = image.format
            image.load()  # decode it fully: a truncated or malformed file is refused here
        if image_format in _IMAGE_SUFFIX:
            return "image", _IMAGE_SUFFIX[image_format]
    except Exception:  # noqa: BLE001 - any decoder failure means "not an image we can use"
        pass
    import soundfile as sf

    try:
        info = sf.info(io.BytesIO(data))
        if info.frames > 0 and info.format in _AUDIO_SUFFIX:
            return "audio", _AUDIO_SUFFIX[info.format]
    except Exception:  # noqa: BLE001 - likewise for audio
        pass
    raise HTTPException(415, "not an audio or image file we can decode (try WAV, FLAC, OGG, MP3, PNG, JPEG)")


def _result(hit: Hit) -> dict[str, Any]:
    out = {
        "id": hit.id,
        "path": hit.path,
        "name": Path(hit.path).name,
        "modality": hit.modality,
        "score": round(hit.score, 6),
        "url": f"/items/{hit.id}",
        "preview": None,
    }
    if hit.modality == "text":
        with contextlib.suppress(OSError):  # an unreadable file gets no preview
            out["preview"] = Path(hit.path).read_text(encoding="utf-8", errors="replace")[:PREVIEW_CHARS]
    return out


def _problem(error: Exception) -> str:
    """The problem without the temporary path it happened at."""
    if isinstance(error, BadItemsError) and error.bad:
        return error.bad[0].problem
    return error.problem if isinstance(error, BadInputError) else "it could not be embedded"


def _display_name(name: str | None) -> str:
    return Path(name or "upload").name[:200]


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"detail": message}, status_code=status)
