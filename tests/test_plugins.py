"""Providers are plugins: the built-in ones come from entry points, and a provider in another installed package
is listed and runs a suite with no change to llamacompare."""

from __future__ import annotations

import json
import re
import textwrap
from importlib import metadata
from pathlib import Path

from tests.conftest import REPO, run_cli

PLUGIN = '''
"""A provider from outside llamacompare: sentiment by keyword rules, in-process."""

from llamacompare.models import Capabilities, ModelSpec, Provider, ProviderPlugin, Request, Response

POSITIVE = ("harika", "güzel", "sevdim", "great")
NEGATIVE = ("berbat", "kötü", "sıkıcı", "awful")


def _verdict(text: str) -> str:
    last = text.lower().rsplit("mesaj:", 1)[-1]
    return "Pozitif" if any(w in last for w in POSITIVE) else "Negatif"


class KeywordProvider(Provider):
    capabilities = Capabilities(chat=False, label_methods=("in_process",), streaming=False, free=True)

    async def generate(self, model: str, request: Request) -> Response:
        text = request.prompt or ""
        return Response(model=model, text=_verdict(text), finish_reason="stop", prompt_tokens=len(text.split()),
                        completion_tokens=1, cost_usd=0.0, cost_source="keyword rules", request=request.to_dict())

    async def label_logprobs(self, model, prompt, labels, *, prefix=None):
        best = _verdict(prompt)
        return {label: (-0.1 if label.strip() == best else -3.0) for label in labels}


class KeywordPlugin(ProviderPlugin):
    description = "sentiment by keyword rules (from the lc-keyword package)"

    def resolve(self, rest, *, base_url=None):
        return ModelSpec(self.name, rest, prompt_format="text")

    def open(self, spec, *, api_key=None, timeout_s=120.0, stream=True):
        return KeywordProvider()

    def listing(self):
        return [f"{self.name}:sentiment  {self.description}"]


plugin = KeywordPlugin()
'''

SUITE = """name: plugin
tasks:
  - id: duygu
    type: classify
    mode: both
    labels: {Pozitif: [Olumlu], Negatif: [Olumsuz]}
    template: "Mesaj: {text}"
    cases:
      - {id: a, text: "Harika bir gün, çok sevdim!", label: Pozitif}
      - {id: b, text: "Berbat ve sıkıcı bir film.", label: Negatif}
      - {id: c, text: "Kötü bir hizmet.", label: Negatif}
"""


def install(site: Path) -> dict[str, str]:
    """The package as an installer leaves it: its module and a dist-info with METADATA and entry_points.txt, in a
    directory on the path of the process that runs llamacompare."""
    (site / "lc_keyword").mkdir(parents=True)
    (site / "lc_keyword" / "__init__.py").write_text(textwrap.dedent(PLUGIN), encoding="utf-8")
    info = site / "lc_keyword-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: lc-keyword\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[llamacompare.providers]\nkw = lc_keyword:plugin\n")
    (info / "RECORD").write_text("")
    return {"PYTHONPATH": f"{site}:{REPO}"}


def test_the_built_in_providers_are_entry_points() -> None:
    names = {ep.name for ep in metadata.entry_points(group="llamacompare.providers")}
    assert {"together", "openai", "vllm", "ollama", "local"} <= names


def test_a_provider_from_another_package_is_listed_and_runs_a_suite(tmp_path: Path) -> None:
    env = install(tmp_path / "site")
    listed = run_cli("models", env=env)
    assert listed.returncode == 0, listed.stderr
    assert "kw:sentiment  sentiment by keyword rules" in listed.stdout
    assert "local:gemma-3-270m" in listed.stdout  # the built-in ones are still there

    suite = tmp_path / "plugin.yaml"
    suite.write_text(SUITE, encoding="utf-8")
    db = tmp_path / "p.db"
    res = run_cli("run", str(suite), "-m", "kw:sentiment", "--db", str(db), "--no-progress", env=env)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr
    exported = run_cli("export", "latest", "--db", str(db), env=env)
    rows = [json.loads(line) for line in exported.stdout.splitlines() if line.strip()]
    assert len(rows) == 6 and {r["mode"] for r in rows} == {"generate", "logprob"}
    assert all(r["status"] == "ok" and r["model"] == "kw:sentiment" for r in rows)
    assert all(r["answer"] == r["reference"] for r in rows)
    assert all(r["cost_usd"] == 0.0 for r in rows)


def test_without_the_package_the_prefix_is_unknown(tmp_path: Path) -> None:
    res = run_cli("run", "seed", "-m", "kw:sentiment", "--db", str(tmp_path / "x.db"))
    assert res.returncode == 2 and "kw:sentiment" in res.stderr and "Traceback" not in res.stderr


def test_no_provider_class_or_name_test_outside_models() -> None:
    """The runner, analysis, CLI, prompts and reports ask a provider what it can do; they never test which one
    it is."""
    pattern = re.compile(
        r"isinstance\([^)]*(Provider|LocalProvider|OpenAICompat)"
        r"|\.provider\s*[!=]=|provider\s+in\s+\(|\.model\.n_ctx"
        r"|from llamacompare\.models\.(local|openai_compat|builtin)\b|import (LocalProvider|OpenAICompatProvider)"
    )
    offenders = []
    for path in (REPO / "src" / "llamacompare").rglob("*.py"):
        if "models" in path.relative_to(REPO / "src" / "llamacompare").parts[:1]:
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if pattern.search(line):
                offenders.append(f"{path.relative_to(REPO)}:{n}: {line.strip()}")
    assert offenders == []
