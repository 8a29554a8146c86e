"""Search your own collection: an index of audio, image and text files in one embedding space.

- `files`: which files under a folder are indexed, and as which modality;
- `metadata`: the SQLite table of indexed items (path, modality, size, duration, sha256, vector);
- `vectors`: the FAISS index built from those vectors (exact when small, HNSW when large);
- `embedders`: the embedding model an index was built with (`--model DIR` or `--bridges`);
- `index`: `SearchIndex`, which builds, updates and queries an index folder;
- `query`: what a query is (a text, an audio file or an image file);
- `service`: the FastAPI app behind `bgtai serve` (imported only when serving).
"""

from bgtai.search.index import Hit, SearchIndex

__all__ = ["Hit", "SearchIndex"]
