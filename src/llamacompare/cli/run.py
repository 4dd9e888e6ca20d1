"""`llamacompare run`: a suite of tasks x models, stored as it runs, scored and summarised at the end."""

from __future__ import annotations

import contextlib
import json
import signal
import sys
from typing import TYPE_CHECKING

import click

from llamacompare.cli.options import base_url_option, db_option, prefer_option

if TYPE_CHECKING:
    from llamacompare.models.spec import Api
    from llamacompare.scoring.recommend import Prefer
    from llamacompare.tasks.case import ClassifyMode


@click.command("run")
@click.argument("suite", required=False, default="seed")
@click.option("-m", "--model", "models", multiple=True, help="Model to run (repeat for several); replaces the "
              "suite's list. Default: the seed's five Llama models with TOGETHER_API_KEY, else the bundled model.")
@click.option("--data", default=None, metavar="FILE|hf:NAME[:CONFIG]/SPLIT|hf",
              help="The cases for suites that read a dataset: a CSV/TSV/JSONL file, a Hugging Face Hub dataset "
              "(needs the hf extra; e.g. hf:nyu-mll/glue:sst2/validation), or hf for the one the suite names.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Only the first N cases of each task.")
@click.option("--mode", type=click.Choice(["generate", "logprob", "both"]), default=None,
              help="For classify tasks: parse generated answers, score labels by log-probability, or both.")
@db_option
@click.option("--resume", "resume_id", default=None, metavar="RUN",
              help="Continue an interrupted run as it was planned; --base-url, --concurrency, --fixed-concurrency, "
              "--timeout, --retries, --retry-base and --no-stream given with it replace the run's own (a server that "
              "moved, gentler limits).")
@click.option("--repeats", type=click.IntRange(min=1), default=1, show_default=True,
              help="Ask each case N times (for temperature > 0).")
@click.option("--concurrency", type=click.IntRange(min=1), default=8, show_default=True,
              help="Requests in flight per model at most, unless the suite sets it (local models: what their batch "
              "computes at once). A hosted model starts there, halves on 429/503 and grows back on answers.")
@click.option("--fixed-concurrency", is_flag=True,
              help="Keep --concurrency requests in flight whatever the server answers (no adapting to 429/503); a "
              "suite's model may say fixed_concurrency: true or false itself.")
@click.option("--timeout", "timeout_s", type=click.FloatRange(min=0.1), default=120.0, show_default=True)
@click.option("--retries", type=click.IntRange(min=0), default=4, show_default=True,
              help="Retries per request on 429, 5xx, timeouts and dropped connections.")
@click.option("--retry-base", type=click.FloatRange(min=0.0), default=1.0, show_default=True,
              help="First backoff in seconds (doubles each retry, with jitter; Retry-After wins).")
@base_url_option
@click.option("--api", type=click.Choice(["chat", "completions"]), default=None,
              help="How models are sent conversations: chat (messages; the server applies its chat template) or "
              "completions (plain text on /completions, as a base model reads it). Default: as the server says "
              "(llama-server: rendered here with the model's own template, plain text for a base model).")
@prefer_option
@click.option("--no-stream", is_flag=True,
              help="Ask for whole answers instead of streams: less work per request, but no time to first token.")
@click.option("--until-decided", is_flag=True,
              help="Ask the cases in a seeded random order and stop asking a model once an anytime-valid test "
              "decides it: worse than another model, or (with --margin) within the margin of every other.")
@click.option("--margin", type=click.FloatRange(min=0.0, max=1.0, max_open=True), default=0.0, show_default=True,
              help="Points of the primary metric (0.02 = 2 points) a model may trail the best and still be "
              "recommended if cheaper (faster); with --until-decided also the margin that stops a model.")
@click.option("--seed", type=int, default=0, show_default=True, help="The case order of --until-decided.")
@click.option("--plan", "plan_only", is_flag=True,
              help="Send nothing: print per model the requests, tokens, cost and time the run would take, and the "
              "smallest difference its cases detect with 80%% power.")
@click.option("--detect", type=click.FloatRange(min=0.0, min_open=True, max=1.0), default=None, metavar="DIFF",
              help="With --plan: the cases needed to detect a difference of DIFF (0.03 = 3 points).")
@click.option("--batch", is_flag=True,
              help="Send each hosted model's cases as one batch through its provider's batch API (OpenAI, Together, "
              "Anthropic): about half the price, answers within the provider's window (24 h). A suite model's "
              "`batch: true` asks it for that model alone. An interrupted run re-attaches with --resume.")
@click.option("--poll", "poll_s", type=click.FloatRange(min=0.01), default=30.0, show_default=True,
              metavar="SECONDS", help="With --batch: seconds between a batch's first polls (then less often, up to "
              "ten times as long).")
@click.option("--missing", type=click.Choice(["batch", "live"]), default="batch", show_default=True,
              help="With --resume: the cases a batch ended without (expired, cancelled, failed) go as a new batch, "
              "or live.")
