"""Structured output (issue 30, item 4): a task's `params.response_format`, OpenAI's `json_object` or `json_schema`,
checked when the suite loads, sent to each server in the field it reads (servers.py names each source), enforced
in-process by a grammar built from the schema, and compared with free answers through `settings:`, the report
saying which rows were held to it.

The request shapes the fakes check come from the providers' own types: openai-python
`src/openai/types/shared/response_format_json_schema.py` and `response_format_json_object.py` (the installed
`openai` package's models validate the body here), llama.cpp's `tools/server/server-schema.cpp` (`json_schema`),
llama-cpp-python's `llama_cpp/server/types.py` (`grammar`), anthropic-sdk-python `types/output_config_param.py`
and `types/json_output_format_param.py`, Together's `openapi.yaml` (no `response_format` on CompletionRequest)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from openai.types.shared import ResponseFormatJSONObject, ResponseFormatJSONSchema
from tests.conftest import run_cli
from tests.support.anthropic_server import AnthropicServer
from tests.support.scripted_server import GENERATION_PATHS, ScriptedServer

from llamacompare import errors
from llamacompare.models import servers
from llamacompare.models.anthropic_messages import AnthropicProvider
from llamacompare.models.base import Params, Request
from llamacompare.models.openai_compat import OpenAICompatProvider
from llamacompare.models.response_format import ResponseFormat
from llamacompare.sync import run_sync
from llamacompare.tasks.loader import load_suite

PERSON: dict[str, Any] = {
    "type": "object",
    "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 40},
                   "age": {"type": "integer", "minimum": 0, "maximum": 150},
                   "city": {"type": "string", "minLength": 1, "maxLength": 40}},
    "required": ["name", "age", "city"],
    "additionalProperties": False,
}
HELD = ResponseFormat.json_schema(PERSON, "person", strict=True)

# ten sentences, Turkish and English (dotted and dotless i in names and cities), a person each
SUITE = """
name: kisi
tasks:
  - id: kisi
    type: generate
    template: "Extract the person's name, age and city from the sentence as JSON with the keys name, age and city.\\n\\
      Sentence: {text}"
    base_model_cue: "\\nJSON:"
    base_model_stop: ["\\n\\n"]
    params: {max_tokens: 60}
    checks:
      - {json_schema: person.json, name: person}
      - {is_json: strict}
    settings:
      - {id: free, params: {temperature: 0.0}}
      - id: held
        params:
          response_format: {type: json_schema, json_schema: {name: person, schema: person.json, strict: true}}
    cases:
      - {id: en1, text: "John Smith is 34 years old and lives in London."}
      - {id: en2, text: "Maria, aged 27, moved to Madrid last year."}
      - {id: en3, text: "At 61, Robert still works in Chicago."}
      - {id: en4, text: "Emily Chen (19) studies in Boston."}
      - {id: en5, text: "The 45-year-old Ahmed runs a shop in Cairo."}
      - {id: tr1, text: "Ayşe Yılmaz 29 yaşında ve İstanbul'da yaşıyor."}
      - {id: tr2, text: "Mehmet 52 yaşında, İzmir'de öğretmen."}
      - {id: tr3, text: "Iğdırlı Işıl 23 yaşında ve Iğdır'da yaşıyor."}
      - {id: tr4, text: "Ankara'da oturan Fatma Hanım 67 yaşında."}
      - {id: tr5, text: "Kemal, 40 yaşında bir mühendis; Bursa'da çalışıyor."}
