"""A rich progress bar for runs: done/total, ETA, tokens/s and cost so far. Updates are cheap counters; the
bar redraws itself four times a second, so thousands of answers a second cost little."""

from __future__ import annotations

import time
from typing import Any


class RichProgress:
    def __init__(self, console: Any = None) -> None:
        from rich.console import Console

        self.console = console or Console(stderr=True)
        self._progress: Any = None
        self._task: Any = None
        self.done = 0
        self.failed = 0
        self.tokens = 0
        self.cost = 0.0
        self.cost_unknown = False
        self._t0 = 0.0
        self._last = 0.0

    def start(self, total: int, description: str) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self._t0 = time.perf_counter()
        self._progress = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
            TextColumn("{task.fields[stats]}"), console=self.console, transient=False, refresh_per_second=4,
            disable=not self.console.is_terminal and not self.console.is_jupyter,
        )
        self._progress.start()
        self._task = self._progress.add_task(description, total=total, stats="")

    def advance(self, *, tokens: int, cost: float | None, failed: bool) -> None:
        self.done += 1
        self.tokens += tokens
        if failed:
            self.failed += 1
        if cost is None and not failed:
            self.cost_unknown = True
        elif cost:
            self.cost += cost
        now = time.perf_counter()
        if now - self._last >= 0.2:  # the bar redraws 4 times a second; pushing more often is wasted work
            self._last = now
            self._push(now)

    def _push(self, now: float) -> None:
        if self._progress is None:
            return
        rate = self.tokens / max(now - self._t0, 1e-9)
        cost = f"${self.cost:.4f}" + ("+?" if self.cost_unknown else "")
        stats = f"{rate:,.0f} tok/s  {cost}" + (f"  [red]{self.failed} failed[/red]" if self.failed else "")
        self._progress.update(self._task, completed=self.done, stats=stats)

    def close(self) -> None:
        if self._progress is not None:
            self._push(time.perf_counter())
            self._progress.stop()
            self._progress = None
