"""Datasets from the Hugging Face Hub, read through the `datasets` library (the optional `hf` extra).

A reference is `hf:NAME[:CONFIG]/SPLIT`: `hf:nyu-mll/glue:sst2/validation`, `hf:EdinburghNLP/xsum/test`. The
library's own cache and offline switches apply unchanged (HF_HOME, HF_DATASETS_CACHE, HF_HUB_OFFLINE,
HF_DATASETS_OFFLINE): a dataset loaded once is read from the cache without a network. NAME may also be a local
folder, either in the Hub's repository layout (data files by split) or written by `Dataset.save_to_disk`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llamacompare.errors import UsageError

PREFIX = "hf:"
EXAMPLE = "hf:nyu-mll/glue:sst2/validation"
_OFFLINE_VARS = ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE")


@dataclass(frozen=True, slots=True)
class HubRef:
    """One split of one dataset (and configuration) on the Hub."""

    name: str
    config: str | None
    split: str

    def __str__(self) -> str:
        return f"{PREFIX}{self.name}{':' + self.config if self.config else ''}/{self.split}"


def is_hub_ref(text: str) -> bool:
    return text.startswith(PREFIX)


def parse_hub_ref(text: str) -> HubRef:
    """`[hf:]NAME[:CONFIG]/SPLIT` -> HubRef; ValueError (one line, with an example) when it is not that."""
    body = text[len(PREFIX):] if is_hub_ref(text) else text
    left, slash, split = body.rpartition("/")
    name, colon, config = left.rpartition(":") if ":" in left else (left, "", "")
    bad_split = ":" in split.split("[", 1)[0]  # `NAME:CONFIG` with no split; `train[:10%]` is a split
    if not slash or bad_split or not split.strip() or not name.strip() or (colon and not config.strip()):
        raise ValueError(f"{text!r} is not a Hub dataset reference; write hf:NAME[:CONFIG]/SPLIT, e.g. {EXAMPLE}")
    return HubRef(name.strip(), config.strip() or None, split.strip())


_loaded: dict[HubRef, Any] = {}


def load_hub_dataset(ref: HubRef) -> Any:
    """The split as a `datasets.Dataset` (loaded once per process); UsageError in one line when the library is
    missing or the dataset is neither cached nor reachable."""
    if ref in _loaded:
        return _loaded[ref]
    try:
        import datasets  # Hugging Face datasets (about 1 s): only for a hub dataset
    except ImportError:
        raise UsageError(
            f"{ref}: reading a dataset from the Hugging Face Hub needs the `datasets` library; "
            "install it with: pip install 'llamacompare[hf]' (or pass --data FILE)"
        ) from None
    _quiet(datasets)
    local = Path(ref.name).expanduser()
    try:
        if local.is_dir() and ((local / "dataset_dict.json").is_file() or (local / "state.json").is_file()):
            ds = _from_disk(datasets, local, ref)
        else:
            ds = datasets.load_dataset(ref.name, ref.config, split=ref.split)
    except UsageError:
        raise
    except Exception as e:  # noqa: BLE001 - the library raises many kinds; each becomes one line for the user
        raise UsageError(f"{ref}: {_reason(e)}") from None
    _loaded[ref] = ds
    return ds


def _from_disk(datasets: Any, folder: Path, ref: HubRef) -> Any:
    obj = datasets.load_from_disk(str(folder))
    if isinstance(obj, datasets.DatasetDict):
        if ref.split not in obj:
            raise UsageError(f"{ref}: no split {ref.split!r} in {folder} (splits: {', '.join(obj)}); fix the split")
        return obj[ref.split]
    return obj


def _reason(e: Exception) -> str:
    """Why loading failed, and what to do, from the library's exception."""
    first = (str(e).strip().splitlines() or [type(e).__name__])[0]
    offline = [v for v in _OFFLINE_VARS if os.environ.get(v, "").strip().lower() in ("1", "true", "yes", "on")]
    kind = type(e).__name__
    if isinstance(e, ConnectionError) or "OfflineModeIsEnabled" in first or kind in ("ConnectError", "ConnectTimeout"):
        why = f"offline ({'='.join((offline[0], os.environ[offline[0]]))})" if offline else "the Hub is not reachable"
        return (f"not in the local Hugging Face cache and {why}; load it once with a network "
                "(it is cached for offline use), or pass --data FILE")
    if kind in ("DatasetNotFoundError", "RepositoryNotFoundError", "DataFilesNotFoundError", "FileNotFoundError"):
        return f"no such dataset ({first}); check the name, e.g. {EXAMPLE}"
    if "split" in first.lower():
        return f"{first}; fix the split after the last '/'"
    if "config" in first.lower():
        return f"{first}; fix the configuration after ':'"
    return f"cannot load it ({kind}: {first}); pass --data FILE to use a local file instead"


def _quiet(datasets: Any) -> None:
    # Progress bars and cache notices would land in the middle of our output; errors still raise.
    import huggingface_hub

    datasets.disable_progress_bars()
    datasets.logging.set_verbosity_error()
    huggingface_hub.utils.disable_progress_bars()
    huggingface_hub.utils.logging.set_verbosity_error()  # its retry notices; the failure itself still raises
