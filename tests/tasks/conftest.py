"""Shared fixtures for the tasks tests: a helper that writes a suite file and its data."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest


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
