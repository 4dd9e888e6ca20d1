"""A model without a chat template reads the in-process text on every server that serves completions (issue 27).

The servers are replayed from their source (tests/support/dialects.py names each file): vLLM refuses every
conversation for a model whose tokenizer has no chat template, on /v1/chat/completions and on its /tokenize, with a
400 whose message starts "As of transformers v4.44, default chat template is no longer allowed"
(vllm/entrypoints/chat_utils.py, serving_chat.py, serving_tokenization.py); Ollama's /api/show gives such a model its
default template `{{ .Prompt }}` (template/template.go `DefaultTemplate`), which passes a /v1/completions prompt
through untouched (openai/openai.go `FromCompleteRequest`: no `raw`) but runs a conversation's turns together and
drops its system prompt (template.go `Execute`). So such a model is sent the plain text the in-process engine sends a
GGUF without a template, on /v1/completions, and the run says so in one line; `--api` chooses otherwise.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.conftest import run_cli
from tests.support.scripted_server import GENERATION_PATHS, FaultPlan, ModelSpec, ScriptedServer

from llamacompare import errors
from llamacompare.models import servers
from llamacompare.models.registry import resolve
from llamacompare.models.requests import to_request
from llamacompare.tasks.loader import load_suite
from llamacompare.tasks.prompt_template import render_case

SUITE = "tr_polarity"  # a system prompt and four examples as turns: the text is a whole transcript
NOTE = "no chat template in the model: sent as plain text on /completions, as in-process"
WRAPPED = "no chat template in the model: the server wraps its messages in a default template of its own"


def _in_process_text() -> tuple[str, list[str]]:
    """The prompt and stop sequences a GGUF without a chat template is sent in-process for the first case (the
    runner's `request_for` on a local base model: no template, the task's base-model stop)."""
    loaded = load_suite(SUITE)
    task = loaded.task(SUITE)
    rendered = render_case(task, next(iter(loaded.cases(task))))
    chat = rendered.chat_messages() if rendered.shots else None
    request = to_request(resolve("local:gemma-3-270m"), rendered.messages(), task.generation_params(),
                         prefix=rendered.prefix or None, cue=task.base_model_cue, base_stop=task.base_model_stop or (),
                         chat=chat)
    # one document: the system prompt, the examples and the review, as written, no turn markers
    assert request.prompt is not None and request.prompt.startswith(task.system + "\n\nYorum: ")
    assert request.prompt.endswith("\nDuygu:") and request.prompt.count("Duygu:") == 5
    return request.prompt, list(request.params.stop)


class _Bodies(list[dict[str, Any]]):
    """The generation requests the server answered (its `answer` hook sees each body)."""

    def __call__(self, body: dict[str, Any]) -> str:
        self.append(body)
        return "pozitif"

    def of(self, model: str) -> dict[str, Any]:
        [body] = [b for b in self if b["model"] == model]
        return body


def _run(tmp_path: Path, url: str, *args: str) -> Any:
    return run_cli("run", SUITE, "--limit", "1", "--mode", "generate", "--base-url", url, "--db",
                   str(tmp_path / "r.db"), "--no-progress", *args)


def _assert_plain_text(body: dict[str, Any]) -> None:
    prompt, stop = _in_process_text()
    assert "messages" not in body and body["prompt"] == prompt and body["stop"] == stop


def _paths(srv: ScriptedServer) -> list[str]:
    return [r.path for r in srv.requests if r.path in GENERATION_PATHS]


# -- vLLM -----------------------------------------------------------------------------------------------------


def test_vllm_base_model_gets_the_in_process_text_and_a_chat_model_messages(tmp_path: Path) -> None:
    bodies = _Bodies()
    with ScriptedServer([ModelSpec("org/base", chat_template=False), ModelSpec("org/instruct")], answer=bodies,
                        dialect="vllm") as srv:
        res = _run(tmp_path, srv.base_url, "-m", "vllm:org/base", "-m", "vllm:org/instruct")
        asked = [(r.path, r.model) for r in srv.requests if r.path == "/tokenize"]
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr
    _assert_plain_text(bodies.of("org/base"))
    instruct = bodies.of("org/instruct")
    assert "prompt" not in instruct and instruct["messages"][0]["role"] == "system"
    assert res.stdout.count(NOTE) == 1
    assert f"vllm:org/base: {NOTE} (the server refuses chat for it)" in res.stdout
    assert "vllm:org/instruct: no chat template" not in res.stdout
    assert sorted(asked) == [("/tokenize", "org/base"), ("/tokenize", "org/instruct")]  # one question each
    assert len(bodies) == 2  # and no generation to find out


def test_a_server_discovered_as_vllm_is_asked_too(tmp_path: Path) -> None:
    """`openai:` at a server whose model list says `owned_by: "vllm"` is vLLM."""
    bodies = _Bodies()
    with ScriptedServer([ModelSpec("base", chat_template=False)], answer=bodies, dialect="vllm") as srv:
        res = _run(tmp_path, srv.base_url, "-m", "openai:base")
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr
    _assert_plain_text(bodies.of("base"))
    assert res.stdout.count(NOTE) == 1


def test_chat_asked_for_a_vllm_base_model_fails_before_any_generation(tmp_path: Path) -> None:
    with ScriptedServer([ModelSpec("org/base", chat_template=False)], dialect="vllm") as srv:
        res = _run(tmp_path, srv.base_url, "-m", "vllm:org/base", "--api", "chat")
        generations = _paths(srv)
    assert res.returncode == 2, res.stdout[-2000:] + res.stderr
    assert res.stderr.count("\n") == 1 and "Traceback" not in res.stderr
    assert "vllm:org/base" in res.stderr and "--api completions" in res.stderr and "--chat-template" in res.stderr
    assert generations == []


def test_completions_asked_for_a_chat_model_send_the_plain_text(tmp_path: Path) -> None:
    for dialect, model in (("vllm", "org/instruct"), ("ollama", "instruct:latest")):
        bodies = _Bodies()
        with ScriptedServer([ModelSpec(model)], answer=bodies, dialect=dialect) as srv:
            res = _run(tmp_path / dialect, srv.base_url, "-m", f"{dialect}:{model}", "--api", "completions")
            paths = _paths(srv)
        assert res.returncode == 0, res.stdout[-2000:] + res.stderr
        _assert_plain_text(bodies.of(model))
        assert paths == ["/v1/completions"] and "no chat template" not in res.stdout


def test_without_tokenize_vllm_keeps_messages_and_its_refusal_names_the_fix() -> None:
    """/tokenize missing (a 404): nothing is known, messages go out as before; vLLM's 400 for them says what to do."""
    from llamacompare.helpers import llama

    plan = FaultPlan(rules=(), script=("404",), paths=("/tokenize",))
    with ScriptedServer([ModelSpec("org/base", chat_template=False)], faults=plan, dialect="vllm") as srv:
        with pytest.raises(errors.BadRequestError) as caught:
            llama("Selam", model="vllm:org/base", base_url=srv.base_url, max_tries=0)
        outcomes = [(r.path, r.outcome) for r in srv.requests if r.path != "/v1/models"]
    assert outcomes == [("/tokenize", "404"), ("/v1/chat/completions", "400")]
    message = str(caught.value)
    assert "default chat template is no longer allowed" in message and "use --api completions" in message