@click.option("--wave", type=click.IntRange(min=1), default=100, show_default=True, metavar="CASES",
              help="With --batch and --until-decided: the cases of each batch; the race hears a wave before the next "
              "is sent, and a model it has decided gets no more.")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
@click.option("--json", "as_json", is_flag=True, help="Print the run's summary as JSON.")
def command(suite: str, models: tuple[str, ...], data: str | None, limit: int | None, mode: ClassifyMode | None,
            db_path: str | None,
            resume_id: str | None, repeats: int, concurrency: int, fixed_concurrency: bool, timeout_s: float,
            retries: int,
            retry_base: float, base_url: str | None, api: Api | None, prefer: Prefer, no_stream: bool,
            until_decided: bool,
            margin: float, seed: int, plan_only: bool, detect: float | None, batch: bool, poll_s: float,
            missing: str, wave: int, no_progress: bool, as_json: bool) -> None:
    """Run SUITE (a built-in name such as seed, sst2, tr_polarity, samsum, xsum, or a YAML file; default: seed)."""
    from dataclasses import asdict  # start-up: `llamacompare CMD --help` loads this module, not the command's work

    from llamacompare import pipeline  # start-up: `llamacompare CMD --help` loads this module, not the command's work

    # start-up: `llamacompare CMD --help` loads this module, not the command's work
    from llamacompare.runner import RunOptions

    # start-up: `llamacompare CMD --help` loads this module, not the command's work
    from llamacompare.store import Store

    store = Store(db_path)
    if resume_id:
        given = {"suite": suite, "models": list(models), "data": data, "limit": limit, "mode": mode,
                 "repeats": repeats, "until_decided": until_decided, "margin": margin, "seed": seed,
                 "default_concurrency": concurrency, "fixed_concurrency": fixed_concurrency, "timeout_s": timeout_s,
                 "retry_attempts": retries + 1, "retry_base_s": retry_base, "base_url": base_url,
                 "stream": not no_stream, "api": api, "batch": batch, "poll_s": poll_s, "missing": missing,
                 "wave": wave}
        plan = pipeline.resume_plan(store, resume_id, {k: v for k, v in given.items() if k in _set_by_user()})
    else:
        options = RunOptions(repeats=repeats, timeout_s=timeout_s, retry_attempts=retries + 1,
                             retry_base_s=retry_base, default_concurrency=concurrency,
                             fixed_concurrency=fixed_concurrency, base_url=base_url, api=api,
                             stream=not no_stream, until_decided=until_decided, margin=margin, seed=seed,
                             batch=batch, poll_s=poll_s, missing=missing, wave=wave)
        plan = pipeline.plan_run(suite, list(models) or None, options, data=data, limit=limit, mode=mode)
    if plan_only or detect is not None:
        est = pipeline.estimate_run(plan, store, detect=detect)
        if as_json:
            click.echo(json.dumps(est.to_json(), ensure_ascii=False, indent=2))
        else:
            # start-up: `llamacompare CMD --help` loads this module, not the command's work
            from llamacompare.cli.plan import print_plan

            print_plan(est)
        return
    progress = None
    if not no_progress and not as_json:
        # start-up: `llamacompare CMD --help` loads this module, not the command's work
        from llamacompare.runner.progress import RichProgress

        progress = RichProgress()
    _sigterm_as_interrupt()
    try:  # the side-by-side view shows the first 50 cases; `export` has them all
        result = pipeline.run_plan(plan, store, resume=bool(resume_id), progress=progress, prefer=prefer,
                                   max_cases=50)
    except KeyboardInterrupt:
        click.echo(f"interrupted: everything answered so far is saved. Resume with: llamacompare run --resume "
                   f"{plan.run_id}" + (f" --db {db_path}" if db_path else ""), err=True)
        sys.exit(130)
    if result.judge_failed:
        click.echo(f"judge: {result.judge_failed} answer(s) could not be judged (rerun to retry)", err=True)
    if as_json:
        out = {"outcome": asdict(result.outcome), "report": result.report.to_json()}
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        # start-up: `llamacompare CMD --help` loads this module, not the command's work
        from llamacompare.cli.summary import print_outcome, print_report

        print_report(result.report, side_by_side_max=12)
        print_outcome(result.outcome, db_path)
    if result.outcome.failed:
        sys.exit(1)


#: the plan's names for the command's parameters, where they differ
_PLAN_NAMES = {"concurrency": "default_concurrency", "retries": "retry_attempts",
               "retry_base": "retry_base_s", "no_stream": "stream"}


def _set_by_user() -> set[str]:
    """The plan names of the options this command line (or their environment variables) set, not their defaults."""
    # start-up: `llamacompare CMD --help` loads this module, not the command's work
    from click.core import ParameterSource

    ctx = click.get_current_context()
    return {_PLAN_NAMES.get(name, name) for name in ctx.params
            if ctx.get_parameter_source(name) in (ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT)}


def _sigterm_as_interrupt() -> None:
    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    with contextlib.suppress(ValueError):  # not the main thread (e.g. a notebook helper thread)
        signal.signal(signal.SIGTERM, handler)
