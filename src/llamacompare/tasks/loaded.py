"""A suite as loading found it: the configuration (`Suite`, what the file says) beside what loading learned
(the file it came from, the YAML lines for errors, where each task's cases are, their counts).

`Suite` stays pure configuration, so it can be stored with a run, compared and copied; everything that depends on
the machine it was loaded on lives here. `--limit`/`--mode` make a new LoadedSuite over a copy
(`with_overrides`), and the loaded one stays as its file says.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from llamacompare.tasks.case import Case, ClassifyMode
from llamacompare.tasks.checks import CheckDefinitionError
from llamacompare.tasks.datasets import CaseSource, SuiteValidation, iter_cases, resolve_source, validate_task
from llamacompare.tasks.errors import Loc, SuiteError, format_loc
from llamacompare.tasks.schema import ModelConfig, ParamsSpec, Suite, Task


@dataclass(slots=True)
class LoadedSuite:
    """A `Suite` with what loading learned about it. Reads like the suite for its configuration (`tasks`,
    `models`, `name`, `task(id)`)."""

    suite: Suite
    path: Path | None = None  # the suite file, when loaded from one
    locate: Callable[[Loc], int | None] | None = None  # YAML line of a field, for errors
    sources: dict[str, CaseSource] = field(default_factory=dict)  # task id -> where its cases come from
    validation: SuiteValidation | None = None  # counts and warnings, once every case was read (`validate`)
    base_dir: Path | None = None  # where files the suite names (datasets, check files) are relative to

    @classmethod
    def of(cls, suite: Suite, *, base_dir: Path | None = None) -> LoadedSuite:
        """A suite built in code (no file): datasets are looked for relative to `base_dir`, then the usual
        places (see `tasks.datasets.dataset_candidates`)."""
        loaded = cls(suite, base_dir=base_dir)
        loaded.read_schema_files()
        for task in suite.tasks:
            if task.dataset is not None:
                loaded.sources[task.id] = resolve_source(task, suite_dir=base_dir, error=loaded.task_error(task))
        return loaded

    # -- the configuration, read through ------------------------------------------------------------------
    @property
    def name(self) -> str | None:
        return self.suite.name

    @property
    def tasks(self) -> list[Task]:
        return self.suite.tasks

    @property
    def models(self) -> list[ModelConfig]:
        return self.suite.models

    def task(self, task_id: str) -> Task:
        return self.suite.task(task_id)

    # -- what loading learned -----------------------------------------------------------------------------
    def read_schema_files(self) -> None:
        """Read the schema file a `response_format` names (relative to the suite), before any request: its content
        is sent, and is part of each request's cache key. A missing or bad file is a SuiteError at its field."""
        specs: list[tuple[Loc, ParamsSpec | None]] = [(("models", i, "params"), m.params)
                                                      for i, m in enumerate(self.suite.models)]
        for i, task in enumerate(self.suite.tasks):
            specs.append((("tasks", i, "params"), task.params))
            specs += [(("tasks", i, "settings", j, "params"), st.params) for j, st in enumerate(task.settings or ())]
        for loc, spec in specs:
            fmt = spec.response_format if spec is not None else None
            if fmt is not None and fmt.json_schema is not None:
                try:
                    fmt.json_schema.load(self.base_dir)
                except CheckDefinitionError as e:
                    raise self.error((*loc, "response_format", "json_schema", "schema"), e.message) from None

    def source(self, task: Task | str) -> CaseSource | None:
        """Where the task's cases come from (None: inline cases)."""
        return self.sources.get(task if isinstance(task, str) else task.id)

    def error(self, loc: Loc, message: str) -> SuiteError:
        """A SuiteError pointing at `loc` in the suite file (with its line where known)."""
        line = self.locate(loc) if self.locate else None
        return SuiteError(message, path=self.path, line=line, field=format_loc(loc) or None)

    def task_error(self, task: Task) -> Callable[[Loc, str], SuiteError]:
        """Errors about a field of `task`, located in the suite file."""
        index = next(i for i, t in enumerate(self.suite.tasks) if t is task or t.id == task.id)
        return lambda loc, message: self.error(("tasks", index, *loc), message)

    def cases(self, task: Task | str) -> Iterator[Case]:
        """Stream the task's cases (inline or from its source), checked as they are read."""
        t = self.task(task) if isinstance(task, str) else task
        return iter_cases(t, source=self.source(t), error=self.task_error(t))

    def validate(self) -> SuiteValidation:
        """Read every case of every task once (before any request): raise on the first bad one, else keep and
        return the counts and warnings."""
        self.validation = SuiteValidation([validate_task(t, source=self.source(t), error=self.task_error(t),
                                            base_dir=self.base_dir) for t in self.suite.tasks])
        return self.validation

    def counts(self) -> dict[str, int]:
        """Usable cases per task id (reads the data once if the suite was not validated)."""
        return (self.validation or self.validate()).counts()

    def with_overrides(self, limit: int | None, mode: ClassifyMode | None) -> LoadedSuite:
        """The suite with the command line's overrides, applied the same way when a run starts and when it
        resumes. A copy: this one stays as its file says (a notebook may plan it again with other overrides)."""
        if not limit and not mode:
            return self
        suite = self.suite.model_copy(deep=True)
        for task in suite.tasks:
            if limit:
                if task.dataset is not None:
                    task.dataset.limit = min(limit, task.dataset.limit or limit)
                elif task.cases is not None:
                    task.cases = task.cases[:limit]
            if mode and task.type == "classify":
                task.mode = mode
        # the counts were the full suite's: the limited copy counts again
        return replace(self, suite=suite, sources=dict(self.sources), validation=None)

