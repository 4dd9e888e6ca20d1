"""Progress bars for runs: done/total, time left, tokens/s and cost so far. Updates are cheap counters; a bar
redraws at most four times a second, so thousands of answers a second cost little. A hosted model whose requests in
flight adapt to its server shows its current limit of its ceiling ("8/16 in flight").

`for_this_process()` picks the bar: rich's in a terminal, an HTML one inside a Jupyter kernel. Rich's own
Jupyter support needs ipywidgets (a widget that nbconvert, GitHub and a saved notebook cannot show, and that
loads its code from a CDN); the notebook bar is one display that is updated in place, so the saved notebook
keeps the final state as plain HTML and nothing writes escape codes into a cell.
"""

from __future__ import annotations

import html
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from llamacompare import formatting as fmt

if TYPE_CHECKING:
    from llamacompare.runner.concurrency import LimitState

REDRAW_S = 0.25


class _Counts:
    """What every bar shows, counted the same way."""

    def __init__(self) -> None:
        self.total = 0
        self.done = 0
        self.failed = 0
        self.tokens = 0
        self.cost = 0.0
        self.cost_unknown = False
        self.description = ""
        self._t0 = 0.0
        self._last = 0.0
        self._limits: dict[str, Callable[[], LimitState]] = {}

    def watch_concurrency(self, model: str, state: Callable[[], LimitState]) -> None:
        """Show `model`'s adaptive limit of requests in flight, read at each redraw."""
        self._limits[model] = state

    def concurrency_text(self) -> str:
        """Each adaptive model's current limit of its ceiling; the model's name only where there are several."""
        if not self._limits:
            return ""
        several = len(self._limits) > 1
        parts = [f"{model + ' ' if several else ''}{s.limit}/{s.ceiling}"
                 for model, s in ((m, state()) for m, state in self._limits.items())]
        return " · ".join(parts) + " in flight"

    def _begin(self, total: int, description: str) -> None:
        self.total, self.description = total, description
        self._limits = {}  # a later pass (the judges') watches its own models
        self.done = self.failed = self.tokens = 0  # a sink may show several passes (answers, then verdicts)
        self.cost, self.cost_unknown = 0.0, False
        self._t0 = time.perf_counter()

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
        if now - self._last >= REDRAW_S:  # pushing more often than the bar redraws is wasted work
            self._last = now
            self._push(now)

    def _push(self, now: float) -> None:
        raise NotImplementedError

    def elapsed(self, now: float) -> float:
        return max(now - self._t0, 1e-9)

    def cost_text(self) -> str:
        return fmt.cost(self.cost) + (" + unknown" if self.cost_unknown else "")

    def stats(self, now: float) -> str:
        rate = self.tokens / self.elapsed(now)
        flight = self.concurrency_text()
        return f"{rate:,.0f} tok/s · {self.cost_text()}" + (f" · {flight}" if flight else "")


class RichProgress(_Counts):
    def __init__(self, console: Any = None) -> None:
        super().__init__()
        from rich.console import Console  # rich: only where something is printed

        self.console = console or Console(stderr=True)
        self._progress: Any = None
        self._task: Any = None

    def start(self, total: int, description: str) -> None:
        # rich: only where something is printed
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self._begin(total, description)
        self._progress = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
            TextColumn("{task.fields[stats]}"), console=self.console, transient=False, refresh_per_second=4,
            disable=not self.console.is_terminal,
        )
        self._progress.start()
        self._task = self._progress.add_task(description, total=total, stats="")

    def _push(self, now: float) -> None:
        if self._progress is None:
            return
        from rich.markup import escape  # rich: only where something is printed

        stats = escape(self.stats(now)) + (f"  [red]{self.failed} failed[/red]" if self.failed else "")
        self._progress.update(self._task, completed=self.done, stats=stats)

    def note(self, text: str) -> None:
        """A state beside the counts (a batch's: `openai:gpt-4o-mini: batch in_progress (120/200 done)`)."""
        if self._progress is not None:
            from rich.markup import escape  # rich: only where something is printed

            self._progress.update(self._task, description=escape(f"{self.description} · {text}"))

    def close(self) -> None:
        if self._progress is not None:
            self._push(time.perf_counter())
            self._progress.stop()
            self._progress = None


class NotebookProgress(_Counts):
    """One display in the cell, replaced in place: an HTML <progress> bar for Jupyter, a text line for any
    frontend that shows only text/plain."""

    def __init__(self) -> None:
        super().__init__()
        self._handle: Any = None
        self._state = ""

    def start(self, total: int, description: str) -> None:
        from IPython.display import display  # IPython: only in a notebook

        self._begin(total, description)
        self._handle = display(self.bundle(time.perf_counter()), raw=True, display_id=True)

    def _push(self, now: float) -> None:
        if self._handle is not None:
            self._handle.update(self.bundle(now), raw=True)

    def note(self, text: str) -> None:
        """A state beside the counts (a batch's), shown in the description."""
        self._state = text
        self._push(time.perf_counter())

    def close(self) -> None:
        if self._handle is not None:
            self._push(time.perf_counter())
            self._handle = None

    def bundle(self, now: float, finished: bool | None = None) -> dict[str, str]:
        finished = self._handle is not None and self.done >= self.total if finished is None else finished
        elapsed = self.elapsed(now)
        if finished:
            timing = f"done in {_duration(elapsed)}"
        elif self.done:
            left = elapsed / self.done * (self.total - self.done)
            timing = f"{_duration(elapsed)} elapsed, about {_duration(left)} left"
        else:
            timing = "starting"
        failed = f" · {self.failed} failed" if self.failed else ""
        line = f"{self.done:,}/{self.total:,} · {timing} · {self.stats(now)}{failed}"
        width = 30
        filled = round(width * self.done / self.total) if self.total else width
        description = f"{self.description} · {self._state}" if self._state else self.description
        text = f"{description} [{'#' * filled}{'.' * (width - filled)}] {line}"
        e = html.escape
        markup = (
            '<div class="lc-progress" style="display:flex;gap:10px;align-items:center;font:13px/1.4 system-ui,'
            'sans-serif;flex-wrap:wrap">'
            f'<b>{e(description)}</b>'
            f'<progress value="{self.done}" max="{max(self.total, 1)}" style="width:240px"></progress>'
            f'<span>{e(line)}</span></div>'
        )
        return {"text/plain": text, "text/html": markup}


def _duration(seconds: float) -> str:
    s = round(seconds)
    if s < 60:
        return f"{seconds:.1f} s" if seconds < 10 else f"{s} s"
    return f"{s // 60} min {s % 60:02d} s"


def in_jupyter_kernel() -> bool:
    """True inside a Jupyter kernel (JupyterLab, Notebook, VS Code, nbclient); False in plain python or IPython in
    a terminal. Looks only at an IPython that is already imported, so plain python imports nothing."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    shell = ipython.get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def for_this_process() -> RichProgress | NotebookProgress:
    return NotebookProgress() if in_jupyter_kernel() else RichProgress()
