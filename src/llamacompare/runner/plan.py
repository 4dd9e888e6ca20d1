"""A RunPlan: which suite, which models with which limits, how many repeats. Stored with the run so that
`--resume` continues exactly the same work."""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from llamacompare.errors import UsageError
from llamacompare.models.catalog import BUNDLED_MODELS, SEED_MODELS
from llamacompare.models.registry import resolve
from llamacompare.models.spec import Api, ModelSpec
from llamacompare.settings import get_env
from llamacompare.store.rows import RunRow
from llamacompare.tasks.case import ClassifyMode
from llamacompare.tasks.loaded import LoadedSuite
from llamacompare.tasks.loader import load_suite
from llamacompare.tasks.schema import ModelConfig, Suite


@dataclass(slots=True)
class RunOptions:
    repeats: int = 1
    timeout_s: float = 120.0
    retry_attempts: int = 5
    retry_base_s: float = 1.0
    default_concurrency: int = 8
    #: `--fixed-concurrency`: every model keeps its concurrency in flight; otherwise a hosted model's adapts (AIMD,
    #: `runner/concurrency.py`) up to it
    fixed_concurrency: bool = False
    stream: bool = True
    base_url: str | None = None
    #: `--api`: how every model without its own `api:` is sent conversations (chat or completions); None: as its
    #: server says
    api: Api | None = None
    #: `run --until-decided`: cases in a seeded random order, a model stopped once its race decides it
    until_decided: bool = False
    margin: float = 0.0
    seed: int = 0
    #: `run --batch`: every model whose provider has a batch API gets its cases as batches (a suite model's
    #: `batch: true` asks the same for that model alone)
    batch: bool = False
    #: seconds between a batch's first polls (the wait grows from there, up to ten times as long)
    poll_s: float = 30.0
    #: what a batch that ended without some answers (expired, cancelled, failed lines) leaves to the resume:
    #: "batch" sends the missing cases as a new batch, "live" as live requests
    missing: str = "batch"
    #: with --until-decided: the cases of each batch wave (the race hears a wave before the next is made)
    wave: int = 100


@dataclass(slots=True)
class PlannedModel:
    config: ModelConfig
    spec: ModelSpec

    @property
    def name(self) -> str:
        return self.config.label or self.spec.name

    def batched(self, options: RunOptions) -> bool:
        """Whether this model's cases are asked for as batches (`--batch`, or its own `batch: true`)."""
        return bool(self.config.batch if self.config.batch is not None else options.batch)


@dataclass(slots=True)
class RunPlan:
    loaded: LoadedSuite  # with the command line's --limit/--mode applied (a copy)
    suite_ref: str  # a built-in name or the path it was loaded from
    data: str | None
    models: list[PlannedModel]
    options: RunOptions = field(default_factory=RunOptions)
    run_id: str = ""
    limit: int | None = None
    mode: ClassifyMode | None = None

    @property
    def suite(self) -> Suite:
        """The suite's configuration, as this run applies it."""
        return self.loaded.suite

    def config(self) -> dict[str, Any]:
        """What is stored with the run (no secrets: keys are never part of a plan)."""
        return {
            "suite_ref": self.suite_ref,
            "data": self.data,
            "limit": self.limit,
            "mode": self.mode,
            "models": [m.config.model_dump(exclude_none=True) for m in self.models],
            "options": asdict(self.options),
            "suite": self.suite.model_dump(exclude_none=True),
        }


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(2)


def _flag_model(name: str) -> ModelConfig:
    """A model named on the command line (`-m`), checked as a suite's would be, its error in one line."""
    from pydantic import ValidationError  # pydantic: only where a suite is validated

    try:
        return ModelConfig(name=name)
    except ValidationError as exc:
        raise UsageError(f"-m {name!r}: {exc.errors()[0]['msg']}") from None


