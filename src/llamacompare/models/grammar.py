"""A response format enforced in-process: a GBNF grammar built from its JSON Schema, which llama.cpp's grammar
sampler holds each answer to. Tool calls offered in the text format (`prompts/tool_format.py`) are held the same
way (`TOOL_CALLS`): plain text, or `<tool_call>` blocks whose content is valid JSON with a name and arguments.

The grammar is llama-cpp-python's conversion of the schema (`llama_cpp.llama_grammar.json_schema_to_gbnf`, its port
of llama.cpp's `json-schema-to-grammar`, the converter llama-server applies to the same field); json_object is the
grammar of any JSON object. The one-at-a-time path hands it to `create_completion(grammar=...)`; the batched path
(`local_batch`) picks each greedy token with `Constrained`.
"""

from __future__ import annotations

import ctypes
import functools
import json
import math
from dataclasses import dataclass
from typing import Any

from llamacompare.errors import UsageError
from llamacompare.models.response_format import ResponseFormat


@dataclass(frozen=True, slots=True)
class ToolCallsFormat:
    """An answer to tools offered in text: plain text (not starting with "<"), or one or more `<tool_call>` blocks
    each holding `{"name": ..., "arguments": {...}}` as valid JSON, the shape the text format asks for. The name and
    the arguments are not held to the tools (that is what the task scores): only the JSON is, as llama.cpp's own
    server constrains a Hermes-format answer (common/chat.cpp, `COMMON_CHAT_FORMAT_HERMES_2_PRO`)."""

    def label(self) -> str:
        return "tool calls"


TOOL_CALLS = ToolCallsFormat()
_CALL_SCHEMA = {"type": "object", "properties": {"name": {"type": "string"}, "arguments": {"type": "object"}},
                "required": ["name", "arguments"], "additionalProperties": False}
#: an answer to tools offered in text: blank space, then `<tool_call>` blocks, or text whose first visible character
#: is not "<" (blank space cannot start the text: "\n<tool_call>" would be text, and unconstrained)
_TOOL_CALLS_RULES = r'''root ::= [ \t\r\n]* ( tool-calls | free-text )?
tool-calls ::= tool-block ( [ \t\r\n]* tool-block )* [ \t\r\n]*
tool-block ::= "<tool_call>\n" tool-call "\n</tool_call>"
free-text ::= [^< \t\r\n] [^\x00]*
'''
#: what a grammar may hold an answer to
Held = ResponseFormat | ToolCallsFormat


@functools.lru_cache(maxsize=64)
def gbnf(fmt: Held) -> str:
    """The grammar of the answers `fmt` allows (one conversion per format)."""
    # llama.cpp loads in about 0.3 s: only where a local model runs
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    if isinstance(fmt, ToolCallsFormat):
        call = json_schema_to_gbnf(json.dumps(_CALL_SCHEMA)).replace("root ::=", "tool-call ::=", 1)
        return _TOOL_CALLS_RULES + call
    try:
        return json_schema_to_gbnf(json.dumps(fmt.enforced_schema()))
    except Exception as e:  # noqa: BLE001 - the converter raises bare Exceptions and KeyErrors on what it lacks
        raise UsageError(f"response_format {fmt.label()}: llama.cpp's grammar converter cannot take this schema "
                         f"({type(e).__name__}: {e}); simplify the schema") from None


def llama_grammar(fmt: Held) -> Any:
    """For llama-cpp-python's `create_completion(grammar=...)`."""
    from llama_cpp import LlamaGrammar  # llama.cpp loads in about 0.3 s: only where a local model runs

    return LlamaGrammar.from_string(gbnf(fmt), verbose=False)


class Vocabulary:
    """A reusable llama_token_data array over the whole vocabulary (ids filled once), for the few steps where a
    grammar rejects the model's first choice. One per model, used on its worker thread only."""

    def __init__(self, n_vocab: int) -> None:
        import llama_cpp as lc  # llama.cpp loads in about 0.3 s: only where a local model runs
        import numpy as np  # numpy: only where numbers are computed, not at start-up

        self.n_vocab = n_vocab
        # the layout of llama.cpp's llama_token_data: int32 id, float logit, float p
        self.data = np.zeros(n_vocab, dtype=np.dtype([("id", np.int32), ("logit", np.float32), ("p", np.float32)]))
        self.data["id"] = np.arange(n_vocab, dtype=np.int32)
        self.array = lc.llama_token_data_array(
            self.data.ctypes.data_as(ctypes.POINTER(lc.llama_token_data)), n_vocab, -1, False)


class Constrained:
    """One greedy answer held to a grammar: the most likely token the grammar allows next. As llama.cpp's own
    sampler does (common/sampling.cpp), the model's first choice is checked alone, and only when the grammar rejects
    it is the whole vocabulary filtered: the same token either way, at a fraction of the cost."""

    def __init__(self, llm: Any, fmt: Held) -> None:
        import llama_cpp as lc  # llama.cpp loads in about 0.3 s: only where a local model runs

        self._lc = lc
        self._sampler = lc.llama_sampler_init_grammar(llm._model.vocab, gbnf(fmt).encode("utf-8"), b"root")
        if not self._sampler:
            raise UsageError(f"response_format {fmt.label()}: llama.cpp could not parse the grammar built from the "
                             "schema; simplify the schema")
        self._one = (lc.llama_token_data * 1)()
        self._one_array = lc.llama_token_data_array(self._one, 1, -1, False)

    def pick(self, logits: Any, vocab: Vocabulary) -> int | None:
        """The token to take after these logits; None when the grammar allows none (the answer ends)."""
        best = int(logits.argmax())
        self._one[0] = self._lc.llama_token_data(best, float(logits[best]), 0.0)
        self._one_array.size, self._one_array.selected, self._one_array.sorted = 1, -1, False
        self._lc.llama_sampler_apply(self._sampler, ctypes.byref(self._one_array))
        if math.isfinite(self._one[0].logit):
            return best
        vocab.data["logit"] = logits
        vocab.array.size, vocab.array.selected, vocab.array.sorted = vocab.n_vocab, -1, False
        self._lc.llama_sampler_apply(self._sampler, ctypes.byref(vocab.array))
        i = int(vocab.data["logit"].argmax())
        if not math.isfinite(float(vocab.data["logit"][i])):
            return None
        return int(vocab.data["id"][i])

    def accept(self, token: int) -> None:
        """Advance the grammar past a token (never the end of generation: the answer ends there)."""
        self._lc.llama_sampler_accept(self._sampler, token)

    def close(self) -> None:
        if self._sampler:
            self._lc.llama_sampler_free(self._sampler)
            self._sampler = None
