"""Shared fixtures for the tasks tests: the real datasets (../shared/datasets from the repo root) and a helper
that writes a suite file."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
DATASETS = SHARED / "datasets"


@pytest.fixture
def datasets_dir(monkeypatch: pytest.MonkeyPatch) -> Path:
    """The real datasets, found whatever the current folder (the loader also looks in ../shared/datasets)."""
    if not (DATASETS / "sst2_dev.tsv").is_file():
        pytest.skip(f"the evaluation datasets are not at {DATASETS}")
    monkeypatch.setenv("LLAMACOMPARE_DATA_DIR", str(DATASETS))
    return DATASETS


@pytest.fixture
def write_suite(tmp_path: Path) -> Callable[..., Path]:
    """write_suite(yaml_text, {file: content}): the suite (dedented) plus data files beside it."""

    def write(text: str, files: dict[str, str | bytes] | None = None, name: str = "suite.yaml") -> Path:
        for fname, content in (files or {}).items():
            target = tmp_path / fname
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content, encoding="utf-8", newline="")
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write