def make_plan(
    suite: LoadedSuite,
    suite_ref: str,
    model_names: list[str] | None,
    options: RunOptions,
    *,
    data: str | None = None,
    limit: int | None = None,
    mode: ClassifyMode | None = None,
) -> RunPlan:
    """Models from the flags replace the suite's list; with neither, the models at hand (see default_models)."""
    if model_names:
        # a model the suite lists keeps its settings (concurrency, limits, parameters)
        listed = {m.name: m for m in suite.models}
        configs = [listed.get(n) or _flag_model(n) for n in model_names]
    elif suite.models:
        configs = list(suite.models)
    else:
        configs = [ModelConfig(name=n) for n in default_models()]
    planned = []
    seen: set[str] = set()
    for cfg in configs:
        spec = resolve(cfg.name, base_url=options.base_url, label=cfg.label, api=cfg.api or options.api)
        if spec.display in seen:
            raise UsageError(f"model {spec.display!r} is listed twice; give each a different label")
        seen.add(spec.display)
        planned.append(PlannedModel(cfg, spec))
    return RunPlan(suite.with_overrides(limit, mode), suite_ref, data, planned, options, new_run_id(), limit, mode)


def default_models() -> list[str]:
    """The seed's five Llama models on Together when a key is set; otherwise the two bundled local models, base and
    instruct (a missing one fails when it is opened, with the command that installs it)."""

    return list(SEED_MODELS) if get_env("TOGETHER_API_KEY") else [f"local:{n}" for n in BUNDLED_MODELS]


#: what a resumed run may do differently: how it reaches its models, not what it asks them
HOW = frozenset({"default_concurrency", "fixed_concurrency", "timeout_s", "retry_attempts", "retry_base_s",
                 "base_url", "stream", "batch", "poll_s", "missing", "wave"})
#: the flags that say what a run asks, with where its stored config keeps them
WHAT = {"suite": ("suite_ref",), "models": ("models",), "data": ("data",), "limit": ("limit",), "mode": ("mode",),
        "repeats": ("options", "repeats"), "until_decided": ("options", "until_decided"),
        "margin": ("options", "margin"), "seed": ("options", "seed"), "api": ("options", "api")}


def plan_from_run(run_row: RunRow, given: dict[str, Any] | None = None) -> RunPlan:
    """Rebuild the plan of a stored run, for --resume. `given`: the options the command line set; those in HOW
    replace the stored ones (a server that moved, gentler limits after 429s), those in WHAT must match the run."""
    cfg = run_row.config
    given = given or {}
    _check_unchanged(run_row.id, cfg, {k: v for k, v in given.items() if k not in HOW})
    ref, data = cfg["suite_ref"], cfg.get("data")
    suite = load_suite(ref, data=data).with_overrides(cfg.get("limit"), cfg.get("mode"))
    stored = Suite.model_validate(cfg["suite"])
    if stored.model_dump(exclude_none=True) != suite.suite.model_dump(exclude_none=True):
        raise UsageError(
            f"suite {ref} changed since run {run_row.id} started; start a new run (cached answers are reused)"
        )
    options = RunOptions(**{**cfg["options"], **{k: v for k, v in given.items() if k in HOW}})
    models = [ModelConfig.model_validate(m) for m in cfg["models"]]
    planned = [PlannedModel(m, resolve(m.name, base_url=options.base_url, label=m.label, api=m.api or options.api))
               for m in models]
    return RunPlan(suite, ref, data, planned, options, run_row.id, cfg.get("limit"), cfg.get("mode"))


def _check_unchanged(run_id: str, cfg: dict[str, Any], given: dict[str, Any]) -> None:
    """A resumed run asks what it asked before: a flag that would change that is an error, not ignored."""
    for flag, value in given.items():
        where = WHAT.get(flag)
        if where is None:
            raise ValueError(f"unknown resume option {flag}")
        stored: Any = cfg
        for key in where:
            stored = stored.get(key) if isinstance(stored, dict) else None
        if flag == "models":
            stored = [m["name"] for m in stored or []]
            value = list(value)
        if value != stored and not (flag in ("suite", "data") and _same_file(value, stored)):
            option = "SUITE" if flag == "suite" else "-m" if flag == "models" else "--" + flag.replace("_", "-")
            raise UsageError(
                f"--resume {run_id}: the run was planned with {option} {_shown(stored)}, not {_shown(value)}; a "
                f"resumed run asks what it asked before (start a new run instead: answers already stored are reused)"
            )


def _same_file(a: Any, b: Any) -> bool:

    try:
        return isinstance(a, str) and isinstance(b, str) and Path(a).is_file() and Path(a).samefile(b)
    except OSError:
        return False


def _shown(value: Any) -> str:
    if isinstance(value, list):
        return " ".join(map(str, value)) or "(not set)"
    return "(not set)" if value is None else str(value).lower() if isinstance(value, bool) else str(value)
