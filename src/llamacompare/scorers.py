"""The scorers: what each name in a suite's `scorers:` means, and the metrics each one adds to a report. The
schema (`tasks/schema.py`, `tasks/validation.py`) reads the names, the scoring pass (`analysis/score.py`) runs the
per-answer functions, the summary (`analysis/summary.py`) picks the primary metric and its direction, and the views
read the titles.

A new scorer is one module:

    from llamacompare.scorers import Answer, Metric, scorer

    @scorer("exclaims", types=("generate",), metrics=[Metric("exclaims", binary=True, primary=45)])
    def exclaims(answer: Answer) -> dict[str, float]:
        return {"exclaims": float(answer.text.rstrip().endswith("!"))}

imported before a suite naming it is loaded: by a notebook, or by the command line through the entry-point group
`llamacompare.scorers` of an installed package (`mine = "my_package.scorers"`), as providers are found.

Imports nothing else of ours but the leaf `toolcall.py` (what a tool_call answer holds), so the schema below
`scoring/` may read it: the built-in scorers
(`scoring/builtin_scorers.py`) are loaded by module name on the first read, as a plugin is.
"""

from __future__ import annotations

import importlib
import logging
import math
import threading
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from typing import Literal

from llamacompare.toolcall import Tool, ToolCall

__all__ = ["Answer", "Metric", "Scorer", "TaskType", "Value", "averaged_metrics", "get", "higher_is_better",
           "is_binary", "metric", "names", "primary_metric", "register", "running", "scorer", "scorers", "source",
           "summary_columns", "title", "unregister"]

TaskType = Literal["classify", "generate", "tool_call"]
BUILTIN = "llamacompare.scoring.builtin_scorers"
GROUP = "llamacompare.scorers"
log = logging.getLogger("llamacompare")


@dataclass(frozen=True, slots=True)
class Metric:
    """One figure a scorer adds to each model's row."""

    name: str
    title: str = ""  # how tables head it ("" = its name)
    higher_is_better: bool = True
    # preference as a task's primary metric, lower first (the built-ins: judge 10, pairwise 20, rougeL 30,
    # all_checks 40, words 50; accuracy 10 on classify tasks); None: never primary
    primary: int | None = None
    binary: bool = False  # each answer right (1) or wrong (0): a proportion's interval, exact paired tests
    column: bool = False  # an extra column of the terminal summary table
    rows: str = ""  # the score rows it is made of ("" = its name; accuracy is made of `label` rows)

    @property
    def source(self) -> str:
        return self.rows or self.name


@dataclass(frozen=True, slots=True)
class Answer:
    """What a per-answer scorer sees: the answer's text, the case's reference and its input fields (the reference
    and the case's checks left out)."""

    text: str
    reference: str | None
    fields: Mapping[str, str] = field(default_factory=dict)
    #: a tool_call task's: the calls the model made, the tools it was offered, and whether string arguments are
    #: compared folded (case- and Turkish-i-insensitive) rather than exactly
    calls: tuple[ToolCall, ...] = ()
    tools: tuple[Tool, ...] = ()
    fold: bool = False

    @property
    def source(self) -> str:
        """The case's input as one text (what `compression` divides by)."""
        return "\n".join(self.fields.values())


@dataclass(frozen=True, slots=True)
class Value:
    """A metric's value for one answer with why, in words ("called get_time, expected get_weather"): the reports
    show the reason beside the answer."""

    value: float | None
    reason: str = ""


#: metric name -> value for one answer (None: not scored), or a `Value` with its reason; NaN is kept, as the
#: built-ins' `compression` is
ScoreFn = Callable[[Answer], Mapping[str, float | Value | None]]


@dataclass(frozen=True, slots=True)
class Scorer:
    """A scorer: its name in a suite's `scorers:`, the task types it serves, the metrics it adds and, for one
    computed from each answer alone, its function. `score=None`: the scoring pass computes it itself (labels with
    calibration across a model's answers, judge verdicts, human marks, checks)."""

    name: str
    types: tuple[TaskType, ...]
    metrics: tuple[Metric, ...]
    score: ScoreFn | None = None
    selectable: bool = True  # may be named in `scorers:` (False: it runs from elsewhere: `checks:`, human marks)
    always: bool = False  # runs on every task of its types, named or not (cheap, read beside any metric)
    default: bool = False  # runs where a task's `scorers:` is empty
    needs_reference: bool = False  # the schema asks for `reference:`; answers without one are not scored
    needs_judge: bool = False  # the schema asks for `judge:`
    averaged: bool = True  # the summary averages its metrics per model (False: the summary has its own code)

    def primary_rank(self) -> float:
        return min((m.primary for m in self.metrics if m.primary is not None), default=math.inf)


