"""What a run tells as it goes (a progress sink) and when it ends (its outcome): shared by the live engine and the
batch runner (runner/batch.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from llamacompare.runner.concurrency import LimitState


class ProgressSink(Protocol):
    def start(self, total: int, description: str) -> None: ...
    def advance(self, *, tokens: int, cost: float | None, failed: bool) -> None: ...
    def close(self) -> None: ...


@dataclass(slots=True)
class RunOutcome:
    run_id: str
    total: int = 0
    sent: int = 0
    cached: int = 0
    already_done: int = 0
    failed: int = 0
    tokens: int = 0
    cost_usd: float = 0.0
    cost_unknown: int = 0
    interrupted: bool = False
    elapsed_s: float = 0.0
    errors: dict[str, int] = field(default_factory=dict)
    #: with --until-decided: requests not sent because their model was decided, and why each model stopped
    saved: int = 0
    decisions: list[str] = field(default_factory=list)
    #: things the run's summary says once (a model with no label scores, a model list that could not be read)
    notes: list[str] = field(default_factory=list)
    #: per hosted model whose concurrency adapted: its limit at the end, the lowest, how often it was halved
    concurrency: dict[str, LimitState] = field(default_factory=dict)