"""


def _suite(tmp: Path, text: str = SUITE) -> Path:
    (tmp / "person.json").write_text(json.dumps(PERSON), encoding="utf-8")
    path = tmp / "kisi.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def parses(answer: str | None, schema: dict[str, Any] = PERSON) -> bool:
    """What a program reading the answer does: the whole answer is JSON, and valid against the schema."""
    try:
        jsonschema.validate(json.loads(answer or ""), schema)
    except (ValueError, jsonschema.ValidationError):
        return False
    return True


def _export(db: Path) -> list[dict[str, Any]]:
    res = run_cli("export", "latest", "--db", str(db), "--format", "jsonl")
    assert res.returncode == 0, res.stderr
    return [json.loads(line) for line in res.stdout.splitlines()]


# -- the suite ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("change", "where", "says"), [
    (("schema: person.json, strict", "schema: {type: objekt}, strict"), "json_schema.schema",
     "invalid JSON Schema at type"),
    (("schema: person.json", "schema: kisi.json"), "json_schema.schema", "cannot read the schema file"),
    (("name: person, schema", "name: 'kişi bilgisi', schema"), "json_schema.name", "letters, digits, _ and -"),
    (("type: json_schema, json_schema", "type: json_object, json_schema"), "response_format.json_schema",
     "json_object takes no schema"),
    (("{type: json_schema, json_schema:", "{type: json_schema, jsonschema:"), "response_format.jsonschema",
     "did you mean 'json_schema'"),
])
def test_a_bad_response_format_stops_at_load_with_its_file_and_line(
        tmp_path: Path, change: tuple[str, str], where: str, says: str) -> None:
    path = _suite(tmp_path, SUITE.replace(*change))
    res = run_cli("run", str(path), "-m", "openai:alpha", "--base-url", "http://127.0.0.1:9/v1", "--no-progress")
    assert res.returncode == 2, res.stderr
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if "response_format:" in text)
    assert f"kisi.yaml:{line}: tasks[0].settings[1].params.response_format" in res.stderr, res.stderr
    assert where in res.stderr and says in res.stderr and "Traceback" not in res.stderr


def test_the_format_is_part_of_the_request_and_its_cache_key_only_when_set(tmp_path: Path) -> None:
    loaded = load_suite(_suite(tmp_path))
    task = loaded.tasks[0]
    free, held = task.generation_params(None, "free"), task.generation_params(None, "held")
    assert held.response_format == HELD and free.response_format is None
    assert "response_format" not in free.to_dict()  # answers stored before the field keep their cache keys
    assert held.to_dict()["response_format"] == {
        "type": "json_schema", "json_schema": {"name": "person", "schema": PERSON, "strict": True}}
    assert hash(held) != hash(free) and held != free
    # a suite's copy (--limit) still holds the schema read from the file
    assert loaded.with_overrides(3, None).tasks[0].generation_params(None, "held") == held


# -- servers: each gets the format in its own field ----------------------------------------------------------------


def _send(srv: ScriptedServer, caps: Any, request: Request, model: str = "alpha") -> Any:
    async def go() -> Any:
        p = OpenAICompatProvider(srv.base_url, capabilities=caps, stream=False)
        try:
            return await p.generate(model, request)
        finally:
            await p.aclose()

    return run_sync(go())


def _bodies() -> tuple[list[dict[str, Any]], Callable[[dict[str, Any]], str]]:
    bodies: list[dict[str, Any]] = []

    def answer(body: dict[str, Any]) -> str:
        bodies.append(body)
        return '{"name": "Ayşe", "age": 29, "city": "İstanbul"}'

    return bodies, answer


def test_openai_chat_gets_response_format_as_openai_types_it() -> None:
    bodies, answer = _bodies()
    chat = (({"role": "user", "content": "Ayşe 29 yaşında, İstanbul'da."}),)
    with ScriptedServer(["alpha"], answer=answer) as srv:
        _send(srv, servers.OPENAI_CHAT, Request(messages=chat, params=Params(response_format=HELD)))
        _send(srv, servers.OPENAI_CHAT, Request(messages=chat, params=Params(response_format=ResponseFormat(
            "json_object"))))
        assert [r.outcome for r in srv.requests] == ["ok", "ok"]
    sent = bodies[0]["response_format"]
    assert ResponseFormatJSONSchema.model_validate(sent).model_dump(by_alias=True, exclude_none=True) == sent
    assert sent == {"type": "json_schema", "json_schema": {"name": "person", "schema": PERSON, "strict": True}}
    assert list(sent["json_schema"]["schema"]["properties"]) == ["name", "age", "city"]  # the suite's order
    assert ResponseFormatJSONObject.model_validate(bodies[1]["response_format"]).model_dump() == {
        "type": "json_object"} == bodies[1]["response_format"]


@pytest.mark.parametrize(("caps", "dialect"), [(servers.TOGETHER, "together"), (servers.OLLAMA, "ollama")])
def test_together_and_ollama_chat_take_openais_shape(caps: Any, dialect: str) -> None:
    """Together's ChatCompletionRequest.response_format is ResponseFormatJsonSchema {type, json_schema: {name, schema,
    strict}} (openapi.yaml, since its 2025-12 revision; before, `{type, schema}`); Ollama's ChatCompletionRequest reads
    `response_format.json_schema.schema` (openai/openai.go)."""
    bodies, answer = _bodies()
    with ScriptedServer(["alpha"], answer=answer, dialect=dialect) as srv:
        _send(srv, caps, Request(messages=({"role": "user", "content": "JSON"},), params=Params(response_format=HELD)))
    assert bodies[0]["response_format"] == {"type": "json_schema",
                                            "json_schema": {"name": "person", "schema": PERSON, "strict": True}}


def test_vllm_takes_response_format_on_completions_too() -> None:
    bodies, answer = _bodies()
    with ScriptedServer(["alpha"], answer=answer, dialect="vllm") as srv:
        _send(srv, servers.VLLM, Request(prompt="Ayşe 29 yaşında.\nJSON:", params=Params(response_format=HELD)))
    assert bodies[0]["response_format"] == HELD.to_openai() and "prompt" in bodies[0]


def test_llama_server_completions_get_its_own_json_schema_field() -> None:
    """/v1/completions copies response_format through unread (server-common.cpp oaicompat_completion_params_parse);
    only `json_schema` (server-schema.cpp) makes a grammar there: the schema itself, `{"type": "object"}` for
    json_object. Its chat endpoint reads response_format (oaicompat_chat_params_parse)."""
    bodies, answer = _bodies()
    with ScriptedServer(["alpha"], answer=answer, dialect="llama_server") as srv:
        _send(srv, servers.LLAMA_SERVER, Request(prompt="JSON:", params=Params(response_format=HELD)))
        _send(srv, servers.LLAMA_SERVER, Request(prompt="JSON:", params=Params(response_format=ResponseFormat(
            "json_object"))))
        _send(srv, servers.LLAMA_SERVER, Request(messages=({"role": "user", "content": "JSON"},),
                                                 params=Params(response_format=HELD)))
    assert bodies[0]["json_schema"] == PERSON and "response_format" not in bodies[0]
    assert bodies[1]["json_schema"] == {"type": "object"}
    assert bodies[2]["response_format"] == HELD.to_openai() and "json_schema" not in bodies[2]


def test_llama_cpp_python_completions_get_a_gbnf_grammar() -> None:
    from llama_cpp import LlamaGrammar

    bodies, answer = _bodies()
    with ScriptedServer(["alpha"], answer=answer, dialect="llama_cpp_python") as srv:
        _send(srv, servers.LLAMA_CPP_PYTHON, Request(prompt="JSON:", params=Params(response_format=HELD)))
    grammar = bodies[0]["grammar"]
    assert "root ::=" in grammar and '"\\"city\\""' in grammar and "response_format" not in bodies[0]
    assert LlamaGrammar.from_string(grammar)._grammar == grammar  # what its server builds from the field


@pytest.mark.parametrize("caps", [servers.TOGETHER, servers.OLLAMA, servers.OPENAI_CHAT])
def test_a_server_without_the_field_on_completions_refuses_before_sending(caps: Any) -> None:
    with ScriptedServer(["alpha"]) as srv, pytest.raises(errors.UsageError) as exc:
        _send(srv, caps, Request(prompt="JSON:", params=Params(response_format=HELD)))
    assert "takes no response_format on /completions" in str(exc.value) and "--api chat" in str(exc.value)
    assert [r for r in srv.requests if r.path in GENERATION_PATHS] == []


def test_a_run_on_together_completions_stops_with_the_fix_before_sending_the_format(tmp_path: Path) -> None:
    """Together's Llama chat models are sent their template's text on /completions, which has no response_format
    (openapi.yaml CompletionRequest): the run stops in one line, exit 2, and no request asking for the format (under
    any field) was sent; the free setting's were."""
    path = _suite(tmp_path)
    model = "meta-llama/Llama-2-7b-chat-hf"
    bodies, answer = _bodies()
    with ScriptedServer([model], answer=answer, dialect="together") as srv:
        res = run_cli("run", str(path), "-m", f"together:{model}", "--base-url", srv.base_url, "--db",
                      str(tmp_path / "r.db"), "--no-progress", env={"TOGETHER_API_KEY": "tk-" + "0" * 40})
    assert res.returncode == 2 and "takes no response_format on /completions" in res.stderr, res.stderr
    assert "--api chat" in res.stderr and "Traceback" not in res.stderr
    assert bodies and all("prompt" in b and not {"response_format", "json_schema", "grammar"} & set(b) for b in bodies)


