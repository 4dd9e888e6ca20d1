"""tool_call tasks: the suite's checks (FILE:LINE, exit 2, nothing sent), the scorer's metrics and reasons, and a
whole run against the scripted OpenAI-compatible server answering in OpenAI's `tool_calls` format, read back in the
terminal, `show --json`, the export and the HTML report.

The server's tool-call answers (tests/support/openai_shapes.py) follow openai-python's types:
src/openai/types/chat/chat_completion_message.py (`content` None beside `tool_calls`),
chat_completion_message_tool_call.py (`{id, type: "function", function: {name, arguments: str}}`) and, streamed,
chat_completion_chunk.py (`ChoiceDeltaToolCall {index, id, type, function: {name, arguments}}`)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import run_cli
from tests.support.openai_shapes import TOOL_CALLS
from tests.support.scripted_server import ScriptedServer

from llamacompare.prompts.tool_format import parse_calls, tools_prompt
from llamacompare.scoring.tool_calls import score_calls
from llamacompare.tasks.loader import load_suite
from llamacompare.tasks.tools import parse_tools
from llamacompare.toolcall import ExpectedCall, ToolCall, dump_expected

WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "Weather for a city on a day.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"},
                                                    "day": {"type": "string", "enum": ["today", "tomorrow"]}},
                   "required": ["city", "day"]}}}
TIME = {"type": "function", "function": {
    "name": "get_time", "description": "Local time in a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}
TOOLS = parse_tools([WEATHER, TIME])
IST = dump_expected([ExpectedCall("get_weather", {"city": "İstanbul", "day": "tomorrow"})])


def _values(calls: list[ToolCall], reference: str = IST, fold: bool = False) -> dict[str, Any]:
    return {k: (None if v is None else (v.value, v.reason)) for k, v in
            score_calls(calls, reference, TOOLS, fold=fold).items()}


def test_scores_and_reasons() -> None:
    right = ToolCall("get_weather", '{"day": "tomorrow", "city": "İstanbul"}')  # key order does not matter
    assert _values([right]) == {"tool_call": (1.0, ""), "tool_name": (1.0, ""), "tool_args_valid": (1.0, "")}
    wrong_fn = _values([ToolCall("get_time", '{"city": "İstanbul"}')])
    assert wrong_fn["tool_call"] == (0.0, "called get_time, expected get_weather")
    assert wrong_fn["tool_name"] == (0.0, "called get_time, expected get_weather")
    ascii_i = ToolCall("get_weather", '{"city": "Istanbul", "day": "tomorrow"}')
    assert _values([ascii_i])["tool_call"] == (0.0, "city: 'Istanbul' ≠ 'İstanbul'")
    assert _values([ascii_i])["tool_args_valid"] == (1.0, "")
    # the task may ask for Turkish-aware folding: İSTANBUL, istanbul and Istanbul are the city's name
    assert _values([ToolCall("get_weather", '{"city": "İSTANBUL", "day": "tomorrow"}')], fold=True)["tool_call"] \
        == (1.0, "")
    missing = _values([ToolCall("get_weather", '{"city": "İstanbul"}')])
    assert missing["tool_call"] == (0.0, "missing day") and missing["tool_args_valid"] == (0.0, "missing required day")
    broken = _values([ToolCall("get_weather", '{"city": "İstanbul", "day": ')])
    assert broken["tool_call"][0] == 0.0 and broken["tool_call"][1].startswith("arguments are not JSON")
    assert broken["tool_args_valid"][0] == 0.0
    assert _values([]) == {"tool_call": (0.0, "no call, expected get_weather"),
                           "tool_name": (0.0, "no call, expected get_weather"), "tool_args_valid": None}
    # no call is right: no call scores 1, any call 0
    assert _values([], "[]")["tool_call"] == (1.0, "")
    assert _values([right], "[]")["tool_name"] == (0.0, "called get_weather, expected no call")
    # numbers by value, whatever the JSON type the model chose for them
    money = dump_expected([ExpectedCall("get_time", {"city": "1"})])
    assert _values([ToolCall("get_time", '{"city": 1}')], money)["tool_call"] == (1.0, "")


def test_calls_read_from_text() -> None:
    # Qwen2.5's format (its chat template's tools block): one block per call, an unclosed last one too
    text = ('<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris", "day": "today"}}\n</tool_call>\n'
            '<tool_call>\n{"name": "get_time", "arguments": {"city": "Rome"}')
    calls = parse_calls(text)
    assert [(c.name, json.loads(c.arguments)) for c in calls] == [
        ("get_weather", {"city": "Paris", "day": "today"}), ("get_time", {"city": "Rome"})]
    broken = parse_calls('<tool_call>{"name": "get_time", "arguments": {"city": "Rome",}}</tool_call>')
    assert broken[0].name == "get_time" and broken[0].parsed()[1] is not None
    assert parse_calls("Merhaba! Size nasıl yardımcı olabilirim?") == ()
    assert parse_calls('{"name": "get_time", "parameters": {"city": "Oslo"}}')[0].name == "get_time"
    assert '"name": "get_weather"' in tools_prompt(TOOLS) and "<tool_call>" in tools_prompt(TOOLS)


SUITE = """\
name: araclar
tasks:
  - id: hava
    type: tool_call
    tools: TOOLS
    cases:
      - id: right
        text: "İstanbul'da yarın hava nasıl?"
        expected_call: {name: get_weather, arguments: {city: İstanbul, day: tomorrow}}
      - id: wrong-fn
        text: "Ankara'da yarın hava?"
        expected_call: {name: get_weather, arguments: {city: Ankara, day: tomorrow}}
      - id: wrong-arg
        text: "Yarın İzmir'de hava?"
        expected_call: {name: get_weather, arguments: {city: İzmir, day: tomorrow}}
      - id: none
        text: "Merhaba!"
        expected_call: null
      - id: malformed
        text: "Bursa'da bugün hava?"
        expected_call: {name: get_weather, arguments: {city: Bursa, day: today}}