# -- Ollama ---------------------------------------------------------------------------------------------------


def test_ollama_model_with_the_default_template_gets_the_in_process_text(tmp_path: Path) -> None:
    bodies = _Bodies()
    with ScriptedServer([ModelSpec("base:latest", None, chat_template=False), ModelSpec("instruct:latest", None)],
                        answer=bodies, dialect="ollama") as srv:
        res = _run(tmp_path, srv.base_url, "-m", "ollama:base", "-m", "ollama:instruct")
        shown = sorted(r.model or "" for r in srv.requests if r.path == "/api/show")
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr
    _assert_plain_text(bodies.of("base:latest"))
    instruct = bodies.of("instruct:latest")
    assert "prompt" not in instruct and instruct["messages"][0]["role"] == "system"
    assert res.stdout.count(NOTE) == 1
    assert f"ollama:base: {NOTE} (the server would wrap messages in a default template of its own)" in res.stdout
    assert shown == ["base:latest", "instruct:latest"] and len(bodies) == 2


def test_what_an_ollama_modelfile_adds_to_every_conversation_is_said(tmp_path: Path) -> None:
    """A Modelfile's MESSAGE turns and SYSTEM prompt reach the model on every request (server/prompt.go
    `chatPrompt`) and no other engine is sent them: the run says so for that model, not for the other."""
    bodies = _Bodies()
    primed = ModelSpec("primed:latest", None, modelfile_messages=(("user", "Merhaba"), ("assistant", "Selam!")),
                       modelfile_system="Sen bir asistansın.")
    with ScriptedServer([primed, ModelSpec("instruct:latest", None)], answer=bodies, dialect="ollama") as srv:
        res = _run(tmp_path, srv.base_url, "-m", "ollama:primed", "-m", "ollama:instruct")
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr
    said = [line for line in res.stdout.splitlines() if "Modelfile adds" in line]
    assert len(said) == 1 and said[0].startswith("note: ollama:primed: its Ollama Modelfile adds 2 MESSAGE turn(s)")
    assert "its SYSTEM prompt where a case gives none" in said[0]


