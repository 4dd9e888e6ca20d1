"""The bundled instruct model, SmolLM2-135M-Instruct, in-process: installed without the llm CLI, checked, listed, and
sent each case in its GGUF's own chat template with the few-shot examples as turns."""

from __future__ import annotations

import ctypes
import json
from pathlib import Path

import pytest
from tests.conftest import run_cli

from llamacompare.errors import UsageError
from llamacompare.models.bundled import SMOLLM2, _Packaged, _packaged_path, bundled_model_path, is_installed
from llamacompare.models.client import ModelClient
from llamacompare.models.registry import resolve
from llamacompare.scoring.labels import LabelSet, extract_label
from llamacompare.sync import run_sync
from llamacompare.tasks.loader import load_suite
from llamacompare.tasks.prompt_template import render_case

INSTRUCT = "local:smollm2-135m-instruct"


@pytest.fixture(scope="module")
def instruct_file(isolated_home: Path) -> Path:
    return bundled_model_path("smollm2-135m-instruct")


def test_it_is_installed_without_the_llm_cli_and_verified(instruct_file: Path) -> None:
    import importlib.util

    assert is_installed("smollm2-135m-instruct")
    assert importlib.util.find_spec("llm") is None  # set-up took the GGUF file, not the CLI it is a plugin of
    assert instruct_file.read_bytes()[:4] == b"GGUF"
    assert instruct_file.with_suffix(".verified").read_text() == SMOLLM2.sha256
    # a file that is not the one the package ships is refused, not loaded
    wrong = _Packaged(SMOLLM2.distribution, SMOLLM2.version, SMOLLM2.member, "0" * 64)
    with pytest.raises(UsageError, match="--force-reinstall"):
        _packaged_path(wrong)
    assert bundled_model_path("smollm2-135m-instruct") == instruct_file  # the verified copy stays


def test_both_bundled_models_are_listed_and_resolve() -> None:
    res = run_cli("models")
    assert res.returncode == 0, res.stderr
    assert "local:gemma-3-270m  (bundled base model" in res.stdout
    assert f"{INSTRUCT}  (bundled instruct model" in res.stdout and "not installed" not in res.stdout
    for spelling in (INSTRUCT, "local:SmolLM2", "local:smollm2-135m"):
        spec = resolve(spelling)
        assert (spec.name, spec.context_length, spec.prompt_format) == (INSTRUCT, 8192, "text")


def _llama_cpp_chatml(messages: list[dict[str, str]]) -> str:
    """llama.cpp's own C++ rendering of a ChatML conversation (`llama_chat_apply_template`, src/llama-chat.cpp),
    an implementation independent of the Jinja template we render: the two must agree byte for byte."""
    import llama_cpp

    arr = (llama_cpp.llama_chat_message * len(messages))(
        *[llama_cpp.llama_chat_message(m["role"].encode(), m["content"].encode()) for m in messages])
    buf = ctypes.create_string_buffer(1 << 16)
    n = llama_cpp.llama_chat_apply_template(b"chatml", arr, len(messages), True, buf, len(buf))
    assert 0 < n < len(buf)
    return buf.raw[:n].decode("utf-8")