"""

# what the scripted model calls, per case (the user's text picks it)
CALLS = {
    "İstanbul'da": [{"name": "get_weather", "arguments": '{"city": "İstanbul", "day": "tomorrow"}'}],
    "Ankara'da": [{"name": "get_time", "arguments": '{"city": "Ankara"}'}],
    "İzmir'de": [{"name": "get_weather", "arguments": '{"city": "Izmir", "day": "tomorrow"}'}],
    "Bursa'da": [{"name": "get_weather", "arguments": '{"city": "Bursa", "day": '}],
}


def _answer(body: dict[str, Any]) -> str:
    text = json.dumps(body.get("messages"), ensure_ascii=False)
    assert [t["function"]["name"] for t in body["tools"]] == ["get_weather", "get_time"]
    for key, calls in CALLS.items():
        if key in text:
            return TOOL_CALLS + json.dumps(calls)
    return "Merhaba! Size nasıl yardımcı olabilirim?"


def _suite(tmp_path: Path, text: str = SUITE, tools: Any = None) -> Path:
    (tmp_path / "tools.json").write_text(json.dumps(tools or [WEATHER, TIME], indent=2), encoding="utf-8")
    path = tmp_path / "s.yaml"
    path.write_text(text.replace("TOOLS", "tools.json"), encoding="utf-8")
    return path


@pytest.mark.parametrize("stream", [True, False])
def test_scripted_server_tool_calls_in_every_view(tmp_path: Path, stream: bool, browser: Any) -> None:
    suite = _suite(tmp_path)
    db = tmp_path / "r.db"
    with ScriptedServer(["alpha"], answer=_answer) as srv:
        res = run_cli("run", str(suite), "-m", "openai:alpha", "--base-url", srv.base_url, "--db", str(db),
                      "--no-progress", *([] if stream else ["--no-stream"]))
        assert res.returncode == 0, res.stderr
        assert sum(r.path.endswith("chat/completions") for r in srv.requests) == 5
    # the terminal: the primary metric with its interval; 2 right of 5 (the call, and rightly none)
    assert "right call" in res.stdout and "0.40 [" in res.stdout, res.stdout
    assert "right function" in res.stdout and "0.80 [" in res.stdout and "valid arguments" in res.stdout
    # rescoring reads the calls and the tools from the store (the tools as each request carried them)
    rescored = run_cli("rescore", "--db", str(db))
    assert rescored.returncode == 0, rescored.stderr
    report = json.loads(run_cli("show", "--db", str(db), "--json").stdout)
    report = report.get("report", report)
    (task,) = report["tasks"]
    metrics = task["models"][0]["metrics"]
    assert task["primary_metric"] == "tool_call"
    assert metrics["tool_call"]["value"] == pytest.approx(0.4) and metrics["tool_call"]["lo"] is not None
    assert metrics["tool_name"]["value"] == pytest.approx(0.8)
    assert metrics["tool_args_valid"]["value"] == pytest.approx(0.75)  # of the 4 answers with a call
    answers = {c["id"]: c["answers"]["openai:alpha"] for c in report["cases"]}
    assert {k: (a["verdict"], a["reason"]) for k, a in answers.items()} == {
        "right": ("right", None),
        "wrong-fn": ("wrong function", "called get_time, expected get_weather"),
        "wrong-arg": ("wrong arguments", "city: 'Izmir' ≠ 'İzmir'"),
        "none": ("right", None),
        "malformed": ("wrong arguments", answers["malformed"]["reason"]),
    }
    assert answers["malformed"]["reason"].startswith("arguments are not JSON")
    right = [{"name": "get_weather", "arguments": '{"city": "İstanbul", "day": "tomorrow"}'}]
    assert answers["right"]["calls"] == right
    assert answers["none"]["calls"] == [] and answers["none"]["text"].startswith("Merhaba")
    case = next(c for c in report["cases"] if c["id"] == "right")
    assert case["expected_calls"] == right

    exported = [json.loads(line) for line in
                run_cli("export", "--db", str(db), "--format", "jsonl").stdout.splitlines()]
    by_case = {r["case"]: r for r in exported}
    assert by_case["wrong-fn"]["tool_calls"][0]["name"] == "get_time"
    assert by_case["wrong-fn"]["tool_calls"][0]["id"].startswith("call_")
    assert by_case["malformed"]["tool_calls"][0]["arguments"] == '{"city": "Bursa", "day": '
    assert by_case["wrong-arg"]["scores"]["tool_call"] == 0.0
    assert by_case["wrong-arg"]["tool_reasons"]["tool_call"] == "city: 'Izmir' ≠ 'İzmir'"
    assert by_case["none"]["tool_calls"] == []
    assert by_case["right"]["request"]["tools"][0]["function"]["name"] == "get_weather"

    # the terminal's case matrix: each model's call beside the expected one, with how it went
    shown = run_cli("show", "--db", str(db)).stdout
    assert "expected: get_weather(" in shown and "called get_time, expected get_weather" in shown, shown
    assert "✗ no call" not in shown and "✗ wrong arguments: city: 'Izmir' ≠ 'İzmir'" in shown
    md = tmp_path / "r.md"
    assert run_cli("report", "--db", str(db), "--format", "markdown", "-o", str(md)).returncode == 0
    markdown = md.read_text(encoding="utf-8")
    assert "Calls of task hava" in markdown and "✗ wrong function: called get\\_time" in markdown, markdown

    html = tmp_path / "r.html"
    res = run_cli("report", "--db", str(db), "-o", str(html))
    assert res.returncode == 0, res.stderr
    page = html.read_text(encoding="utf-8")
    for verdict in ("wrong function", "wrong arguments", "no call"):
        assert f'value="{verdict}"' in page
    assert "get_time" in page and "called get_time, expected get_weather" in page
    # in the browser: each model's calls beside the expected ones, and the filter keeps the cases that went that way
    context = browser.new_context()
    errors: list[str] = []
    tab = context.new_page()
    tab.on("pageerror", lambda e: errors.append(str(e)))
    tab.goto(html.as_uri())
    tab.wait_for_selector("#case-body tr.case-row")
    first = tab.locator("#case-body tr.case-row").first.inner_text()
    assert "expected: get_weather(" in first and 'get_weather({"city": "İstanbul"' in first
    shown = {}
    for verdict in ("wrong function", "wrong arguments", "no call", ""):
        tab.select_option("#case-tool", verdict)
        shown[verdict] = [tab.locator("#case-body tr.case-row").nth(i).locator(".case-id").inner_text()
                          for i in range(tab.locator("#case-body tr.case-row").count())]
    context.close()
    assert errors == []
    assert shown == {"wrong function": ["wrong-fn"], "wrong arguments": ["wrong-arg", "malformed"],
                     "no call": [], "": ["right", "wrong-fn", "wrong-arg", "none", "malformed"]}


BAD = [
    # an unknown tool in expected_call: the case's line
    (SUITE.replace("{name: get_weather, arguments: {city: Ankara", "{name: get_forecast, arguments: {city: Ankara"),
     None, "s.yaml:12", "unknown tool 'get_forecast'"),
    # expected arguments that break the tool's own schema (day is an enum)
    (SUITE.replace("day: today}", "day: sunday}"), None, "s.yaml:21", "expected arguments break get_weather's"),
    # a tool whose parameters are not a JSON Schema: the tools file and the tool's line
    (SUITE, [WEATHER, {"type": "function", "function": {"name": "get_time", "parameters": {"type": "objekt"}}}],
     "tools.json:", "not a valid JSON Schema"),
]


@pytest.mark.parametrize(("text", "tools", "where", "what"), BAD)
def test_bad_input_exits_2_before_sending(tmp_path: Path, text: str, tools: Any, where: str, what: str) -> None:
    suite = _suite(tmp_path, text, tools)
    with ScriptedServer(["alpha"], answer=_answer) as srv:
        res = run_cli("run", str(suite), "-m", "openai:alpha", "--base-url", srv.base_url, "--db",
                      str(tmp_path / "r.db"), "--no-progress")
        assert srv.requests == []
    assert res.returncode == 2, res.stderr
    assert where in res.stderr and what in res.stderr, res.stderr
    assert "Traceback" not in res.stderr and len(res.stderr.strip().splitlines()) == 1


def test_tools_file_line_and_invalid_json(tmp_path: Path) -> None:
    tools = [WEATHER, {"type": "function", "function": {"name": "get_time", "parameters": {"type": "objekt"}}}]
    suite = _suite(tmp_path, SUITE, tools)
    with pytest.raises(Exception, match=r"tools.json:(\d+)") as info:
        load_suite(suite)
    line = int(str(info.value).split("tools.json:")[1].split(":")[0])
    assert '"get_time"' in (tmp_path / "tools.json").read_text().splitlines()[line - 1]
    (tmp_path / "tools.json").write_text('[{"type": "function",\n  "function": {"name": }}]')
    with pytest.raises(Exception, match=r"tools.json:2: not valid JSON"):
        load_suite(suite)


def test_shipped_suite_loads_from_jsonl(tmp_path: Path) -> None:
    suite = load_suite("tools")
    (task,) = suite.tasks
    cases = list(suite.cases(task))
    assert len(cases) == 16 and {c.fields["lang"] for c in cases} == {"en", "tr"}
    assert sum(c.reference == "[]" for c in cases) == 5 and len({t.name for t in task.tool_list()}) == 4
    # --data reads other cases in the same form
    data = tmp_path / "mine.jsonl"
    data.write_text(json.dumps({"id": "x", "text": "Saat kaç, Van?", "expected_call":
                                {"name": "get_time", "arguments": {"city": "Van"}}}, ensure_ascii=False) + "\n")
    other = load_suite("tools", data=data)
    (case,) = list(other.cases(other.tasks[0]))
    assert json.loads(case.reference or "") == [{"name": "get_time", "arguments": {"city": "Van"}}]


TEMPLATE = Path(__file__).parent / "support" / "chatml_tools.jinja"
ONE_CASE = """\
name: server-tools
tasks:
  - id: hava
    type: tool_call
    tools: tools.json
    params: {max_tokens: 48}
    cases:
      - id: ist
        text: "What is the weather in Istanbul tomorrow?"
        expected_call: {name: get_weather, arguments: {city: Istanbul, day: tomorrow}}
