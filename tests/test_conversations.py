"""Conversations as cases: a case's `messages:` (inline or a JSONL column) is sent as a multi-turn chat, each model
in its own chat format. The rendered prompts are checked string-exact against the published formats:

- Llama 2 chat: Meta's reference `chat_completion` in facebookresearch/llama `llama/generation.py` (B_INST/E_INST,
  B_SYS/E_SYS, each user turn `<s>[INST] ... [/INST]`, each answer ` ... </s>`), see prompts/chat_templates.py;
- Llama 3 instruct: the header tokens of meta-llama/llama3 `llama/tokenizer.py` `ChatFormat`
  (`<|start_header_id|>role<|end_header_id|>\\n\\n content <|eot_id|>`, then an open assistant header);
- a GGUF's own template: Gemma 3 instruct's `chat_template` from google/gemma-3-270m-it `tokenizer_config.json`
  (GEMMA3_CHAT_TEMPLATE below, text-only; its image branch kept as published), rendered as Hugging Face does;
- servers with their own template (llama.cpp, vLLM, OpenAI): the `messages` array of /v1/chat/completions.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import run_cli
from tests.support.scripted_server import ModelSpec, ScriptedServer

from llamacompare.errors import UsageError
from llamacompare.models.base import Params
from llamacompare.models.registry import resolve
from llamacompare.models.requests import to_request
from llamacompare.tasks import load_suite
from llamacompare.tasks.prompt_template import render_case

SUITE = """
name: sohbet
tasks:
  - id: sohbet
    type: generate
    system: "Kısa yanıt ver."
    params: {max_tokens: 8}
    cases:
      - id: bogaz
        sehir: İstanbul
        messages:
          - {role: user, content: "{sehir} hangi denizin kıyısında?"}
          - {role: assistant, content: "Marmara Denizi."}
          - {role: user, content: "Peki {sehir} boğazının adı ne?"}
