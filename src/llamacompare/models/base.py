"""The provider interface: one Request in, one Response out, with its measurements."""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from llamacompare import jsonfast
from llamacompare.models.capabilities import Capabilities
from llamacompare.models.response_format import ResponseFormat
from llamacompare.toolcall import Tool, ToolCall, dump_tools

__all__ = ["LabelScores", "ModelInfo", "ModelUsage", "Params", "Prepared", "Provider", "Request", "Response", "Tool",
           "ToolCall"]

if TYPE_CHECKING:
    from llamacompare.models.spec import PromptFormat


@dataclass(frozen=True, slots=True)
class Params:
    """Generation parameters. Part of the cache key, so keep them hashable and explicit."""

    temperature: float = 0.0
    max_tokens: int = 1024
    top_p: float | None = None
    stop: tuple[str, ...] = ()
    seed: int | None = None
    #: structured output (JSON, or JSON a schema describes); only in `to_dict` when set, so that the requests (and
    #: cache keys) of answers without it stay as they were
    response_format: ResponseFormat | None = None

    def to_dict(self) -> dict[str, Any]:
        # by hand: dataclasses.asdict deep-copies and was a visible cost per request
        d: dict[str, Any] = {"temperature": self.temperature, "max_tokens": self.max_tokens, "top_p": self.top_p,
                             "stop": list(self.stop), "seed": self.seed}
        if self.response_format is not None:
            d["response_format"] = self.response_format.to_openai()
        return d


