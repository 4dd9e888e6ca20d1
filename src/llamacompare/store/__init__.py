"""Storage: one SQLite database of runs, responses (a content-addressed cache) and scores."""

from llamacompare.store.db import Store, default_db_path

__all__ = ["Store", "default_db_path"]