"""

SYSTEM, U1, A1, U2 = ("Kısa yanıt ver.", "İstanbul hangi denizin kıyısında?", "Marmara Denizi.",
                      "Peki İstanbul boğazının adı ne?")
MESSAGES = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": U1},
            {"role": "assistant", "content": A1}, {"role": "user", "content": U2}]
LLAMA2 = f"<s>[INST] <<SYS>>\n{SYSTEM}\n<</SYS>>\n\n{U1} [/INST] {A1} </s><s>[INST] {U2} [/INST]"
LLAMA3 = ("<|begin_of_text|>"
          f"<|start_header_id|>system<|end_header_id|>\n\n{SYSTEM}<|eot_id|>"
          f"<|start_header_id|>user<|end_header_id|>\n\n{U1}<|eot_id|>"
          f"<|start_header_id|>assistant<|end_header_id|>\n\n{A1}<|eot_id|>"
          f"<|start_header_id|>user<|end_header_id|>\n\n{U2}<|eot_id|>"
          "<|start_header_id|>assistant<|end_header_id|>\n\n")
# a base model without a chat template (the bundled Gemma 3 270M GGUF has none): a plain transcript, models/requests.py
PLAIN = f"{SYSTEM}\n\nUser: {U1}\nAssistant: {A1}\nUser: {U2}\nAssistant:"

# google/gemma-3-270m-it, tokenizer_config.json, "chat_template" (the same in every Gemma 3 instruct model)
GEMMA3_CHAT_TEMPLATE = (
    "{{ bos_token }}\n{%- if messages[0]['role'] == 'system' -%}\n    {%- if messages[0]['content'] is string -%}\n"
    "        {%- set first_user_prefix = messages[0]['content'] + '\\n\\n' -%}\n    {%- else -%}\n"
    "        {%- set first_user_prefix = messages[0]['content'][0]['text'] + '\\n\\n' -%}\n    {%- endif -%}\n"
    "    {%- set loop_messages = messages[1:] -%}\n{%- else -%}\n    {%- set first_user_prefix = \"\" -%}\n"
    "    {%- set loop_messages = messages -%}\n{%- endif -%}\n{%- for message in loop_messages -%}\n"
    "    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) -%}\n"
    "        {{ raise_exception(\"Conversation roles must alternate user/assistant/user/assistant/...\") }}\n"
    "    {%- endif -%}\n    {%- if (message['role'] == 'assistant') -%}\n        {%- set role = \"model\" -%}\n"
    "    {%- else -%}\n        {%- set role = message['role'] -%}\n    {%- endif -%}\n"
    "    {{ '<start_of_turn>' + role + '\\n' + (first_user_prefix if loop.first else \"\") }}\n"
    "    {%- if message['content'] is string -%}\n        {{ message['content'] | trim }}\n"
    "    {%- elif message['content'] is iterable -%}\n        {%- for item in message['content'] -%}\n"
    "            {%- if item['type'] == 'image' -%}\n                {{ '<start_of_image>' }}\n"
    "            {%- elif item['type'] == 'text' -%}\n                {{ item['text'] | trim }}\n"
    "            {%- endif -%}\n        {%- endfor -%}\n    {%- else -%}\n"
    "        {{ raise_exception(\"Invalid content type\") }}\n    {%- endif -%}\n    {{ '<end_of_turn>\\n' }}\n"
    "{%- endfor -%}\n{%- if add_generation_prompt -%}\n    {{'<start_of_turn>model\\n'}}\n{%- endif -%}\n"
)
GEMMA3 = (f"<start_of_turn>user\n{SYSTEM}\n\n{U1}<end_of_turn>\n<start_of_turn>model\n{A1}<end_of_turn>\n"
          f"<start_of_turn>user\n{U2}<end_of_turn>\n<start_of_turn>model\n")


@pytest.fixture
def suite_file(tmp_path: Path) -> Path:
    p = tmp_path / "sohbet.yaml"
    p.write_text(SUITE, encoding="utf-8")
    return p


def test_a_conversation_case_is_filled_and_rendered_in_each_models_own_format(suite_file: Path) -> None:
    suite = load_suite(suite_file)
    task = suite.tasks[0]
    (case,) = suite.cases(task)
    assert case.fields == {"id": "bogaz", "sehir": "İstanbul"} and case.messages is not None
    messages = render_case(task, case).messages()
    assert messages == MESSAGES  # the task's system prompt first, placeholders filled from the case
    params = Params(max_tokens=8)
    assert to_request(resolve("META-LLAMA/Llama-2-7B-CHAT-HF"), messages, params).prompt == LLAMA2
    assert to_request(resolve("META-LLAMA/Llama-3-8B-CHAT-HF"), messages, params).prompt == LLAMA3
    server = to_request(resolve("openai:gemma-3-270m", base_url="http://127.0.0.1:1/v1"), messages, params)
    assert server.prompt is None and list(server.messages or ()) == MESSAGES
    plain = to_request(resolve("local:gemma-3-270m"), messages, params)
    assert plain.prompt == PLAIN and plain.params.stop == ("\nUser:",)  # the answer ends where the next turn begins
    gguf = to_request(resolve("local:gemma-3-270m"), messages, params, gguf_template=GEMMA3_CHAT_TEMPLATE)
    assert gguf.prompt == GEMMA3  # BOS is the tokenizer's to add, as llama.cpp does for the local model


def test_a_base_model_answers_one_turn_of_a_transcript_not_the_users_next_ones() -> None:
    """Without a chat template the bundled base model reads a plain "User:/Assistant:" transcript and, left alone,
    writes the user's next turn and its own answer to it, again and again, up to max_tokens. Its answer stops at
    the next "User:"; a caller's own stops win; a single prompt, sent verbatim, gets none."""
    from llamacompare import llama_chat

    local = resolve("local:gemma-3-270m")
    assert to_request(local, MESSAGES, Params(stop=("###",))).params.stop == ("###",)
    assert to_request(local, MESSAGES[:2], Params()).params.stop == ()  # one user turn: verbatim, no transcript
    assert to_request(local, MESSAGES, Params(), add_inst=False).params.stop == ("\nUser:",)
    answer = llama_chat([U1, U2], [A1], model="local:gemma-3-270m", system=SYSTEM, max_tokens=48)
    assert answer.strip() and "User:" not in answer and "Assistant:" not in answer, answer


