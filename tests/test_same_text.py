"""One case of one model family on every engine: the text that reaches the model is the same string in-process, on
llama-server, on vLLM and on Together (issue 27, item 3). The family is Llama 3 Instruct, the one Together serves
that we also render; the case is a Turkish few-shot review (system prompt, four examples as turns, the review).

Where each engine's text comes from, from its source:
- The template: Meta's Llama 3 Instruct chat template, as `chat_template` in meta-llama/Meta-Llama-3-8B-Instruct's
  tokenizer_config.json; llama.cpp tests the same string as its "Llama-3" case (tests/test-chat-template.cpp, as
  vendored in llama-cpp-python 0.3.36). convert_hf_to_gguf copies it into a GGUF as `tokenizer.chat_template`
  (gguf-py/gguf/vocab.py `SpecialVocab`), so an in-process Llama 3 GGUF and llama-server both carry it.
- In-process: the GGUF's template rendered here with an empty `bos_token`; llama.cpp adds BOS when it tokenizes
  (`add_bos`, true in Llama 3 GGUFs): the model reads BOS + that text.
- llama-server: `GET /props` gives the template it uses (tools/server/server-context.cpp: `chat_template` is
  `common_chat_templates_source`, the `--chat-template-file` one when given), rendered here and sent as text on
  /v1/completions; the server adds BOS as in-process (server-common.cpp `tokenize_mixed`, `add_special`).
- vLLM: sent the messages; it renders them with the tokenizer's template through transformers'
  `apply_chat_template` (a jinja2 ImmutableSandboxedEnvironment with trim_blocks and lstrip_blocks,
  transformers utils/chat_template_utils.py `_compile_jinja_template`; bos_token is the tokenizer's) and adds no
  BOS of its own (vllm/entrypoints/openai/protocol.py `ChatCompletionRequest.add_special_tokens`, default False).
- Together: its Llama chat models are sent the rendered text on /v1/completions, BOS written into the text
  (togethercomputer/openapi openapi.yaml `CompletionRequest.prompt`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from jinja2.sandbox import ImmutableSandboxedEnvironment
from tests.conftest import run_cli
from tests.support.scripted_server import ModelSpec, ScriptedServer

from llamacompare.models.registry import resolve
from llamacompare.models.requests import to_request
from llamacompare.tasks.loader import load_suite
from llamacompare.tasks.prompt_template import render_case

META_LLAMA3 = (
    "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + "
    "message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}"
    "{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}"
    "{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}"
)
BOS = "<|begin_of_text|>"
SUITE = "tr_polarity"


def _case() -> tuple[Any, Any]:
    loaded = load_suite(SUITE)
    task = loaded.task(SUITE)
    return task, render_case(task, next(iter(loaded.cases(task))))


def _in_process_text() -> str:
    """What a Llama 3 GGUF run in-process is sent for the first case (the client's path for a local model)."""
    task, rendered = _case()
    request = to_request(resolve("local:smollm2-135m-instruct"), rendered.messages(), task.generation_params(),
                         gguf_template=META_LLAMA3, base_stop=task.base_model_stop or (),
                         chat=rendered.chat_messages())
    assert request.prompt is not None
    return request.prompt


def _as_vllm_renders(messages: list[dict[str, str]]) -> str:
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    return env.from_string(META_LLAMA3).render(messages=messages, bos_token=BOS, add_generation_prompt=True)


class _Bodies(list[dict[str, Any]]):
    """The generate requests a scripted server answered (its `answer` hook sees each body)."""

    def __call__(self, body: dict[str, Any]) -> str:
        self.append(body)
        return "pozitif"


def _run(model: str, tmp_path: Path, *extra: str, env: dict[str, str] | None = None) -> None:
    res = run_cli("run", SUITE, "--limit", "1", "--mode", "generate", "-m", model, "--db", str(tmp_path / "r.db"),
                  "--no-progress", *extra, env=env)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr


def test_the_hosted_engines_read_the_in_process_text(tmp_path: Path) -> None:
    """Together's text and the text vLLM renders from our messages equal BOS + the in-process text, byte for byte."""
    local = _in_process_text()
    assert local.startswith("<|start_header_id|>system<|end_header_id|>\n\nFilm yorumlarını")
    assert "Duygu:<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\npozitif<|eot_id|>" in local

    together_id, together_bodies = "meta-llama/Llama-3-8b-chat-hf", _Bodies()
    with ScriptedServer([ModelSpec(together_id, 8192, 0.2, 0.2)], answer=together_bodies, dialect="together",
                        models_format="together", api_key="tg-test-key") as srv:
        _run(f"together:{together_id}", tmp_path / "t", env={"TOGETHER_API_KEY": "tg-test-key",
                                                             "TOGETHER_BASE_URL": srv.base_url})
    [together] = together_bodies
    assert "messages" not in together

    vllm_id, vllm_bodies = "meta-llama/Meta-Llama-3-8B-Instruct", _Bodies()
    with ScriptedServer([ModelSpec(vllm_id, 8192)], answer=vllm_bodies, dialect="vllm") as srv:
        _run(f"vllm:{vllm_id}", tmp_path / "v", "--base-url", srv.base_url)
    [vllm] = vllm_bodies
    assert "prompt" not in vllm

    assert together["prompt"] == BOS + local
    assert _as_vllm_renders(vllm["messages"]) == BOS + local


@pytest.mark.slow
def test_llama_server_reads_the_in_process_text(cpp_server: Callable[..., str], tmp_path: Path) -> None:
    """The real llama-server given the Llama 3 template (`--chat-template-file`) reports it in /props; the case goes
    out rendered in it, as text on /v1/completions, string for string the in-process text."""
    template = tmp_path / "llama3.jinja"
    template.write_text(META_LLAMA3, encoding="utf-8")
    url = cpp_server("smollm2-135m-instruct", "--chat-template-file", str(template))
    _run("openai:smollm2-135m-instruct", tmp_path, "--base-url", url)
    res = run_cli("export", "latest", "--db", str(tmp_path / "r.db"), "--format", "jsonl")
    assert res.returncode == 0, res.stderr
    [row] = [json.loads(line) for line in res.stdout.splitlines()]
    assert "messages" not in row["request"]
    assert row["request"]["prompt"] == _in_process_text()
