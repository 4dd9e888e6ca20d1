"""`run --plan`: what a run would send, cost and take, and what its cases detect, with nothing sent (the scripted
server counts every request it receives, /models included)."""

from __future__ import annotations

import json
import zlib
from pathlib import Path
from typing import Any

from tests.conftest import run_cli
from tests.support.scripted_server import ScriptedServer

from llamacompare.scoring.power import DEFAULT_DISCORDANCE, cases_for, detectable

SUITE = """
name: plan
tasks:
  - id: sentiment
    type: classify
    labels: {Pozitif: [olumlu], Negatif: [olumsuz]}
    template: "Mesaj: {text}\\nDuygu:"
    params: {max_tokens: 8}
    cases:
"""


def _suite(tmp_path: Path, n: int = 120) -> Path:
    cases = "\n".join(f"      - {{id: c{i}, text: 'İstanbul mesajı {i}', label: {'Pozitif' if i % 3 else 'Negatif'}}}"
                      for i in range(n))
    p = tmp_path / "plan.yaml"
    p.write_text(SUITE + cases + "\n", encoding="utf-8")
    return p


def test_plan_sends_nothing_and_prints_cost_time_and_detectable_difference(tmp_path: Path) -> None:
    suite, db = _suite(tmp_path), str(tmp_path / "r.db")
    with ScriptedServer(["alpha", "beta"]) as srv:
        res = run_cli("run", str(suite), "-m", "openai:alpha", "-m", "openai:beta", "--base-url", srv.base_url,
                      "--db", db, "--plan", env={"COLUMNS": "80"})
        assert res.returncode == 0, res.stderr
        assert srv.stats()["total"] == 0
    out = res.stdout
    assert all(len(line) <= 80 for line in out.splitlines()), out
    for word in ("requests", "prompt tok", "output tok", "cost", "time", "detects"):
        assert word in out
    mde = detectable(120, binary=True, spread=DEFAULT_DISCORDANCE)
    assert out.count(f"±{mde:.3f}") >= 2  # one per model row, and the task's line
    assert "alpha" in out and "beta" in out
    assert "unknown" in out  # no price known offline, no stored latency: said, never $0
    assert "assumed discordance" in out


def test_plan_json_detect_and_what_the_store_knows(tmp_path: Path) -> None:
    """After one real run the plan uses the stored answers: their output length, their latency and how often
    the two models disagreed."""
    suite, db = _suite(tmp_path), str(tmp_path / "r.db")
    models = ["-m", "openai:alpha", "-m", "openai:beta"]
    def answer(body: dict[str, Any]) -> str:  # the two models disagree on some cases
        text = json.dumps(body.get("messages") or body.get("prompt"))
        return ("Pozitif", "Negatif", "Olumlu")[zlib.crc32(f"{body['model']}{text}".encode()) % 3]

    with ScriptedServer(["alpha", "beta"], answer=answer, latency=0.01) as srv:
        first = run_cli("run", str(suite), *models, "--base-url", srv.base_url, "--db", db, "--plan", "--json",
                        "--detect", "0.03")
        assert first.returncode == 0, first.stderr
        assert run_cli("run", str(suite), *models, "--base-url", srv.base_url, "--db", db, "--no-progress",
                       "--concurrency", "4").returncode == 0
        asked = srv.stats()["total"]
        second = run_cli("run", str(suite), *models, "--base-url", srv.base_url, "--db", db, "--plan", "--json",
                         "--detect", "0.03", "--repeats", "2")
        assert second.returncode == 0, second.stderr
        assert srv.stats()["total"] == asked  # the plans sent nothing
    before, after = json.loads(first.stdout), json.loads(second.stdout)
    m0 = before["models"][0]
    assert m0["requests"] == 120 and m0["output_tokens"] == 120 * 8 and m0["output_observed"] == 0
    assert m0["prompt_tokens_exact"] is False and m0["cost_usd"] is None and m0["time_s"] is None
    t0 = before["tasks"][0]
    assert t0["cases_needed"] == cases_for(0.03, binary=True, spread=DEFAULT_DISCORDANCE)
    m1 = after["models"][0]
    assert m1["requests"] == 240 and m1["output_observed"] == 120
    assert m1["output_tokens"] < 240 * 8  # one-word answers, not max_tokens
    assert m1["time_s"] is not None and "stored answers" in m1["time_basis"]
    t1 = after["tasks"][0]
    assert "observed on 120 stored paired cases" in t1["spread_basis"]
    assert t1["spread"] != DEFAULT_DISCORDANCE


def test_plan_counts_tokens_with_the_local_models_tokenizer_and_prices_hosted_ones(tmp_path: Path) -> None:
    suite = _suite(tmp_path, 10)
    res = run_cli("run", str(suite), "-m", "local:gemma-3-270m", "-m", "together:meta-llama/Llama-3-8b-chat-hf",
                  "--db", str(tmp_path / "r.db"), "--plan", "--json", env={"TOGETHER_API_KEY": ""})
    assert res.returncode == 0, res.stderr
    local, hosted = json.loads(res.stdout)["models"]
    assert local["prompt_tokens_exact"] is True and local["cost_usd"] == 0.0
    assert hosted["prompt_tokens_exact"] is False
    # the dated table's $0.20 per million tokens, in and out
    assert hosted["cost_usd"] == (hosted["prompt_tokens"] + hosted["output_tokens"]) * 0.20 / 1e6
    assert "price table" in hosted["cost_basis"]