"""


@pytest.mark.parametrize("api", [None, "chat"])
def test_llama_server_with_a_template_that_renders_tools(cpp_server: Any, tmp_path: Path, api: str | None) -> None:
    """The real llama-server (--jinja, a chat template that renders tools): by default its template (from /props)
    is rendered here with the tools and the calls read from the answer; with --api chat the server gets `tools`
    and answers `tool_calls` itself (llama.cpp tools/server, common/chat.cpp). One case, whatever the model says."""
    url = cpp_server("smollm2-135m-instruct", "--jinja", "--chat-template-file", str(TEMPLATE))
    suite = _suite(tmp_path, ONE_CASE)
    db = tmp_path / "r.db"
    res = run_cli("run", str(suite), "-m", "openai:smollm2-135m-instruct", "--base-url", url, "--db", str(db),
                  "--no-progress", *(["--api", api] if api else []))
    assert res.returncode == 0, res.stderr
    assert "right call" in res.stdout
    report = json.loads(run_cli("show", "--db", str(db), "--json").stdout)
    report = report.get("report", report)
    (case,) = report["cases"]
    (answer,) = case["answers"].values()
    assert answer["error"] is None
    assert answer["verdict"] in ("right", "wrong function", "wrong arguments", "no call")
    assert (answer["verdict"] == "no call") == (answer["calls"] == [])
    (row,) = [json.loads(line) for line in run_cli("export", "--db", str(db), "--format", "jsonl").stdout.splitlines()]
    assert [t["function"]["name"] for t in row["request"]["tools"]] == ["get_weather", "get_time"]
    if api == "chat":  # the tools went natively, beside the messages
        assert "messages" in row["request"] and "<tools>" not in json.dumps(row["request"]["messages"])
    else:  # the server's own template rendered them here, as its /props gives it
        assert "<tools>" in row["request"]["prompt"] and "<|im_start|>assistant" in row["request"]["prompt"]
    assert set(row["scores"]) >= {"tool_call", "tool_name"}


def test_shipped_suite_in_process_on_the_bundled_instruct_model(tmp_path: Path) -> None:
    """`llamacompare run tools` offline: SmolLM2's template renders no tools, so they go in its system prompt in
    the documented text format (docs/tool-calls.md) and its calls are read from the answer."""
    db = tmp_path / "r.db"
    res = run_cli("run", "tools", "-m", "local:smollm2-135m-instruct", "--limit", "2", "--db", str(db),
                  "--no-progress")
    assert res.returncode == 0, res.stderr
    assert "right call" in res.stdout and "right function" in res.stdout  # valid arguments: only where it called
    report = json.loads(run_cli("show", "--db", str(db), "--json").stdout)
    report = report.get("report", report)
    (row,) = report["tasks"][0]["models"]
    call = row["metrics"]["tool_call"]
    assert row["n"] == 2 and call["lo"] <= call["value"] <= call["hi"]  # a proportion's interval
    (first, second) = [json.loads(line) for line in
                       run_cli("export", "--db", str(db), "--format", "jsonl").stdout.splitlines()]
    assert first["reference"] != "[]" and second["reference"] == "[]"  # a call, then a greeting (no call)
    assert "<tools>" in first["request"]["prompt"] and "<|im_start|>" in first["request"]["prompt"]
    assert first["request"]["tools"][0]["function"]["name"] == "get_weather"


@pytest.mark.slow
def test_in_process_calls_in_the_text_format_are_held_to_valid_json(tmp_path: Path) -> None:
    """Gemma 3 270M (base) reads the tools in the text format: its answer is held to that format's grammar
    (models/grammar.py `TOOL_CALLS`), so each `<tool_call>` block is JSON with a name and an arguments object
    unless max_tokens cut it. Before, it copied the format's placeholder (`"arguments": <args-json-object>`)."""
    db = tmp_path / "r.db"
    res = run_cli("run", "tools", "-m", "local:gemma-3-270m", "--db", str(db), "--no-progress")
    assert res.returncode == 0, res.stderr
    rows = [json.loads(line) for line in run_cli("export", "--db", str(db), "--format", "jsonl").stdout.splitlines()]
    assert len(rows) == 16 and not any("<args-json-object>" in r["answer"] for r in rows)
    calling = [r for r in rows if r["tool_calls"]]
    assert calling  # the base model does call, in the format it was shown
    closed = [block for r in calling for block in re.findall(r"<tool_call>\n(.*?)\n</tool_call>", r["answer"], re.S)]
    assert closed and all(r["answer"].lstrip().startswith("<tool_call>") for r in calling)
    for block in closed:  # a block max_tokens did not cut
        call = json.loads(block)
        assert set(call) == {"name", "arguments"} and isinstance(call["arguments"], dict), block
    free = [r for r in rows if not r["tool_calls"]]
    assert all(not r["answer"].lstrip().startswith("<") for r in free)


