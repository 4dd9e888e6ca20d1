"""Storage: one SQLite database of runs, responses (a content-addressed cache) and scores."""

from llamacompare.store.db import Store, default_db_path
from llamacompare.store.rows import CachedResponse, ResultRow, ResultStat, RunListing, RunRow, ScoreRow

__all__ = ["CachedResponse", "ResultRow", "ResultStat", "RunListing", "RunRow", "ScoreRow", "Store",
           "default_db_path"]
