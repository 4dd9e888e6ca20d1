"""A scripted server for the batch endpoints of OpenAI and Together (and their live chat, to count live calls).

Built from the providers' published shapes, not from our client:

- OpenAI (openai/openai-python `src/openai/types/batch.py` `Batch` and `batch_request_counts.py`,
  `types/file_object.py` `FileObject`, `types/batch_create_params.py`, `resources/files.py` (multipart `file` and
  `purpose`), https://platform.openai.com/docs/guides/batch and /docs/api-reference/batch): `POST /v1/files`
  (purpose `batch`) -> a FileObject; `POST /v1/batches` `{input_file_id, endpoint, completion_window}` -> a Batch
  (status `validating`, `request_counts` {total, completed, failed}); `GET /v1/batches/{id}` moves it through
  `in_progress` to `completed` or `expired` (what was finished stays in the output file; the rest are error lines
  with code `batch_expired`); `GET /v1/files/{id}/content` the file. Input lines `{custom_id, method, url, body}`;
  output lines `{id, custom_id, response: {status_code, request_id, body}, error}`; error lines with `response`
  null and `error` {code, message}. A batch whose lines do not parse, repeat a custom_id or name another url fails
  (status `failed`, `errors.data` [{code, message, line}]).
- Together (togethercomputer/openapi `openapi.yaml` at 090263a: `/files/upload` (multipart `purpose`, `file_name`,
  `file`; `FilePurpose` `batch-api`; `FileResponse`), `/batches` (`CreateBatchRequest` {endpoint, input_file_id};
  201 `BatchJobWithWarning` {job, warning}), `/batches/{id}` (`BatchJob`: id, user_id, input_file_id,
  file_size_bytes, status, job_deadline, created_at, endpoint, progress 0-100, model_id, output_file_id,
  error_file_id, error, completed_at), `BatchJobStatus` VALIDATING, IN_PROGRESS, COMPLETED, FAILED, EXPIRED,
  CANCELLED; https://docs.together.ai/docs/batch-inference: input lines `{custom_id (max 64 chars), body}`, output
  and error files keyed by custom_id). Its model list is a bare array with `pricing` {input, output} per M tokens.

The test decides how a batch ends: completed; expired with `expire_after` lines done; `malformed` output lines (by
index) cut short. `stats()` counts batches (with their lines) and live chat calls.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web

from . import fake_lm
from . import openai_shapes as shapes
from .threaded import ThreadedApp

Dialect = Literal["openai", "together"]


@dataclass(slots=True)
class SeenBatch:
    id: str
    endpoint: str
    lines: list[dict[str, Any]]
    created: int
    polls: int = 0
    status: str = ""
    output: str | None = None
    errors: str | None = None
    done: int = 0
    failed: int = 0
    problems: list[dict[str, Any]] = field(default_factory=list)


class BatchServer(ThreadedApp):
    """Served on 127.0.0.1 from a background thread with its own event loop; use as a context manager."""

    def __init__(
        self,
        models: Sequence[str] = ("gpt-4o-mini",),
        *,
        dialect: Dialect = "openai",
        answers: Sequence[str] = ("positive", "negative"),
        polls: int = 2,
        expire_after: int | None = None,
        malformed: Sequence[int] = (),
        prices: tuple[float, float] = (0.20, 0.20),
        answer: Callable[[dict[str, Any]], str] | None = None,
    ) -> None:
        self.answer = answer or (lambda b: fake_lm.pick_answer(b, self.answers))
        self.models = list(models)
        self.dialect = dialect
        self.answers = tuple(answers)
        self.polls = polls  # GETs of a batch that find it still in progress
        self.expire_after = expire_after  # this many lines answered, then the batch expires
        self.malformed = set(malformed)  # output lines (by index) cut short
        self.prices = prices  # Together lists prices with its models
        self._lock = threading.Lock()
        self.files: dict[str, bytes] = {}
        self.batches: dict[str, SeenBatch] = {}
        self.live_calls = 0
        self.uploads: list[dict[str, str]] = []  # the form fields of each upload, without the file
        self._ids = itertools.count(1)
        super().__init__()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {"batches": [len(b.lines) for b in self.batches.values()], "live_calls": self.live_calls,
                    "polls": sum(b.polls for b in self.batches.values())}

    # -- lifecycle ---------------------------------------------------------------------------------------------

    thread_name = "batch-server"
    client_max_size = 300 * 1024 * 1024  # a batch file of up to the providers' limits

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/v1/models", self._models)
        app.router.add_post(shapes.CHAT_PATH, self._live)
        app.router.add_post(shapes.COMPLETIONS_PATH, self._live)
        app.router.add_post("/v1/files" if self.dialect == "openai" else "/v1/files/upload", self._upload)
        app.router.add_get("/v1/files/{id}/content", self._content)
        app.router.add_post("/v1/batches", self._create)
        app.router.add_get("/v1/batches/{id}", self._retrieve)

    # -- handlers ----------------------------------------------------------------------------------------------

    async def _models(self, request: web.Request) -> web.Response:
        now = int(time.time())
        if self.dialect == "together":
            return web.json_response([
                {"id": m, "object": "model", "created": now, "type": "chat", "display_name": m,
                 "organization": "Meta", "context_length": 131072,
                 "pricing": {"hourly": 0, "input": self.prices[0], "output": self.prices[1], "base": 0,
                             "finetune": 0}} for m in self.models])
        return web.json_response({"object": "list", "data": [
            {"id": m, "object": "model", "created": now, "owned_by": "system"} for m in self.models]})

    async def _live(self, request: web.Request) -> web.Response:
        body = await request.json()
        with self._lock:
            self.live_calls += 1
        return web.json_response(self._answer(request.path, body))  # whole, even when a stream is asked for

    def _answer(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        a = shapes.build_answer(path, body, body["model"], self.answer, self.answers)
        return shapes.full_body(path, body, body["model"], a)

    async def _upload(self, request: web.Request) -> web.Response:
        form = await request.post()
        upload = form.get("file")
        if not isinstance(upload, web.FileField):
            return _error(400, "the multipart form has no file")
        data = upload.file.read()
        fields = {k: str(v) for k, v in form.items() if k != "file"}
        want = "batch" if self.dialect == "openai" else "batch-api"
        if fields.get("purpose") != want or (self.dialect == "together" and not fields.get("file_name")):
            return _error(400, f"purpose must be {want}" + (" and file_name given" if self.dialect == "together"
                                                               else ""))
        file_id = f"file-{next(self._ids):06d}"
        with self._lock:
            self.files[file_id] = data
            self.uploads.append(fields)
        now = int(time.time())
        if self.dialect == "together":
            return web.json_response({"id": file_id, "object": "file", "created_at": now,
                                      "filename": fields["file_name"], "bytes": len(data), "purpose": "batch-api",
                                      "Processed": True, "FileType": "jsonl"})
        return web.json_response({"id": file_id, "object": "file", "bytes": len(data), "created_at": now,
                                  "filename": upload.filename, "purpose": "batch", "status": "processed"})

    async def _content(self, request: web.Request) -> web.Response:
        data = self.files.get(request.match_info["id"])
        if data is None:
            return _error(404, "No such File object")
        return web.Response(body=data, content_type="application/octet-stream")

    async def _create(self, request: web.Request) -> web.Response:
        body = await request.json()
        data = self.files.get(body.get("input_file_id", ""))
        if data is None:
            return _error(400, "input_file_id: no such file")
        if self.dialect == "openai" and body.get("completion_window") != "24h":
            return _error(400, "completion_window must be 24h")
        lines, problems = self._read_lines(data, body.get("endpoint", ""))
        with self._lock:
            batch = SeenBatch(f"batch_{next(self._ids):06d}", body["endpoint"], lines, int(time.time()),
                              problems=problems)
            batch.status = "validating"
            self.batches[batch.id] = batch
        view = self._view(batch, body["input_file_id"])
        if self.dialect == "together":
            return web.json_response({"job": view, "warning": ""}, status=201)
        return web.json_response(view)

    def _read_lines(self, data: bytes, endpoint: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        lines: list[dict[str, Any]] = []
        problems: list[dict[str, Any]] = []
        seen: set[str] = set()
        for n, raw in enumerate(data.splitlines(), 1):
            try:
                line = json.loads(raw)
            except ValueError:
                problems.append({"code": "invalid_json_line", "message": "not JSON", "line": n})
                continue
            cid = line.get("custom_id")
            if not isinstance(cid, str) or cid in seen or (self.dialect == "together" and len(cid) > 64):
                problems.append({"code": "duplicate_custom_id", "message": f"custom_id {cid!r}", "line": n})
            elif self.dialect == "openai" and (line.get("method") != "POST" or line.get("url") != endpoint):
                problems.append({"code": "mismatched_endpoint", "message": str(line.get("url")), "line": n})
            elif not isinstance(line.get("body"), dict) or line["body"].get("model") not in self.models:
                problems.append({"code": "model_not_found", "message": "body.model", "line": n})
            seen.add(str(cid))
            lines.append(line)
        return lines, problems

    async def _retrieve(self, request: web.Request) -> web.Response:
        with self._lock:
            batch = self.batches.get(request.match_info["id"])
            if batch is None:
                return _error(404, "No such Batch object")
            batch.polls += 1
            if batch.status in ("validating", "in_progress"):
                if batch.problems:
                    batch.status = "failed"
                elif batch.polls <= self.polls:
                    batch.status = "in_progress"
                    batch.done = min(len(batch.lines), len(batch.lines) * batch.polls // (self.polls + 1))
                else:
                    self._finish(batch)
        return web.json_response(self._view(batch, None))

    def _finish(self, batch: SeenBatch) -> None:
        """Answer the lines (or the first `expire_after`), write the output and error files."""
        path = batch.endpoint
        out, err = [], []
        for n, line in enumerate(batch.lines):
            rid = f"batch_req_{batch.id}_{n}"
            if self.expire_after is not None and n >= self.expire_after:
                err.append(json.dumps({"id": rid, "custom_id": line["custom_id"], "response": None, "error": {
                    "code": "batch_expired",
                    "message": "This request could not be executed before the completion window expired."}}))
                continue
            text = json.dumps({"id": rid, "custom_id": line["custom_id"], "response": {
                "status_code": 200, "request_id": f"req_{n}", "body": self._answer(path, line["body"])},
                "error": None}, ensure_ascii=False)
            out.append(text[: len(text) // 2] if n in self.malformed else text)
        batch.done, batch.failed = len(out), len(err)
        batch.status = "expired" if err else "completed"
        batch.output = self._file("\n".join(out)) if out else None
        batch.errors = self._file("\n".join(err)) if err else None

    def _file(self, text: str) -> str:
        file_id = f"file-{next(self._ids):06d}"
        self.files[file_id] = (text + "\n").encode()
        return file_id

    def _view(self, b: SeenBatch, input_file: str | None) -> dict[str, Any]:
        over = b.status in ("completed", "expired", "failed")
        if self.dialect == "together":
            iso = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(b.created))
            return {"id": b.id, "user_id": "user_scripted", "input_file_id": input_file or "file-input",
                    "file_size_bytes": 0, "status": b.status.upper(), "job_deadline": iso, "created_at": iso,
                    "endpoint": b.endpoint, "progress": 100.0 * b.done / max(1, len(b.lines)),
                    "model_id": (b.lines[0]["body"]["model"] if b.lines else ""), "output_file_id": b.output,
                    "error_file_id": b.errors, "error": "; ".join(p["message"] for p in b.problems) or None,
                    "completed_at": iso if over else None}
        errors = {"object": "list", "data": b.problems} if b.problems else None
        return {"id": b.id, "object": "batch", "endpoint": b.endpoint, "errors": errors,
                "input_file_id": input_file or "file-input", "completion_window": "24h", "status": b.status,
                "output_file_id": b.output, "error_file_id": b.errors, "created_at": b.created,
                "in_progress_at": b.created if b.status != "validating" else None,
                "expires_at": b.created + 86400, "finalizing_at": None,
                "completed_at": int(time.time()) if b.status == "completed" else None,
                "failed_at": int(time.time()) if b.status == "failed" else None,
                "expired_at": int(time.time()) if b.status == "expired" else None,
                "cancelling_at": None, "cancelled_at": None,
                "request_counts": {"total": len(b.lines), "completed": b.done, "failed": b.failed},
                "metadata": None}


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": {"message": message, "type": "invalid_request_error", "param": None,
                                        "code": None}}, status=status)