def test_a_conversations_own_system_turn_wins_over_the_tasks(tmp_path: Path) -> None:
    p = tmp_path / "s.yaml"
    p.write_text(SUITE.replace("          - {role: user, content: \"{sehir} hangi",
                               "          - {role: system, content: \"Türkçe yanıtla.\"}\n"
                               "          - {role: user, content: \"{sehir} hangi"), encoding="utf-8")
    loaded = load_suite(p)
    task = loaded.tasks[0]
    (case,) = loaded.cases(task)
    messages = render_case(task, case).messages()
    assert messages[0] == {"role": "system", "content": "Türkçe yanıtla."} and len(messages) == 4


def test_a_jsonl_dataset_column_carries_conversations(tmp_path: Path) -> None:
    rows = [{"id": "a", "sehir": "İzmir", "messages": [{"role": "user", "content": "{sehir} nerede?"}]},
            {"id": "b", "sehir": "Ankara", "messages": [{"role": "user", "content": "{sehir}?"},
                                                        {"role": "assistant", "content": "Başkent."},
                                                        {"role": "user", "content": "Nüfusu?"}]}]
    (tmp_path / "sohbet.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                                           encoding="utf-8")
    p = tmp_path / "s.yaml"
    p.write_text("tasks:\n  - id: t\n    type: generate\n    dataset: sohbet.jsonl\n", encoding="utf-8")
    loaded = load_suite(p)
    task = loaded.tasks[0]
    a, b = loaded.cases(task)
    assert render_case(task, a).messages() == [{"role": "user", "content": "İzmir nerede?"}]
    assert [m["role"] for m in render_case(task, b).messages()] == ["user", "assistant", "user"]

    rows[1]["messages"] = [{"role": "user", "content": "x"}, {"role": "user", "content": "y"}]
    (tmp_path / "sohbet.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                                           encoding="utf-8")
    with pytest.raises(UsageError, match=r"sohbet\.jsonl:2: messages\[1\]\.role: role 'user' here: after a user "
                                         r"turn comes a assistant turn"):
        load_suite(p)


@pytest.mark.parametrize(("messages", "field", "message"), [
    ('[{role: user, content: "a"}, {role: assistant, content: "b"}]', "messages[1].role",
     "the last message must be the user's"),
    ('[{role: assistant, content: "a"}, {role: user, content: "b"}]', "messages[0].role",
     "role 'assistant' here"),
    ('[{role: user, content: "a"}, {role: system, content: "b"}, {role: user, content: "c"}]', "messages[1].role",
     "only the first message may be system"),
    ('[{role: kullanici, content: "a"}]', "messages[0].role", "role 'kullanici' is not one of system, user"),
    ('[{role: user, content: ""}]', "messages[0].content", "the content is empty"),
    ('[{role: user, content: "{yok} nedir?"}]', "messages[0].content", "placeholder {yok} is not a field"),
    ('[{role: user, content: "{x"}]', "messages[0].content", "bad braces"),
    ('[]', "messages", "must be a non-empty list"),
    ('[{role: user, text: "a"}]', "messages[0]", "just `role` and `content`"),
])
def test_bad_conversations_are_named_by_file_line_and_field(tmp_path: Path, messages: str, field: str,
                                                            message: str) -> None:
    p = tmp_path / "bad.yaml"
    p.write_text("tasks:\n  - id: t\n    type: generate\n    cases:\n      - id: c\n        sehir: Bursa\n"
                 f"        messages: {messages}\n", encoding="utf-8")
    with pytest.raises(UsageError) as e:
        load_suite(p)
    msg = str(e.value)
    assert msg.startswith(("bad.yaml:7: ", f"{p}:7: ")) and f": tasks[0].cases[0].{field}: " in msg, msg
    assert message in msg, msg


def test_a_case_without_messages_in_a_task_without_a_template_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "bad.yaml"
    p.write_text("tasks:\n  - id: t\n    type: generate\n    cases:\n      - {id: c, messages: "
                 "[{role: user, content: a}]}\n      - {id: d, text: b}\n", encoding="utf-8")
    with pytest.raises(UsageError, match=r"tasks\[0\]\.template: required field 'template' is missing"):
        load_suite(p)
    res = run_cli("run", str(p), "-m", "openai:x", "--base-url", "http://127.0.0.1:9/v1")
    assert res.returncode == 2 and "Traceback" not in res.stderr and res.stderr.count("\n") == 1


def test_together_llama_models_get_the_conversation_in_their_own_template(suite_file: Path, tmp_path: Path) -> None:
    """Together's Llama chat models are sent the published template as text on /completions (its openapi.yaml
    CompletionRequest `prompt`), replayed by the scripted server in Together's dialect."""
    bodies: list[dict[str, Any]] = []

    def answer(body: dict[str, Any]) -> str:
        bodies.append(body)
        return "Karadeniz."

    specs = [ModelSpec("meta-llama/Llama-2-7b-chat-hf", 4096, 0.2, 0.2),
             ModelSpec("meta-llama/Llama-3-8b-chat-hf", 8192, 0.2, 0.2)]
    with ScriptedServer(specs, answer=answer, dialect="together", models_format="together",
                        api_key="tg-test-key") as srv:
        env = {"TOGETHER_API_KEY": "tg-test-key", "TOGETHER_BASE_URL": srv.base_url}
        res = run_cli("run", str(suite_file), "-m", "META-LLAMA/Llama-2-7B-CHAT-HF", "-m",
                      "META-LLAMA/Llama-3-8B-CHAT-HF", "--db", str(tmp_path / "t.db"), "--json", env=env)
        paths = {r.path for r in srv.requests}
    assert res.returncode == 0, res.stderr
    prompts = {b["model"]: b["prompt"] for b in bodies}
    assert prompts == {"meta-llama/Llama-2-7b-chat-hf": LLAMA2, "meta-llama/Llama-3-8b-chat-hf": LLAMA3}
    assert "/v1/completions" in paths and "/v1/chat/completions" not in paths
    (case,) = json.loads(res.stdout)["report"]["cases"]
    assert case["input"] == f"[user] {U1}\n[assistant] {A1}\n[user] {U2}"
    assert {a["text"] for a in case["answers"].values()} == {"Karadeniz."}


@pytest.mark.slow
def test_the_bundled_model_and_the_llama_cpp_server_answer_the_conversation(suite_file: Path, tmp_path: Path,
                                                                           llama_server: str) -> None:
    """In-process, the bundled GGUF (no chat template: a base model) reads the transcript; llama-cpp-python's
    server is sent the messages array and applies its own template."""
    db = tmp_path / "c.db"
    res = run_cli("run", str(suite_file), "-m", "local:gemma-3-270m", "-m", "openai:gemma-3-270m",
                  "--base-url", llama_server, "--db", str(db), "--no-progress")
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr
    rows = [json.loads(line) for line in run_cli("export", "latest", "--db", str(db), "--format",
                                                 "jsonl").stdout.splitlines()]
    by_model = {r["model"]: r for r in rows}
    assert set(by_model) == {"local:gemma-3-270m", "openai:gemma-3-270m"}
    assert all(r["status"] == "ok" and (r["answer"] or "").strip() for r in rows)
    assert by_model["local:gemma-3-270m"]["request"]["prompt"] == PLAIN
    assert "User:" not in by_model["local:gemma-3-270m"]["answer"]
    assert by_model["openai:gemma-3-270m"]["request"]["messages"] == MESSAGES
    assert by_model["local:gemma-3-270m"]["input"]["messages"][2] == {"role": "user",
                                                                      "content": "Peki {sehir} boğazının adı ne?"}


def test_content_free_calibration_needs_a_template(tmp_path: Path) -> None:
    p = tmp_path / "bad.yaml"
    p.write_text("tasks:\n  - id: t\n    type: classify\n    mode: logprob\n    calibration: content_free\n"
                 "    labels: {Evet: [], Hayır: []}\n    cases:\n      - {id: c, label: Evet, messages: "
                 "[{role: user, content: a}]}\n", encoding="utf-8")
    with pytest.raises(UsageError, match=r"bad\.yaml:5: tasks\[0\]\.calibration: content_free calibration fills"):
        load_suite(p)