JUDGED = """
name: judged
tasks:
  - id: ozet
    type: generate
    template: "Bu e-postayı özetle: {email}"
    params: {max_tokens: 40}
    scorers: [judge, pairwise, length]
    judge: {model: "openai:judge", rubric: "Özet doğru ve kısa mı?", max_tokens: 30}
    cases:
"""


def test_plan_counts_the_judges_requests_too(tmp_path: Path) -> None:
    """A judged task adds a row for its judge: a verdict per answer, and per two models both ways round."""
    cases = "\n".join(f"      - {{id: e{i}, email: 'Toplantı {i} yarın saat onda, İzmir ofisinde.'}}" for i in range(7))
    suite = tmp_path / "judged.yaml"
    suite.write_text(JUDGED + cases + "\n", encoding="utf-8")
    with ScriptedServer(["alpha", "beta", "gamma", "judge"]) as srv:
        res = run_cli("run", str(suite), "-m", "openai:alpha", "-m", "openai:beta", "-m", "openai:gamma",
                      "--base-url", srv.base_url, "--db", str(tmp_path / "r.db"), "--plan", "--json")
        assert res.returncode == 0, res.stderr
        assert srv.stats()["total"] == 0
    rows = {m["model"]: m for m in json.loads(res.stdout)["models"]}
    judge = rows["judge openai:judge (ozet)"]
    assert judge["requests"] == 7 * 3 + 7 * 3 * 2  # rubric: 3 answers a case; pairwise: 3 pairs x 2 orders
    assert judge["output_tokens"] == judge["requests"] * 30
    assert judge["prompt_tokens"] > judge["requests"] * 40 // 4  # the answers alone are 40 tokens each


def test_plan_time_respects_rate_limits(tmp_path: Path) -> None:
    """A model the suite limits to 60 requests a minute needs at least two minutes for 120 requests, stored
    latency or not; with a token limit the tokens decide."""
    suite = _suite(tmp_path)
    text = suite.read_text("utf-8").replace("name: plan\n", "name: plan\nmodels:\n"
                                            "  - {name: 'openai:alpha', rpm: 60}\n"
                                            "  - {name: 'openai:beta', tpm: 1000}\n")
    suite.write_text(text, encoding="utf-8")
    res = run_cli("run", str(suite), "--base-url", "http://127.0.0.1:9/v1", "--db", str(tmp_path / "r.db"),
                  "--plan", "--json")
    assert res.returncode == 0, res.stderr
    alpha, beta = json.loads(res.stdout)["models"]
    assert alpha["time_s"] == 120.0 and "60 requests/min" in alpha["time_basis"]
    tokens = beta["prompt_tokens"] + beta["output_tokens"]
    assert beta["time_s"] == tokens / 1000 * 60 and "1,000 tokens/min" in beta["time_basis"]


VARIANTS = """
name: variants
tasks:
  - id: duygu
    type: classify
    mode: both
    calibration: content_free
    labels: {Pozitif: [olumlu], Negatif: [olumsuz]}
    prompts:
      - {id: kisa, template: "Mesaj: {text}\\nDuygu:"}
      - {id: uzun, template: "Aşağıdaki mesajın duygusunu tek kelimeyle yazın.\\nMesaj: {text}\\nDuygu:"}
    settings:
      - {id: t0, params: {temperature: 0}}
      - {id: t07, params: {temperature: 0.7}}
    cases:
      - {id: a, text: "Ne iyi bir gün!", label: Pozitif}
      - {id: b, text: "Çok kötü bir film.", label: Negatif}
      - {id: c, text: "İyi ki geldin.", label: Pozitif}
"""


def test_plan_counts_every_prompt_variant_and_setting_as_the_run_sends_them(tmp_path: Path) -> None:
    """2 prompts x 2 settings x 3 cases x 2 modes, and a content-free prompt per prompt x setting: the plan's
    requests are the ones the run then sends, and its prompt tokens grow with the longer prompt."""
    suite, db = tmp_path / "variants.yaml", str(tmp_path / "r.db")
    suite.write_text(VARIANTS, encoding="utf-8")
    with ScriptedServer(["alpha"]) as srv:
        args = ("run", str(suite), "-m", "openai:alpha", "--base-url", srv.base_url, "--db", db)
        res = run_cli(*args, "--plan", "--json")
        assert res.returncode == 0, res.stderr
        planned = json.loads(res.stdout)["models"][0]
        ran = run_cli(*args, "--json")
        assert ran.returncode == 0, ran.stderr
        sent = json.loads(ran.stdout)["outcome"]["sent"]
    assert planned["requests"] == 2 * 2 * 3 * 2 + 2 * 2 == sent
    long_prompt = len("Aşağıdaki mesajın duygusunu tek kelimeyle yazın.\n") // 4
    assert planned["prompt_tokens"] >= 2 * 2 * 3 * 2 * long_prompt // 2
