"""Your own datasets, encoders, objectives and evaluation tasks, known to every `bgtai` command.

A plugin is any importable module that registers parts when imported (`register_dataset`,
`register`, `register_objective`, `register_task`). The commands import, before parsing
arguments (so `--dataset`, `--encoder` and recipe names see the parts):

- every module named in `BGTAI_PLUGINS` (comma-separated module names; the folder holding a
  module must be on `sys.path` or `PYTHONPATH`), then
- every entry point of the group `bgtai.plugins` of the installed packages (in a package's
  `pyproject.toml`: `[project.entry-points."bgtai.plugins"] tones = "tones_plugin"`).

A plugin that fails to import is an error naming it, never a silently missing dataset.
"""

from __future__ import annotations

import importlib
import os
from importlib.metadata import entry_points

from bgtai.errors import BadInputError

ENVIRONMENT = "BGTAI_PLUGINS"
GROUP = "bgtai.plugins"
_loaded: list[str] = []


def load_plugins() -> list[str]:
    """Import every plugin once; returns the names imported by this call."""
    names = [name.strip() for name in os.environ.get(ENVIRONMENT, "").split(",") if name.strip()]
    targets = [(name, name) for name in names]
    targets += [(f"{point.name} (entry point {point.value})", point.value) for point in entry_points(group=GROUP)]
    imported = []
    for label, target in targets:
        if target in _loaded:
            continue
        module = target.split(":", 1)[0]
        try:
            importlib.import_module(module)
        except Exception as error:  # noqa: BLE001 - whatever a plugin raises, name the plugin
            source = f"{ENVIRONMENT}={os.environ.get(ENVIRONMENT, '')}" if target in names else GROUP
            raise BadInputError(source, f"plugin {label} failed to import: {type(error).__name__}: {error}") from error
        _loaded.append(target)
        imported.append(target)
    return imported
