"""What is wrong with a suite, and where: `SuiteError` (one line, `FILE:LINE: FIELD: what is wrong; what to do`),
the path of a field inside the suite (`Loc`) and how it is written, and `fail`, the pydantic error a validator
raises so that the loader can point at the field's YAML line."""

from __future__ import annotations

from pathlib import Path

from pydantic_core import PydanticCustomError

from llamacompare.errors import UsageError

Loc = tuple[str | int, ...]


class SuiteError(UsageError):
    """A bad suite or dataset, rendered as one line: `FILE:LINE: FIELD: what is wrong; what to do`."""

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        line: int | None = None,
        field: str | None = None,
    ):
        self.path = Path(path) if path is not None else None
        self.line = line
        self.field = field
        self.detail = message
        head = ""
        if self.path is not None:
            head = display_path(self.path) + (f":{line}" if line is not None else "") + ": "
        if field:
            head += f"{field}: "
        super().__init__(one_line(head + message))


def one_line(text: str) -> str:
    """Messages are printed on one line, whatever user text they quote."""
    return text.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\r")


def display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(path)


def format_loc(loc: Loc) -> str:
    """('tasks', 0, 'labels') -> 'tasks[0].labels'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def fail(at: Loc, msg: str) -> PydanticCustomError:
    """A validation error for the sub-field `at` of the model being validated."""
    return PydanticCustomError("suite", "{msg}", {"msg": msg, "at": at})