def test_anthropic_gets_the_schema_as_output_config_format() -> None:
    key = "sk-ant-api03-scripted-0123456789abcdef"
    model = "claude-haiku-4-5-20251001"

    async def go(srv: AnthropicServer, request: Request) -> Any:
        p = AnthropicProvider(srv.base_url, key, stream=False)
        try:
            return await p.generate(model, request)
        finally:
            await p.aclose()

    chat = ({"role": "user", "content": "Ayşe 29 yaşında, İstanbul'da."},)
    with AnthropicServer([model], api_key=key) as srv:
        run_sync(go(srv, Request(messages=chat, params=Params(response_format=HELD))))
        with pytest.raises(errors.UsageError, match="use type: json_schema"):
            run_sync(go(srv, Request(messages=chat, params=Params(response_format=ResponseFormat("json_object")))))
        sent = srv.messages_requests
    assert len(sent) == 1 and sent[0].outcome == "ok"
    assert sent[0].body["output_config"] == {"format": {"type": "json_schema", "schema": PERSON}}


def test_settings_compare_held_and_free_answers_and_every_view_says_which_were_held(tmp_path: Path) -> None:
    """The scripted model answers JSON only when a format is asked for (as a server that enforces it would): the
    held rows pass both checks, the free ones neither, and the terminal, `show --json`, Markdown and HTML say which
    rows were held."""
    path = _suite(tmp_path)
    db = tmp_path / "runs.db"
    seen: list[dict[str, Any]] = []

    def answer(body: dict[str, Any]) -> str:
        seen.append(body)
        return '{"name": "Ayşe", "age": 29, "city": "İstanbul"}' if "response_format" in body else "Ayşe, 29."

    with ScriptedServer(["alpha"], answer=answer) as srv:
        res = run_cli("run", str(path), "-m", "openai:alpha", "--base-url", srv.base_url, "--db", str(db),
                      "--no-progress")
    assert res.returncode == 0, res.stderr
    assert len(seen) == 20 and sum("response_format" in b for b in seen) == 10
    assert "structured output enforced (response_format): alpha · held (json_schema person); not enforced: " \
           "alpha · free" in " ".join(res.stdout.split())
    report = json.loads(run_cli("show", "latest", "--db", str(db), "--json").stdout)
    rows = {r["model"]: r for r in report["tasks"][0]["models"]}
    held, free = rows["openai:alpha · held"], rows["openai:alpha · free"]
    assert held["response_format"] == "json_schema person" and free["response_format"] is None
    for check in ("check:person", "check:is_json:strict"):
        assert held["metrics"][check]["value"] == 1.0 and free["metrics"][check]["value"] == 0.0
    md = run_cli("report", "latest", "--db", str(db), "--format", "markdown", "-o", str(tmp_path / "r.md"))
    html = run_cli("report", "latest", "--db", str(db), "-o", str(tmp_path / "r.html"))
    assert md.returncode == 0 and html.returncode == 0
    assert "Structured output enforced \\(response\\_format\\): openai:alpha · held" in (tmp_path / "r.md").read_text()
    assert "structured output enforced (response_format): openai:alpha · held (json_schema person); not enforced: " \
           "openai:alpha · free" in (tmp_path / "r.html").read_text()


