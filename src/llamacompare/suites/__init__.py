"""Built-in suites, shipped as package data: `llamacompare run seed` finds `seed.yaml` here."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from llamacompare.errors import UsageError


def _dir() -> Path:
    return Path(str(resources.files(__name__)))


def builtin_suite_names() -> list[str]:
    """Names of the built-in suites (the .yaml files of this package), sorted."""
    return sorted(p.stem for p in _dir().glob("*.yaml"))


def builtin_suite_path(name: str) -> Path:
    """The file of a built-in suite; UsageError listing the names when there is none."""
    path = _dir() / f"{name}.yaml"
    if not path.is_file():
        raise UsageError(f"no built-in suite {name!r}; built-in suites: {', '.join(builtin_suite_names())}")
    return path