@dataclass(frozen=True, slots=True)
class Request:
    """What is sent: either a raw `prompt` (completion, template already applied) or chat `messages`."""

    prompt: str | None = None
    messages: tuple[dict[str, str], ...] | None = None
    params: Params = field(default_factory=Params)
    #: text shared by many requests (a few-shot block); local models keep its KV cache. Not sent, not hashed.
    prefix: str | None = field(default=None, compare=False)
    #: functions the model may call (a tool_call task): sent natively where the request is messages, and part of the
    #: stored, hashed request either way (a prompt rendered with them says so in its text too)
    tools: tuple[Tool, ...] = ()
    #: the tools are in the prompt's text (prompts/tool_format.py), not rendered by the model's own template: an
    #: in-process model holds its answer to that format's grammar. Follows from the prompt: not sent, not hashed.
    tools_in_text: bool = field(default=False, compare=False)
    _dict: dict[str, Any] | None = field(default=None, init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        if (self.prompt is None) == (self.messages is None):
            raise ValueError("a Request needs exactly one of prompt or messages")

    def to_dict(self) -> dict[str, Any]:
        """The request as stored and hashed. Built once (the runner and the provider both need it): treat it as
        read-only."""
        d = self._dict
        if d is None:
            d = {"params": self.params.to_dict()}
            if self.prompt is not None:
                d["prompt"] = self.prompt
            else:
                d["messages"] = [dict(m) for m in self.messages or ()]
            if self.tools:
                d["tools"] = dump_tools(self.tools)
            object.__setattr__(self, "_dict", d)
        return d


@dataclass(slots=True)
class Response:
    """One answer and everything measured about it. `cost_usd` is None when the price is unknown."""

    model: str
    text: str
    finish_reason: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    latency_s: float = 0.0
    ttft_s: float | None = None
    cost_usd: float | None = None
    cost_source: str = "unknown"
    request: dict[str, Any] = field(default_factory=dict)
    label_logprobs: dict[str, float] | None = None
    #: how the label scores were obtained (a capabilities.LabelMethod) and whether every label was among the
    #: alternatives listed (always so for an exact method); None where unknown or not a label score
    label_method: str | None = None
    label_covered: bool | None = None
    cached: bool = False
    #: the functions the model called (a tool_call task), in order; empty where it answered in text
    tool_calls: tuple[ToolCall, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:  # so `print(llama(...))`-style code keeps working with Responses too
        return self.text


@dataclass(frozen=True, slots=True)
class ModelUsage:
    """What running an in-process model costs on this machine: loading it, holding it, and its speed (tokens
    llama.cpp read from prompts and generated, and the time each took)."""

    load_s: float | None = None
    memory_bytes: int | None = None  # resident memory the model added when it loaded (weights, KV cache, buffers)
    peak_rss_bytes: int | None = None  # the process's peak resident memory so far
    prompt_tokens: int = 0
    prompt_s: float = 0.0
    generated_tokens: int = 0
    generation_s: float = 0.0

    def since(self, earlier: ModelUsage) -> ModelUsage:
        """The tokens and time between two snapshots (load time and memory as of now)."""
        return ModelUsage(
            self.load_s, self.memory_bytes, self.peak_rss_bytes, self.prompt_tokens - earlier.prompt_tokens,
            self.prompt_s - earlier.prompt_s, self.generated_tokens - earlier.generated_tokens,
            self.generation_s - earlier.generation_s,
        )


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """A model a server lists: prices where the server publishes them (USD per million tokens), its context
    length wherever the server puts it, and who the server says owns it (vLLM and llama.cpp name themselves)."""

    id: str
    input_price: float | None = None
    output_price: float | None = None
    context_length: int | None = None
    owned_by: str | None = None


@dataclass(frozen=True, slots=True)
class Prepared:
    """What a provider learned about a model before any request: the id to send (as the server lists it), its
    context length, the chat template a local file carries, what it can do, and notes for the run's summary."""

    served_id: str
    capabilities: Capabilities
    context_length: int | None = None
    chat_template: str | None = None
    notes: tuple[str, ...] = ()
    #: how conversations should reach this model, where the provider knows better than the model's name: "text"
    #: for a server that takes rendered text (the template above, or none for a base model)
    prompt_format: PromptFormat | None = None
    #: the model carries no chat template (a base model): the server would wrap messages in a default template of
    #: its own, or refuse them (`chat_refused`)
    server_default_template: bool = False
    #: the server refuses messages for this model, in words, with the fix (vLLM without a chat template); "": it
    #: takes them
    chat_refused: str = ""


@dataclass(slots=True)
class LabelScores:
    """Each label's log-probability after a prompt, with what obtaining them cost and how (`method`, a
    capabilities.LabelMethod). `bounded`: the labels none of the listed top alternatives started, whose value is a
    bound rather than their log-prob (top log-probs only; an exact method lists every label)."""

    logprobs: dict[str, float]
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cost_usd: float | None = None
    cost_source: str = "unknown"
    method: str = ""
    bounded: tuple[str, ...] = ()

    @property
    def covered(self) -> bool:
        """Every label was among the listed alternatives: each value is the label's own log-prob."""
        return not self.bounded


#: a batch's state as the runner reads it, whatever the provider calls it
BatchState = Literal["running", "ended", "expired", "cancelled", "failed"]


@dataclass(frozen=True, slots=True)
class BatchLimits:
    """What one batch of a provider may hold, how long it may take, and what it costs against a live call."""

    max_requests: int
    max_bytes: int | None
    window: str  # the completion window the provider promises, as it writes it ("24h")
    discount: float = 0.5  # the batch price as a fraction of the live price
    #: the models (lower case) the discount applies to, where the provider names them; the others are billed at
    #: the live price. None: every model
    discounted: frozenset[str] | None = None

    def discount_for(self, model: str) -> float:
        return self.discount if self.discounted is None or model.lower() in self.discounted else 1.0


@dataclass(frozen=True, slots=True)
class BatchLine:
    """One request of a batch: the id its answer comes back under and what the provider is sent (its JSONL line,
    or its entry in a request list)."""

    custom_id: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class BatchJob:
    """A batch as the provider last described it. `state` is the runner's reading of `status`, the provider's own
    word; the counts are None where the provider does not give them."""

    id: str
    status: str
    state: BatchState
    input_file: str | None = None
    output_file: str | None = None  # where the answers are read once it is over (a file id, or a results URL)
    error_file: str | None = None
    total: int | None = None
    completed: int | None = None
    failed: int | None = None
    percent: float | None = None  # where the provider gives a percentage instead of counts
    message: str = ""

    @property
    def over(self) -> bool:
        return self.state != "running"


@dataclass(slots=True)
class BatchAnswer:
    """One result line of a batch: an answer, or why there is none (`error`). `custom_id` is None for a line that
    could not be read at all."""

    custom_id: str | None
    response: Response | None = None
    error: str | None = None


class BatchAPI(abc.ABC):
    """A provider's batch endpoints: the requests go up as one job, the answers come back as a file, at a discount.
    The provider's formats stay in its implementation; the runner sees lines, jobs and answers."""

    limits: BatchLimits
    #: False: the provider's server takes no batches; its batch file runs elsewhere (vLLM's `run-batch`), through
    #: `llamacompare batch export` and `batch import`
    hosted: bool = True

    @abc.abstractmethod
    def line(self, custom_id: str, model: str, request: Request) -> BatchLine:
        """The batch entry that asks `model` what a live call would: the same body."""

    def size(self, lines: list[BatchLine]) -> int:
        """Bytes of the upload these lines make."""

        return sum(len(jsonfast.dumps_bytes(x.payload)) + 1 for x in lines)

    @abc.abstractmethod
    async def submit(self, model: str, lines: list[BatchLine]) -> BatchJob:
        """Upload the lines and create the job; returns once the provider has given the job its id."""

    @abc.abstractmethod
    async def poll(self, job: BatchJob) -> BatchJob:
        """The job as the provider describes it now."""

    @abc.abstractmethod
    def results(self, model: str, job: BatchJob) -> AsyncIterator[BatchAnswer]:
        """The answers of an ended job, one at a time, as they are read (successes and per-request errors)."""

    @abc.abstractmethod
    def read_line(self, model: str, text: bytes) -> BatchAnswer:
        """One line of the provider's results: an answer, or why there is none; never an exception."""


class Provider(abc.ABC):
    """A backend that answers Requests. Implementations are async; the sync helpers wrap them.

    The runner asks a provider what it can do (`prepare` returns its Capabilities for a model); it never tests
    the provider's class or name."""

    name: str = "provider"
    capabilities: Capabilities = Capabilities()

    async def prepare(self, model: str) -> Prepared:
        """Checks before any request (is the model served, under which id, with which context)."""
        return Prepared(model, self.capabilities)

    @abc.abstractmethod
    async def generate(self, model: str, request: Request) -> Response:
        """Send one request and return its Response, or raise a ProviderError."""

    async def score_labels(self, model: str, request: Request, labels: list[str]) -> LabelScores:
        """Log-probability of each label after the request: `request.prompt` scores the label as its
        continuation, `request.messages` as the start of the answer."""
        if request.prompt is None:
            raise NotImplementedError(f"{self.name} scores labels after a prompt, not after messages")
        scores = await self.label_logprobs(model, request.prompt, labels, prefix=request.prefix)
        free = self.capabilities.free
        return LabelScores(scores, cost_usd=0.0 if free else None,
                           cost_source="local (no per-token price)" if free else "unknown",
                           method=self.capabilities.label_method or "")

    async def label_logprobs(
        self, model: str, prompt: str, labels: list[str], *, prefix: str | None = None
    ) -> dict[str, float]:
        """Log-probability of each label's whole token sequence after `prompt`."""
        raise NotImplementedError(f"{self.name} does not give log-probabilities")

    def usage(self) -> ModelUsage | None:
        """Load time, memory and speed so far, for a model that runs in this process; None for a server."""
        return None

    async def count_tokens(self, text: str) -> int:
        """Tokens in `text`: exact where the provider holds the tokenizer, else about four characters a token."""
        return len(text) // 4

    def width(self, hosted_concurrency: int) -> int:
        """Requests worth having in flight at once: a server takes the given concurrency."""
        return hosted_concurrency

    async def list_models(self) -> list[ModelInfo] | None:
        """The models the server serves, or None where it does not say."""
        return None

    def batch_api(self) -> BatchAPI | None:
        """The provider's batch endpoints (half the price, answers within a window), or None where it has none."""
        return None

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release connections and other resources."""