def test_a_model_may_ask_for_the_format_itself(tmp_path: Path) -> None:
    """`params.response_format` on a model of the suite: its requests carry it, the other model's do not, and the
    report says which row was held."""
    suite = """
name: model-format
models:
  - {name: "openai:alpha", params: {response_format: json_object}}
  - openai:beta
tasks:
  - id: kisi
    type: generate
    template: "JSON please: {text}"
    checks: [{is_json: strict}]
    cases:
      - {id: tr1, text: "Ayşe 29 yaşında, İstanbul'da."}
"""
    path = tmp_path / "model.yaml"
    path.write_text(suite, encoding="utf-8")
    bodies, answer = _bodies()
    with ScriptedServer(["alpha", "beta"], answer=answer) as srv:
        res = run_cli("run", str(path), "--base-url", srv.base_url, "--db", str(tmp_path / "r.db"), "--json")
    assert res.returncode == 0, res.stderr
    sent = {b["model"]: b.get("response_format") for b in bodies}
    assert sent == {"alpha": {"type": "json_object"}, "beta": None}
    rows = {r["model"]: r["response_format"] for r in json.loads(res.stdout)["report"]["tasks"][0]["models"]}
    assert rows == {"openai:alpha": "json_object", "openai:beta": None}


# -- in-process: a grammar from the schema -------------------------------------------------------------------------