def test_a_few_shot_case_is_rendered_in_the_ggufs_chat_template(instruct_file: Path) -> None:
    """SmolLM2's template (`tokenizer.chat_template` in the GGUF: ChatML, with a default system turn when there is
    none) applied to the system prompt, the four examples as user/assistant turns and the case."""
    task = load_suite("sst2").task("sst2")
    case = next(iter(load_suite("sst2").cases(task)))
    rendered = render_case(task, case)
    client = ModelClient(resolve(INSTRUCT))
    try:
        run_sync(client.prepare())
        request = client.request_for(rendered.messages(), task.generation_params(), prefix=rendered.prefix,
                                     base_stop=task.base_model_stop or (), chat=rendered.chat_messages())
    finally:
        run_sync(client.aclose())
    chat = rendered.chat_messages()
    assert [m["role"] for m in chat] == ["system"] + ["user", "assistant"] * 4 + ["user"]
    assert chat[1:3] == [
        {"role": "user", "content": "Review: a warm , funny and beautifully acted film that earns every one of its "
                                    "tears .\nSentiment:"},
        {"role": "assistant", "content": "positive"},
    ]
    assert chat[-1] == {"role": "user", "content": f"Review: {case.fields['text']}\nSentiment:"}
    expected = ("<|im_start|>system\nClassify the sentiment of each movie review as positive or negative. Answer "
                "with one word.<|im_end|>\n<|im_start|>user\nReview: a warm , funny and beautifully acted film that "
                "earns every one of its tears .\nSentiment:<|im_end|>\n<|im_start|>assistant\npositive<|im_end|>\n")
    assert request.prompt is not None and request.prompt.startswith(expected)
    assert request.prompt.endswith(f"Review: {case.fields['text']}\nSentiment:<|im_end|>\n<|im_start|>assistant\n")
    assert request.prompt == _llama_cpp_chatml([dict(m) for m in chat])
    # a chat model's answer is not cut at a base model's line end, and it has room for a sentence
    assert request.params.stop == () and request.params.max_tokens == 64
    # the system and example turns are the KV-cache prefix every case shares
    assert request.prefix is not None and request.prompt.startswith(request.prefix)
    assert request.prefix.endswith("<|im_start|>user\n") and case.fields["text"] not in request.prefix

    base = ModelClient(resolve("local:gemma-3-270m")).request_for(
        rendered.messages(), task.generation_params(), prefix=rendered.prefix, base_stop=task.base_model_stop or (),
        chat=rendered.chat_messages())
    assert base.prompt == f"{rendered.system}\n\n{rendered.text}"  # a base model reads the few-shot block as text
    assert base.params.stop == ("\n",)


@pytest.mark.slow
def test_the_instruct_model_answers_sst2_with_its_labels_not_cut(tmp_path: Path, instruct_file: Path) -> None:
    """The built-in sst2 suite on the instruct model: the answers reach their label (at most 5% stop at max_tokens
    without one; with the old `max_tokens: 4` nearly all did), and the run summary says nothing was cut."""
    db = str(tmp_path / "i.db")
    res = run_cli("run", "sst2", "--limit", "40", "-m", INSTRUCT, "--db", db, "--no-progress")
    assert res.returncode == 0, res.stderr
    exported = run_cli("export", "latest", "--db", db, "--format", "jsonl").stdout
    rows = [json.loads(line) for line in exported.splitlines()]
    assert len(rows) == 40
    labels = LabelSet({"positive": ["pos"], "negative": ["neg"]})
    cut = [r for r in rows if r["finish_reason"] == "length" and extract_label(r["answer"], labels).label is None]
    assert len(cut) <= 2, [r["answer"] for r in cut]
    labelled = [r for r in rows if extract_label(r["answer"], labels).label is not None]
    assert len(labelled) >= 36
    assert all(r["request"]["prompt"].startswith("<|im_start|>system\n") for r in rows)
    assert "stopped at max_tokens" not in res.stdout


def test_models_loading_side_by_side_leave_stdout_and_stderr_alone(instruct_file: Path) -> None:
    """Two local models load on two worker threads in a run comparing them; each load swaps fds 1 and 2 for
    /dev/null and back (llama-cpp-python when not verbose, and our own quiet stderr). Interleaved, one thread
    restored the other's /dev/null: a run's summary on stdout was lost about one time in six."""
    import os
    import threading

    from llamacompare.models.local import vocab_tokenizer

    paths = [str(bundled_model_path()), str(instruct_file)]
    before = (os.fstat(1).st_ino, os.fstat(2).st_ino)
    for _ in range(8):
        threads = [threading.Thread(target=vocab_tokenizer, args=(paths[i % 2],)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert (os.fstat(1).st_ino, os.fstat(2).st_ino) == before
