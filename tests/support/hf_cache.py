"""Hugging Face datasets built on this machine, for testing the real loading code without the Hub.

- `hub_folder`: a folder in a Hub dataset repository's layout (`data/SPLIT-00000-of-00001.parquet`), which
  `datasets.load_dataset(folder)` reads as it would read the repository.
- `prime_hub_cache`: what `datasets.load_dataset("OWNER/NAME", CONFIG)` leaves in HF_DATASETS_CACHE after a
  download, written by the library's own parquet builder: arrow files and dataset_info.json under
  `OWNER___NAME/CONFIG/0.0.0/HASH/` (NAME in snake case), the arrow file named `NAME-SPLIT.arrow`. With
  HF_HUB_OFFLINE=1 the library finds a dataset there (datasets/load.py, `CachedDatasetModuleFactory`, and
  the `cache` packaged module).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

Rows = dict[str, list[Any]]


def write_parquet(path: Path, rows: Rows) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(rows), path)
    return path


def hub_folder(root: Path, splits: dict[str, Rows]) -> Path:
    for split, rows in splits.items():
        write_parquet(root / "data" / f"{split}-00000-of-00001.parquet", rows)
    return root


_PRIME = """
import shutil, sys
from pathlib import Path
from datasets import config
from datasets.naming import camelcase_to_snakecase
from datasets.packaged_modules.parquet.parquet import Parquet

repo, cfg, split, src, work = sys.argv[1:6]
owner, name = repo.split("/")
name = camelcase_to_snakecase(name)
builder = Parquet(dataset_name=name, config_name=cfg, config_id=cfg, hash="0123abcd", data_files={split: [src]},
                  cache_dir=work)
builder.download_and_prepare()
target = Path(config.HF_DATASETS_CACHE) / f"{owner}___{name}" / cfg / "0.0.0" / "0123abcd"
target.parent.mkdir(parents=True, exist_ok=True)
shutil.move(builder.cache_dir, target)
"""


def prime_hub_cache(hf_home: Path, repo: str, config: str, split: str, rows: Rows, work: Path) -> None:
    """Put `rows` into the datasets cache under HF_HOME as the split `split` of Hub dataset `repo`/`config`."""
    src = write_parquet(work / f"{repo.replace('/', '__')}-{config}-{split}.parquet", rows)
    env = {**os.environ, "HF_HOME": str(hf_home), "HF_HUB_OFFLINE": "1"}
    build = work / f"build-{repo.replace('/', '__')}-{config}-{split}"
    subprocess.run([sys.executable, "-c", _PRIME, repo, config, split, str(src), str(build)], check=True, env=env,
                   capture_output=True, timeout=120)
