"""Anthropic's Message Batches, built from Anthropic's SDK (anthropics/anthropic-sdk-python at 009b035):

- `POST /v1/messages/batches` `{requests: [{custom_id, params}]}` (`types/messages/batch_create_params.py`; the
  params are a non-streaming Messages request: the body `messages_request` makes for a live call, without
  `stream`); `custom_id` is 1-64 characters of letters, digits, `_` and `-` (our cache keys are 64 hex digits).
- The batch (`types/messages/message_batch.py`): `id`, `processing_status` in_progress, canceling, ended;
  `request_counts` (`message_batch_request_counts.py`: processing, succeeded, errored, canceled, expired; "zero until
  processing of the entire Message Batch has ended"), `results_url` once it has ended, `expires_at` 24 hours after
  creation. Read back with `GET /v1/messages/batches/{id}` (`resources/messages/batches.py`).
- Results: JSONL at `results_url`, one `MessageBatchIndividualResponse` a line: `{custom_id, result}` where `result`
  is `{type: "succeeded", message}`, `{type: "errored", error: {type: "error", error: {type, message}}}`,
  `{type: "canceled"}` or `{type: "expired"}` (`message_batch_result.py` and its four kinds), in no set order.
- Limits (https://docs.claude.com/en/docs/build-with-claude/batch-processing): 100,000 requests or 256 MB a batch,
  50% of the standard price, most batches done within an hour and all within 24 hours.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from llamacompare import jsonfast
from llamacompare.errors import ServerError
from llamacompare.models.anthropic_messages import (
    AnthropicProvider,
    finished,
    messages_request,
    parse_message,
    priced,
)
from llamacompare.models.base import BatchAnswer, BatchAPI, BatchJob, BatchLimits, BatchLine, BatchState, Request
from llamacompare.models.openai_batch import batch_response
from llamacompare.models.openai_compat import _error_body, _transport_errors

PATH = "/v1/messages/batches"


class AnthropicBatch(BatchAPI):
    limits = BatchLimits(max_requests=100_000, max_bytes=256 * 1000 * 1000, window="24h")

    def __init__(self, provider: AnthropicProvider) -> None:
        self.p = provider
        self._stops: dict[str, tuple[str, ...]] = {}  # whitespace stops the API refuses: applied to the answer

    def line(self, custom_id: str, model: str, request: Request) -> BatchLine:
        self._stops[custom_id] = request.params.stop
        return BatchLine(custom_id, {"custom_id": custom_id, "params": messages_request(model, request)})

    def size(self, lines: list[BatchLine]) -> int:
        return len(jsonfast.dumps_bytes({"requests": [x.payload for x in lines]}))

    async def submit(self, model: str, lines: list[BatchLine]) -> BatchJob:
        status, body, headers = await self.p._request(  # noqa: SLF001 - the provider's own transport
            "POST", PATH, {"requests": [x.payload for x in lines]})
        self.p._raise_for(status, body, headers)  # noqa: SLF001
        return self.job(body)

    async def poll(self, job: BatchJob) -> BatchJob:
        status, body, headers = await self.p._request("GET", f"{PATH}/{job.id}", None)  # noqa: SLF001
        self.p._raise_for(status, body, headers)  # noqa: SLF001
        return self.job(body)

    def job(self, body: Any) -> BatchJob:
        if not isinstance(body, dict) or not isinstance(body.get("id"), str):
            raise ServerError(f"{self.p.base_url}{PATH} answered without a batch id", status=200)
        status = str(body.get("processing_status"))
        raw = body.get("request_counts")
        counts: dict[str, Any] = raw if isinstance(raw, dict) else {}
        n = {k: v for k, v in counts.items() if isinstance(v, int)}
        state: BatchState = "running"
        if status == "ended":
            state = "expired" if n.get("expired") else "cancelled" if n.get("canceled") else "ended"
        failed = n.get("errored", 0) + n.get("canceled", 0) + n.get("expired", 0)
        return BatchJob(body["id"], status, state, output_file=body.get("results_url"), total=sum(n.values()) or None,
                        completed=n.get("succeeded"), failed=failed)

    async def results(self, model: str, job: BatchJob) -> AsyncIterator[BatchAnswer]:
        url = job.output_file or f"{self.p.base_url}{PATH}/{job.id}/results"
        with _transport_errors(url, self.p.timeout_s, "no answer", "connection to"):
            async with self.p._sess().get(url) as resp:  # noqa: SLF001
                raw = await resp.read()
                if resp.status != 200:
                    self.p._raise_for(resp.status, _error_body(raw), resp.headers)  # noqa: SLF001
        for text in raw.splitlines():
            if text.strip():
                yield self.read_line(model, text)

    def read_line(self, model: str, text: bytes) -> BatchAnswer:
        try:
            data = jsonfast.loads(text)
        except ValueError:
            return BatchAnswer(None, error=f"malformed batch result line ({len(text)} bytes)")
        custom_id = data.get("custom_id") if isinstance(data, dict) else None
        result = data.get("result") if isinstance(data, dict) else None
        if not isinstance(custom_id, str):
            return BatchAnswer(None, error="batch result line without a custom_id")
        kind = result.get("type") if isinstance(result, dict) else None
        if kind == "succeeded" and isinstance(result, dict):
            try:
                out, stop_reason, usage, calls = parse_message(result.get("message"), self.p.base_url + PATH)
            except ServerError as exc:
                return BatchAnswer(custom_id, error=f"malformed message in the batch results: {exc}")
            out, finish = finished(out, stop_reason, self._stops.get(custom_id, ()))
            pt, ct, live, source = priced(model, usage)
            return BatchAnswer(custom_id, batch_response(model, out, finish, pt, ct, live, source,
                                                         self.limits.discount_for(model), calls))
        if kind == "errored" and isinstance(result, dict):
            outer = result.get("error")
            err = outer.get("error") if isinstance(outer, dict) else None
            what = f"{err.get('type')}: {err.get('message')}" if isinstance(err, dict) else "errored"
            return BatchAnswer(custom_id, error=what)
        if kind in ("canceled", "expired"):
            return BatchAnswer(custom_id, error=f"{kind}: the batch ended before this request was processed")
        return BatchAnswer(custom_id, error=f"batch result of unknown type {kind!r}")