BUNDLED = ("gemma-3-270m", "smollm2-135m-instruct")


@pytest.mark.slow
def test_in_process_answers_held_to_the_schema_parse_in_every_case(tmp_path: Path) -> None:
    """Both bundled models, base and instruct, batched (the default): every held answer is JSON valid against the
    schema, as a program would read it; the same models' free answers, beside them, fall short of that."""
    path = _suite(tmp_path)
    db = tmp_path / "runs.db"
    res = run_cli("run", str(path), *(a for m in BUNDLED for a in ("-m", f"local:{m}")), "--db", str(db),
                  "--no-progress")
    assert res.returncode == 0, res.stderr
    rows = _export(db)
    assert len(rows) == 40
    rate = {}
    for model in BUNDLED:
        for setting in ("held", "free"):
            answers = [r["answer"] for r in rows if r["model"] == f"local:{model}" and r["setting"] == setting]
            assert len(answers) == 10
            rate[(model, setting)] = sum(map(parses, answers)) / 10
    print("parse rates:", rate)
    for model in BUNDLED:
        assert rate[(model, "held")] == 1.0
        assert rate[(model, "free")] < 1.0
    report = json.loads(run_cli("show", "latest", "--db", str(db), "--json").stdout)
    for r in report["tasks"][0]["models"]:
        assert r["response_format"] == ("json_schema person" if r["setting"] == "held" else None)
        if r["setting"] == "held":
            assert r["metrics"]["check:person"]["value"] == 1.0


@pytest.mark.slow
@pytest.mark.parametrize("model", BUNDLED)
def test_one_at_a_time_answers_are_held_to_the_grammar_too(model: str) -> None:
    """The path a sampled answer (temperature > 0) or `LLAMACOMPARE_LOCAL_PARALLEL=1` takes: llama-cpp-python's
    create_completion with the same grammar; json_object holds the answer to some JSON object."""
    from llamacompare.models.bundled import bundled_model_path
    from llamacompare.models.local import LocalProvider

    p = LocalProvider(str(bundled_model_path(model)), parallel=1)
    prompts = ["Extract name, age and city as JSON.\nSentence: Ayşe Yılmaz 29 yaşında ve İstanbul'da yaşıyor.\nJSON:"]

    async def go() -> list[str]:
        out = []
        for prompt in prompts:
            for fmt, temperature in ((HELD, 0.0), (HELD, 0.8), (ResponseFormat("json_object"), 0.0)):
                params = Params(max_tokens=60, temperature=temperature, seed=7, response_format=fmt)
                out.append((await p.generate(model, Request(prompt=prompt, params=params))).text)
        return out

    answers = run_sync(go())
    assert all(parses(a) for a in answers[0::3] + answers[1::3]), answers
    assert all(isinstance(json.loads(a), dict) for a in answers[2::3]), answers


@pytest.mark.slow
def test_llama_server_holds_an_answer_to_the_schema_end_to_end(cpp_server: Callable[..., str], tmp_path: Path) -> None:
    """The real llama-server: Gemma 3 270M base is sent its text on /v1/completions with the `json_schema` field, and
    its answer (whatever it says) parses against the schema; free, the same model writes `name: ...` lines."""
    url = cpp_server("gemma-3-270m")
    one = SUITE.split("      - {id: en2")[0]
    path = _suite(tmp_path, one)
    db = tmp_path / "server.db"
    res = run_cli("run", str(path), "-m", "openai:gemma-3-270m", "--base-url", url, "--db", str(db), "--no-progress")
    assert res.returncode == 0, res.stderr
    rows = {r["setting"]: r for r in _export(db)}
    assert rows["held"]["request"]["params"]["response_format"] == HELD.to_openai()
    assert "prompt" in rows["held"]["request"]  # text on /v1/completions, as in-process
    assert parses(rows["held"]["answer"]), rows["held"]["answer"]


@pytest.mark.slow
def test_the_bench_prints_free_and_held_rows_for_both_models_and_paths() -> None:
    import subprocess
    import sys

    from tests.conftest import REPO

    res = subprocess.run([sys.executable, "bench/structured_output.py", "-n", "2", "--one-at-a-time", "1"], cwd=REPO,
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    rows = [line for line in res.stdout.splitlines() if line.startswith(BUNDLED)]
    assert len(rows) == 8
    for line in rows:
        *_, parsed = line.split()
        if ", held" in line:
            n = 2 if "batched" in line else 1
            assert parsed == f"{n}/{n}", line

