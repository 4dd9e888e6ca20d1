"""What vLLM's `run-batch` writes for a batch file, without a GPU: the output lines of
vllm-project/vllm `vllm/entrypoints/openai/run_batch.py` (at 0056ae7): one `BatchRequestOutput` a request, in input
order (`OrderedStreamingWriter`), `{id: "vllm-<uuid>", custom_id, response: BatchResponseData, error}`, where a
success is `response: {status_code: 200, request_id: "vllm-batch-<uuid>", body: ChatCompletionResponse}` and
`error: null`, and a failure (`make_error_request_output`) is `response: {status_code: 400, request_id, body: null}`
with `error` the message. Only `/v1/chat/completions` is generated (`create_request_task`); any other url is an
error line naming the supported endpoints. The answer bodies are the scripted server's chat completions
(tests/support/openai_shapes.py), from the fake model."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from pathlib import Path

from . import fake_lm
from . import openai_shapes as shapes


def run_batch(input_file: Path, output_file: Path, *, answers: Sequence[str] = ("positive", "negative"),
              fail: Sequence[int] = ()) -> None:
    """Answer every line of `input_file` (those at the indices in `fail` with an engine error) into `output_file`."""
    out = []
    for n, raw in enumerate(input_file.read_text(encoding="utf-8").splitlines()):
        if not raw.strip():
            continue
        line = json.loads(raw)
        rid = f"vllm-batch-{uuid.uuid4().hex}"
        error: str | None = None
        if line["url"] != shapes.CHAT_PATH:
            error = (f"URL {line['url']} was used. Supported endpoints: /v1/chat/completions, /v1/embeddings, "
                     "/score, /rerank.")
        elif n in fail:
            error = "CUDA out of memory"
        if error is not None:
            response = {"status_code": 400, "request_id": rid, "body": None}
        else:
            body = line["body"]
            a = shapes.build_answer(shapes.CHAT_PATH, body, body["model"],
                                    lambda b: fake_lm.pick_answer(b, answers), answers)
            response = {"status_code": 200, "request_id": rid,
                        "body": shapes.full_body(shapes.CHAT_PATH, body, body["model"], a)}
        out.append(json.dumps({"id": f"vllm-{uuid.uuid4().hex}", "custom_id": line["custom_id"],
                               "response": response, "error": error}, ensure_ascii=False))
    output_file.write_text("\n".join(out) + "\n", encoding="utf-8")