@pytest.mark.slow
def test_llama_server_holds_the_text_format_as_in_process(cpp_server: Any, tmp_path: Path) -> None:
    """Gemma 3 270M's template renders no tools: on the real llama-server it is sent the text format on
    /v1/completions with the format's grammar (llama.cpp's `grammar` field), as in-process: every closed block is
    JSON on both engines (which agree on most cases, not all: the engine check's figures)."""
    url = cpp_server("gemma-3-270m")
    db = tmp_path / "r.db"
    res = run_cli("run", "tools", "--limit", "8", "-m", "local:gemma-3-270m", "-m", "openai:gemma-3-270m",
                  "--base-url", url, "--db", str(db), "--no-progress")
    assert res.returncode == 0, res.stderr
    rows = [json.loads(line) for line in run_cli("export", "--db", str(db), "--format", "jsonl").stdout.splitlines()]
    by_engine: dict[str, dict[str, str]] = {}
    for r in rows:
        by_engine.setdefault(r["model"], {})[r["case"]] = r["answer"]
        assert "<args-json-object>" not in r["answer"] and not r["answer"].lstrip().startswith(("<t>", "</"))
        for block in re.findall(r"<tool_call>\n(.*?)\n</tool_call>", r["answer"], re.S):
            assert isinstance(json.loads(block)["arguments"], dict), block
    local, server = by_engine["local:gemma-3-270m"], by_engine["openai:gemma-3-270m"]
    assert local.keys() == server.keys() and len(local) == 8
    assert any("<tool_call>" in a for a in server.values()) and any("<tool_call>" in a for a in local.values())


