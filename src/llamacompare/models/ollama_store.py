"""Find a model Ollama has already pulled, so it can run in-process without the Ollama server."""

from __future__ import annotations

import json
import os
from pathlib import Path

from llamacompare.errors import ModelNameError

_MODEL_MEDIA = "application/vnd.ollama.image.model"


def ollama_models_dir() -> Path:
    return Path(os.environ.get("OLLAMA_MODELS") or Path.home() / ".ollama" / "models")


def find_ollama_blob(name: str) -> Path:
    """`llama3:8b` -> the GGUF blob of that tag in Ollama's store (default tag `latest`)."""
    model, _, tag = name.partition(":")
    tag = tag or "latest"
    repo = model if "/" in model else f"library/{model}"
    root = ollama_models_dir()
    manifest = root / "manifests" / "registry.ollama.ai" / repo / tag
    if not manifest.is_file():
        raise ModelNameError(
            f"Ollama has not pulled {model}:{tag} (no manifest at {manifest}); run `ollama pull {name}`"
        )
    try:
        layers = json.loads(manifest.read_text(encoding="utf-8"))["layers"]
        digest = next(layer["digest"] for layer in layers if layer.get("mediaType") == _MODEL_MEDIA)
    except (ValueError, KeyError, StopIteration) as exc:
        raise ModelNameError(f"cannot read Ollama manifest {manifest}: {exc}") from None
    blob = root / "blobs" / digest.replace(":", "-")
    if not blob.is_file():
        raise ModelNameError(f"Ollama manifest {manifest} names a missing blob {blob}")
    return blob