_lock = threading.RLock()  # re-entered: loading the built-ins registers them
_registry: dict[str, Scorer] = {}
_loaded = False


def register(spec: Scorer, *, replace: bool = False) -> Scorer:
    """Add a scorer. A name already taken (a built-in's too) is an error unless `replace` (a notebook cell run
    again)."""
    if not spec.types or not spec.metrics:
        raise ValueError(f"scorer {spec.name!r} needs at least one task type and one metric")
    with _lock:
        _load()
        if spec.name in _registry and not replace:
            raise ValueError(f"a scorer named {spec.name!r} is already registered; pick another name")
        # a metric has one meaning (direction, title) in every report: one scorer declares it
        taken = {m.name: s.name for s in _registry.values() if s.name != spec.name for m in s.metrics}
        if clash := [m.name for m in spec.metrics if m.name in taken]:
            raise ValueError(f"scorer {spec.name!r}: scorer {taken[clash[0]]!r} already has a metric {clash[0]!r}; "
                             "name yours otherwise")
        _registry[spec.name] = spec
    return spec


def scorer(name: str, *, types: Iterable[TaskType], metrics: Iterable[Metric], replace: bool = False,
           **options: bool) -> Callable[[ScoreFn], ScoreFn]:
    """Register the decorated function as the per-answer scorer `name` (`options`: Scorer's flags)."""

    def add(fn: ScoreFn) -> ScoreFn:
        register(Scorer(name, tuple(types), tuple(metrics), score=fn, **options), replace=replace)
        return fn

    return add


def unregister(name: str) -> None:
    with _lock:
        _registry.pop(name, None)


def scorers() -> list[Scorer]:
    """Every scorer, in the order registered (the built-ins first)."""
    with _lock:
        _load()
        return list(_registry.values())


def get(name: str) -> Scorer | None:
    return next((s for s in scorers() if s.name == name), None)


def names(task_type: TaskType | None = None) -> list[str]:
    """The names a suite's `scorers:` may use (for one task type)."""
    return [s.name for s in scorers() if s.selectable and (task_type is None or task_type in s.types)]


def running(task_type: str, named: Collection[str]) -> list[Scorer]:
    """The scorers that run on a task of this type naming `named`."""
    return [s for s in scorers() if task_type in s.types
            and (s.name in named or s.always or (s.default and not named))]


def _ordered(task_type: str | None = None) -> list[Metric]:
    """Metrics of the scorers (of one task type) that may lead a task first, each scorer's in its order."""
    found = [s for s in scorers() if task_type is None or task_type in s.types]
    return [m for s in sorted(found, key=Scorer.primary_rank) for m in s.metrics]


def metric(name: str) -> Metric | None:
    return next((m for m in _ordered() if m.name == name), None)


def title(name: str) -> str:
    m = metric(name)
    return m.title or name if m is not None else name


def higher_is_better(name: str) -> bool:
    m = metric(name)
    return m is None or m.higher_is_better


def is_binary(name: str) -> bool:
    m = metric(name)
    return m is not None and m.binary


def source(name: str) -> str:
    """The score rows metric `name` is made of."""
    m = metric(name)
    return m.source if m is not None else name


def averaged_metrics(task_type: str) -> list[str]:
    """The metrics the summary averages per model for a task of this type (every one it finds rows of)."""
    return [m.name for s in sorted((s for s in scorers() if task_type in s.types and s.averaged),
                                   key=Scorer.primary_rank) for m in s.metrics]


def primary_metric(task_type: str, present: Collection[str]) -> str:
    """A task's primary metric: the most preferred one with score rows among `present`; where none has, that of
    a scorer which always runs (it will have rows once there are answers)."""
    ranked = sorted((m for m in _ordered(task_type) if m.primary is not None), key=lambda m: m.primary or 0)
    for m in ranked:
        if m.source in present:
            return m.name
    always = {m.name for s in scorers() if s.always and task_type in s.types for m in s.metrics}
    return next((m.name for m in ranked if m.name in always), ranked[-1].name if ranked else "")


def summary_columns() -> list[str]:
    """Metrics shown as extra columns of the terminal summary table, in order."""
    return [m.name for m in _ordered() if m.column]


def _load() -> None:
    """The built-in scorers, then those of installed packages (entry points), once per process."""
    global _loaded
    if _loaded:
        return
    _loaded = True  # first: the modules loaded below register, which comes back here
    try:
        importlib.import_module(BUILTIN)
    except BaseException:
        _loaded = False
        raise
    for ep in metadata.entry_points(group=GROUP):
        try:
            ep.load()
        except Exception as exc:  # noqa: BLE001 - one broken third-party scorer must not take the others down
            log.warning("scorer plugin %s (%s) could not be loaded: %s: %s", ep.name, ep.value,
                        type(exc).__name__, exc)