ANTHROPIC_KEY = "sk-ant-api03-scripted-tools-0123456789"


def _anthropic_answer(body: dict[str, Any]) -> str:
    from tests.support import fake_lm
    from tests.support.anthropic_server import TOOL_USE

    assert [t["name"] for t in body["tools"]] == ["get_weather", "get_time"]
    assert body["tools"][0]["input_schema"]["required"] == ["city", "day"]
    text = fake_lm.content_text(body["messages"][-1]["content"])
    for key, calls in CALLS.items():
        if key in text and key != "Bursa'da":  # tool_use `input` is an object: no malformed JSON to send
            return TOOL_USE + json.dumps([{"name": c["name"], "input": json.loads(c["arguments"])} for c in calls])
    return "Merhaba!"


@pytest.mark.parametrize("stream", [True, False])
def test_anthropic_tool_use_blocks(tmp_path: Path, stream: bool) -> None:
    """Anthropic's Messages API (tests/support/anthropic_server.py, after its SDK's types/tool_use_block.py and
    input_json_delta.py): `tools` with `input_schema` out, `tool_use` blocks back, whole and streamed."""
    from tests.support.anthropic_server import AnthropicServer

    suite = _suite(tmp_path)
    db = tmp_path / "r.db"
    with AnthropicServer(["claude-haiku-4-5-20251001"], api_key=ANTHROPIC_KEY, answer=_anthropic_answer) as srv:
        res = run_cli("run", str(suite), "-m", "anthropic:claude-haiku-4-5-20251001", "--db", str(db),
                      "--no-progress", *([] if stream else ["--no-stream"]),
                      env={"ANTHROPIC_API_KEY": ANTHROPIC_KEY, "ANTHROPIC_BASE_URL": srv.base_url})
    assert res.returncode == 0, res.stderr
    report = json.loads(run_cli("show", "--db", str(db), "--json").stdout)
    report = report.get("report", report)
    answers = {c["id"]: next(iter(c["answers"].values())) for c in report["cases"]}
    assert {k: a["verdict"] for k, a in answers.items()} == {
        "right": "right", "wrong-fn": "wrong function", "wrong-arg": "wrong arguments", "none": "right",
        "malformed": "no call"}
    assert json.loads(answers["right"]["calls"][0]["arguments"]) == {"city": "İstanbul", "day": "tomorrow"}
    assert answers["wrong-arg"]["reason"] == "city: 'Izmir' ≠ 'İzmir'"