def test_chat_asked_for_an_ollama_base_model_is_sent_and_said(tmp_path: Path) -> None:
    bodies = _Bodies()
    with ScriptedServer([ModelSpec("base:latest", None, chat_template=False)], answer=bodies,
                        dialect="ollama") as srv:
        res = _run(tmp_path, srv.base_url, "-m", "ollama:base", "--api", "chat")
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr
    assert "messages" in bodies.of("base:latest")
    assert res.stdout.count(WRAPPED) == 1 and NOTE not in res.stdout


def test_without_api_show_an_ollama_model_keeps_messages_and_no_note(tmp_path: Path) -> None:
    bodies = _Bodies()
    plan = FaultPlan(script=("500",), paths=("/api/show",))
    with ScriptedServer([ModelSpec("base:latest", None, chat_template=False)], answer=bodies, faults=plan,
                        dialect="ollama") as srv:
        res = _run(tmp_path, srv.base_url, "-m", "ollama:base")
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr
    assert "messages" in bodies.of("base:latest") and "no chat template" not in res.stdout


@pytest.mark.parametrize(("show", "bare"), [
    ({"template": "{{ .Prompt }}"}, True),
    ({"template": "{{- .Prompt -}}\n"}, True),
    ({"template": "{{ .System }} {{ .Prompt }}"}, False),
    ({"template": "{{- range .Messages }}{{ .Content }}{{ end }}"}, False),
    ({"template": "{{ .Prompt }}", "modelfile": "FROM /blobs/x\nTEMPLATE {{ .Prompt }}\nRENDERER qwen3-vl\n"}, False),
    ({"template": "{{ .Prompt }}", "renderer": "qwen3-coder"}, False),
    ({"template": "{{ .Prompt }}", "remote_host": "https://ollama.com:443"}, False),
    ({}, False),
    (None, False),
])
def test_only_ollama_s_default_template_means_no_chat_template(show: Any, bare: bool) -> None:
    """A renderer of Ollama's own or a cloud model renders conversations whatever its Go template says; a missing
    template is not known to be the default (an empty TEMPLATE renders nothing on either endpoint)."""
    assert servers.ollama_without_template(show) is bare
