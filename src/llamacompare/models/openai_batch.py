"""The batch endpoints of OpenAI-compatible servers: OpenAI's Batch API and Together's, which differ in small ways.

What each part follows:

- OpenAI (openai/openai-python `types/batch.py`, `types/file_object.py`, `types/batch_create_params.py`,
  `resources/files.py`; https://platform.openai.com/docs/guides/batch): a JSONL file of
  `{custom_id, method: "POST", url: "/v1/chat/completions", body}` uploaded to `POST /v1/files` (multipart,
  `purpose=batch`), a job from `POST /v1/batches` `{input_file_id, endpoint, completion_window: "24h"}`, read back
  with `GET /v1/batches/{id}`: `status` validating, in_progress, finalizing, completed, failed, expired, cancelling,
  cancelled; `request_counts` {total, completed, failed}; `output_file_id` and `error_file_id`, whose content
  (`GET /v1/files/{id}/content`) is one line per request: `{id, custom_id, response: {status_code, request_id,
  body}, error: {code, message} | null}`. An expired batch keeps what it finished; the rest are in the error file
  (code `batch_expired`). Limits: 50,000 requests and 200 MB a batch.
- Together (togethercomputer/openapi `openapi.yaml`: `/files/upload`, `/batches`, `/batches/{id}`, `BatchJob`,
  `BatchJobWithWarning`, `BatchJobStatus`, `FilePurpose`; https://docs.together.ai/docs/batch-inference): lines are
  `{custom_id (at most 64 characters), body}`, uploaded to `POST /v1/files/upload` (multipart `purpose=batch-api`,
  `file_name`, `file`); `POST /v1/batches` answers 201 with the job inside `{job, warning}`, `GET /v1/batches/{id}`
  the job itself; `status` VALIDATING, IN_PROGRESS, COMPLETED, FAILED, EXPIRED, CANCELLED; `progress` 0-100 instead
  of counts; output and error files as OpenAI's; the endpoint `/v1/chat/completions` or `/v1/completions`
  (together-python `src/together/types/batch.py` `BatchEndpoint`). Limits: 50,000 requests and 100 MB a batch;
  only the models Together lists are billed at half price, the others at the live price
  (https://docs.together.ai/docs/inference/batch/overview, `catalog.TOGETHER_BATCH_DISCOUNTED`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import aiohttp

from llamacompare import jsonfast
from llamacompare.errors import ProviderError, ServerError, UsageError
from llamacompare.models.base import (
    BatchAnswer,
    BatchAPI,
    BatchJob,
    BatchLimits,
    BatchLine,
    BatchState,
    Request,
    Response,
)
from llamacompare.models.catalog import TOGETHER_BATCH_DISCOUNTED
from llamacompare.models.openai_compat import OpenAICompatProvider, _error_body, _parse_full, _transport_errors
from llamacompare.models.streaming import error_message
from llamacompare.toolcall import ToolCall

_OPENAI_STATES: dict[str, BatchState] = {
    "validating": "running", "in_progress": "running", "finalizing": "running", "cancelling": "running",
    "completed": "ended", "expired": "expired", "cancelled": "cancelled", "failed": "failed",
}


class OpenAIBatch(BatchAPI):
    """OpenAI's Batch API, through the provider's connection pool, key and prices."""

    limits = BatchLimits(max_requests=50_000, max_bytes=200 * 1024 * 1024, window="24h")
    purpose = "batch"
    upload_path = "/files"

    def __init__(self, provider: OpenAICompatProvider) -> None:
        self.p = provider

    def line(self, custom_id: str, model: str, request: Request) -> BatchLine:
        path = "/v1/completions" if request.prompt is not None else "/v1/chat/completions"
        return BatchLine(custom_id, {"custom_id": custom_id, "method": "POST", "url": path,
                                     "body": self.p.payload(model, request, stream=False)})

    async def submit(self, model: str, lines: list[BatchLine]) -> BatchJob:
        data = b"".join(jsonfast.dumps_bytes(x.payload) + b"\n" for x in lines)
        file_id = await self._upload(data)
        endpoint = "/v1/completions" if "prompt" in self._body(lines[0]) else "/v1/chat/completions"
        status, body, headers = await self.p._request(  # noqa: SLF001 - the provider's own transport
            "POST", "/batches", self._create_body(file_id, endpoint))
        if status not in (200, 201):
            self.p._raise_for(status, body, headers)  # noqa: SLF001
        job = self.job(body)
        return job if job.input_file else replace(job, input_file=file_id)

    def _body(self, line: BatchLine) -> dict[str, Any]:
        body = line.payload.get("body")
        return body if isinstance(body, dict) else {}

    def _create_body(self, file_id: str, endpoint: str) -> dict[str, Any]:
        return {"input_file_id": file_id, "endpoint": endpoint, "completion_window": self.limits.window}

    def _form(self, data: bytes) -> aiohttp.FormData:
        form = aiohttp.FormData()
        form.add_field("purpose", self.purpose)
        form.add_field("file", data, filename="llamacompare-batch.jsonl", content_type="application/jsonl")
        return form

    async def _upload(self, data: bytes) -> str:
        url = self.p.base_url + self.upload_path
        payload = self._form(data)()
        status, raw = await self._raw("POST", url, payload, {"Content-Type": payload.content_type})
        body = _json(raw, url)
        if status not in (200, 201):
            self.p._raise_for(status, body, None)  # noqa: SLF001
        file_id = body.get("id") if isinstance(body, dict) else None
        if not isinstance(file_id, str):
            raise ServerError(f"{url} gave no file id", status=status)
        return file_id

    async def _raw(self, method: str, url: str, data: Any = None,
                   headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        with _transport_errors(url, self.p.timeout_s, "no answer", "connection to"):
            async with self.p._sess().request(method, url, data=data, headers=headers) as resp:  # noqa: SLF001
                return resp.status, await resp.read()

    async def poll(self, job: BatchJob) -> BatchJob:
        status, body, headers = await self.p._request("GET", f"/batches/{job.id}", None)  # noqa: SLF001
        self.p._raise_for(status, body, headers)  # noqa: SLF001
        return self.job(body)

    def job(self, body: Any) -> BatchJob:
        if not isinstance(body, dict) or not isinstance(body.get("id"), str):
            raise ServerError(f"{self.p.base_url}/batches answered without a batch id", status=200)
        status = str(body.get("status"))
        raw_counts, raw_errors = body.get("request_counts"), body.get("errors")
        counts: dict[str, Any] = raw_counts if isinstance(raw_counts, dict) else {}
        errors: dict[str, Any] = raw_errors if isinstance(raw_errors, dict) else {}
        listed = errors.get("data")
        first = listed[0] if isinstance(listed, list) and listed else {}
        return BatchJob(body["id"], status, _OPENAI_STATES.get(status, "running"), body.get("input_file_id"),
                        body.get("output_file_id"), body.get("error_file_id"), _int(counts.get("total")),
                        _int(counts.get("completed")), _int(counts.get("failed")),
                        message=str(first.get("message") or "") if isinstance(first, dict) else "")

    async def results(self, model: str, job: BatchJob) -> AsyncIterator[BatchAnswer]:
        for file_id in (job.output_file, job.error_file):
            if not file_id:
                continue
            url = f"{self.p.base_url}/files/{file_id}/content"
            status, raw = await self._raw("GET", url)
            if status != 200:
                self.p._raise_for(status, _error_body(raw), None)  # noqa: SLF001
            for text in raw.splitlines():
                if text.strip():
                    yield self.read_line(model, text)

    def read_line(self, model: str, text: bytes) -> BatchAnswer:
        """One output or error line; a line that is not what the format says is an error, never a crash."""
        try:
            data = jsonfast.loads(text)
        except ValueError:
            return BatchAnswer(None, error=f"malformed batch output line ({len(text)} bytes)")
        custom_id = data.get("custom_id") if isinstance(data, dict) else None
        if not isinstance(custom_id, str):
            return BatchAnswer(None, error="batch output line without a custom_id")
        error = data.get("error")
        if error:  # OpenAI's {code, message}; vLLM's message, or its error response {error: {message, ...}}
            if isinstance(error, dict) and "message" in error:
                return BatchAnswer(custom_id, error=f"{error.get('code') or 'error'}: {error.get('message')}")
            return BatchAnswer(custom_id, error=error_message(error) if isinstance(error, dict) else str(error))
        resp = data.get("response")
        if not isinstance(resp, dict) or not isinstance(resp.get("body"), dict):
            return BatchAnswer(custom_id, error="batch output line without a response body")
        body = resp["body"]
        if resp.get("status_code") != 200:
            return BatchAnswer(custom_id, error=f"status {resp.get('status_code')}: {error_message(body)}")
        choices = body.get("choices")
        chat = bool(choices) and isinstance(choices[0], dict) and "message" in choices[0]
        try:
            text_out, finish, usage, calls = _parse_full(body, chat=chat)
        except ProviderError as exc:
            return BatchAnswer(custom_id, error=f"malformed answer in the batch output: {exc}")
        pt, ct = _int(usage.get("prompt_tokens")), _int(usage.get("completion_tokens"))
        live, source = self.p._cost(model, pt, ct)  # noqa: SLF001
        return BatchAnswer(custom_id, batch_response(model, text_out, finish, pt, ct, live, source,
                                                     self.limits.discount_for(model), calls))


class TogetherBatch(OpenAIBatch):
    """Together's: `{custom_id, body}` lines, its own upload path and purpose, the job wrapped on creation,
    upper-case states and a percentage for progress."""

    limits = BatchLimits(max_requests=50_000, max_bytes=100 * 1024 * 1024, window="24h",
                         discounted=TOGETHER_BATCH_DISCOUNTED)
    purpose = "batch-api"
    upload_path = "/files/upload"

    def line(self, custom_id: str, model: str, request: Request) -> BatchLine:
        return BatchLine(custom_id, {"custom_id": custom_id, "body": self.p.payload(model, request, stream=False)})

    def _form(self, data: bytes) -> aiohttp.FormData:
        form = aiohttp.FormData()
        form.add_field("purpose", self.purpose)
        form.add_field("file_name", "llamacompare-batch.jsonl")
        form.add_field("file", data, filename="llamacompare-batch.jsonl", content_type="application/jsonl")
        return form

    def _create_body(self, file_id: str, endpoint: str) -> dict[str, Any]:
        return {"input_file_id": file_id, "endpoint": endpoint}

    def job(self, body: Any) -> BatchJob:
        if isinstance(body, dict) and isinstance(body.get("job"), dict):
            body = body["job"]  # creation's `BatchJobWithWarning`
        if not isinstance(body, dict) or not isinstance(body.get("id"), str):
            raise ServerError(f"{self.p.base_url}/batches answered without a batch id", status=200)
        status = str(body.get("status"))
        state = _OPENAI_STATES.get(status.lower(), "running")
        progress = body.get("progress")
        return BatchJob(body["id"], status, state, body.get("input_file_id"), body.get("output_file_id"),
                        body.get("error_file_id"), message=str(body.get("error") or ""),
                        percent=float(progress) if isinstance(progress, int | float) else None)


def batch_response(model: str, text: str, finish: str | None, pt: int | None, ct: int | None, live: float | None,
                   source: str, discount: float, tool_calls: tuple[ToolCall, ...] = ()) -> Response:
    """An answer that came through a batch: priced at the batch rate, with no latency of its own (NaN, stored as
    none: the time a batch takes says nothing of the model's speed)."""
    cost = None if live is None else live * discount
    where = f"batch: {discount:.0%} of {source}" if live is not None else "batch: unknown"
    return Response(model=model, text=text, finish_reason=finish, prompt_tokens=pt, completion_tokens=ct,
                    latency_s=float("nan"), cost_usd=cost, cost_source=where, tool_calls=tool_calls)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _json(raw: bytes, url: str) -> Any:
    try:
        return jsonfast.loads(raw) if raw else None
    except ValueError:
        raise ServerError(f"{url} returned malformed JSON ({len(raw)} bytes)", status=200) from None


class VLLMOfflineBatch(OpenAIBatch):
    """vLLM's server takes no batches, but its `run-batch` (vllm-project/vllm `vllm/entrypoints/openai/run_batch.py`)
    reads OpenAI's batch file on a GPU box with no server and writes OpenAI's output lines (`BatchRequestOutput`:
    `{id, custom_id, response: {status_code, request_id, body}, error}`; an error line has status 400, no body,
    and `error` a message or an `ErrorResponse`). It takes `/v1/chat/completions` only (no `/v1/completions`)."""

    hosted = False
    limits = BatchLimits(max_requests=10**9, max_bytes=None, window="as long as the GPU box takes", discount=1.0)

    def line(self, custom_id: str, model: str, request: Request) -> BatchLine:
        if request.prompt is not None:
            raise UsageError(f"{model} is sent plain text, and vLLM's run-batch takes /v1/chat/completions only; "
                             "export it with --api chat (the server's chat template)")
        return super().line(custom_id, model, request)

    async def submit(self, model: str, lines: list[BatchLine]) -> BatchJob:
        raise ProviderError("vLLM's server takes no batches: use `llamacompare batch export` and `batch import`")

    async def poll(self, job: BatchJob) -> BatchJob:
        raise ProviderError("vLLM's server takes no batches")
