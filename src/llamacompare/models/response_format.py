"""A response format (a task's `params.response_format`): any JSON object, or JSON that a schema describes.

Its wire form is OpenAI's, as openai-python types it (`types/shared/response_format_json_object.py`:
`{"type": "json_object"}`; `types/shared/response_format_json_schema.py`: `{"type": "json_schema", "json_schema":
{"name", "description"?, "schema", "strict"?}}`); each provider turns it into its own field (`openai_compat`,
`anthropic_messages`), the in-process engine into a grammar (`models/grammar.py`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

ResponseFormatType = Literal["json_object", "json_schema"]

#: what json_object promises (OpenAI: "the message the model generates is valid JSON", an object): the schema a
#: grammar enforces for it
ANY_OBJECT: dict[str, Any] = {"type": "object"}


@dataclass(frozen=True, slots=True)
class ResponseFormat:
    """Hashable (a generation parameter, so part of the cache key): the schema is kept as its JSON text, in the
    order the suite gives its keys (a grammar writes an object's properties in that order)."""

    type: ResponseFormatType
    schema_json: str = ""  # json_schema only
    name: str = ""
    description: str | None = None
    strict: bool | None = None

    @classmethod
    def json_schema(cls, schema: dict[str, Any], name: str, *, description: str | None = None,
                    strict: bool | None = None) -> ResponseFormat:
        text = json.dumps(schema, ensure_ascii=False, separators=(",", ":"))
        return cls("json_schema", text, name, description, strict)

    @property
    def schema(self) -> dict[str, Any] | None:
        """The JSON Schema (json_schema), or None (json_object)."""
        out: dict[str, Any] | None = json.loads(self.schema_json) if self.schema_json else None
        return out

    def enforced_schema(self) -> dict[str, Any]:
        """The schema a grammar holds the answer to: the given one, or any object for json_object."""
        return self.schema or dict(ANY_OBJECT)

    def to_openai(self) -> dict[str, Any]:
        """OpenAI's `response_format` (and what is stored with a request)."""
        if self.type == "json_object":
            return {"type": "json_object"}
        spec: dict[str, Any] = {"name": self.name}
        if self.description is not None:
            spec["description"] = self.description
        spec["schema"] = self.schema
        if self.strict is not None:
            spec["strict"] = self.strict
        return {"type": "json_schema", "json_schema": spec}

    def label(self) -> str:
        """In words, for reports: `json_schema person` or `json_object`."""
        return f"json_schema {self.name}" if self.type == "json_schema" else "json_object"
