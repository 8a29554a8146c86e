"""Test-wide settings: one BLAS/torch thread (2 shared cores), a private feature cache."""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

# imported after the thread variables above are set: torch reads them at import
import pytest  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test session writes features to its own cache, never to the user's."""
    if "BGTAI_TEST_SHARED_CACHE" not in os.environ:
        monkeypatch.setenv("BGTAI_CACHE", str(tmp_path_factory.getbasetemp() / "bgtai-cache"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Integration tests need the data root; skip them with a reason when it is absent."""
    from bgtai.config import data_root

    root = data_root()
    if root is not None and root.is_dir():
        return
    skip = pytest.mark.skip(reason="no data root (set BGTAI_DATA)")
    for item in items:
        if "needs_data" in item.keywords:
            item.add_marker(skip)
