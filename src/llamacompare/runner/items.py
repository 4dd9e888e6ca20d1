"""One request of a run as the runner sends it (live, or in a batch): which answer it is, what the store keeps beside
it, and the request a model is sent for it, with its cache key."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from llamacompare.identity import AnswerKey
from llamacompare.store.db import Store, canonical_json, response_key
from llamacompare.store.rows import CachedResponse
from llamacompare.tasks.schema import Task

if TYPE_CHECKING:
    from llamacompare.models.base import Request
    from llamacompare.models.client import ModelClient


@dataclass(slots=True)
class Item:
    """One request to send: which answer it is, and what the store keeps beside it."""

    task: Task
    answer: AnswerKey
    seq: int  # the case's position in its dataset (-1: the content-free prompt)
    rendered: Any
    params: Any
    input_json: str
    reference: str | None

    @property
    def mode(self) -> str:
        return self.answer.contender.mode

    def record(self, store: Store, run_id: str, **outcome: Any) -> None:
        store.record(run_id, self.answer, seq=self.seq, input_json=self.input_json, reference=self.reference,
                     **outcome)

    def prepare(self, client: ModelClient) -> tuple[Request, dict[str, Any], str, str]:
        """The request for this answer, what is stored and hashed of it (its JSON) and its cache key."""
        task = self.task
        rendered = self.rendered
        request = client.request_for(rendered.messages(), self.params, prefix=rendered.prefix or None,
                                     cue=task.base_model_cue, base_stop=task.base_model_stop or (),
                                     chat=rendered.chat_messages() if rendered.shots else None,
                                     tools=task.tool_list())
        if self.mode in ("logprob", "calibration"):
            request, surface = client.label_request(request, task.label_names())
            sent: dict[str, Any] = {**_scored_after(request), "labels": surface, "mode": "logprob"}
        else:
            sent = request.to_dict()
        request_json = canonical_json(sent)
        return request, sent, request_json, response_key(client.name, self.mode, request_json, self.answer.repeat)


def _scored_after(request: Any) -> dict[str, Any]:
    """The text (or messages) labels are scored after, as stored and hashed."""
    if request.prompt is not None:
        return {"prompt": request.prompt}
    return {"messages": [dict(m) for m in request.messages], "method": "chat_top_logprobs"}


def cached_answer(client: ModelClient, store: Store, key: str) -> CachedResponse | None:
    """The stored answer for `key`, where the client's model has one: the in-memory set of the store's keys
    (`client.cached_keys`, filled once per run) spares a lookup for every request that was never asked."""
    return store.cached_response(key) if int(key[:16], 16) in client.cached_keys else None