@pytest.mark.parametrize("stream", [True, False])
def test_together_tool_calls(tmp_path: Path, stream: bool) -> None:
    """Together (togethercomputer/openapi openapi.yaml: ChatCompletionRequest `tools` of ToolsPart, answers'
    `tool_calls` of ToolChoice {index, id, type, function: {name, arguments}}): a Llama chat model, otherwise sent
    its template as text on /completions, goes to /chat/completions with the tools."""
    from tests.support.scripted_server import ModelSpec

    suite = _suite(tmp_path)
    db = tmp_path / "r.db"
    with ScriptedServer([ModelSpec("meta-llama/Llama-3-8b-chat-hf", 8192, 0.2, 0.2)], answer=_answer,
                        dialect="together", models_format="together", api_key="tg-test-key") as srv:
        res = run_cli("run", str(suite), "-m", "together:meta-llama/Llama-3-8b-chat-hf", "--db", str(db),
                      "--no-progress", *([] if stream else ["--no-stream"]),
                      env={"TOGETHER_API_KEY": "tg-test-key", "TOGETHER_BASE_URL": srv.base_url})
        paths = {r.path for r in srv.requests}
    assert res.returncode == 0, res.stderr
    assert "/v1/chat/completions" in paths and "/v1/completions" not in paths
    report = json.loads(run_cli("show", "--db", str(db), "--json").stdout)
    report = report.get("report", report)
    answers = {c["id"]: next(iter(c["answers"].values())) for c in report["cases"]}
    assert {k: a["verdict"] for k, a in answers.items()} == {
        "right": "right", "wrong-fn": "wrong function", "wrong-arg": "wrong arguments", "none": "right",
        "malformed": "wrong arguments"}


def test_until_decided_refuses_tool_call_tasks() -> None:
    from llamacompare.errors import UsageError
    from llamacompare.runner.decide import check_decidable

    with pytest.raises(UsageError, match="does not race tool_call tasks"):
        check_decidable(load_suite("tools").tasks)
