"""The report's stylesheet, fenced in for places that share a page: a notebook cell, an SVG put into HTML.

report.css styles a whole page (`:root` variables, `body`, bare `table`); in a notebook those rules would restyle
Jupyter itself. `scoped` prefixes every selector with a scope, so one stylesheet serves the report and the cell.
It reads the flat CSS the report is written in: rules and @media blocks of rules, no nesting beyond that.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

PAGE_ROOTS = {":root", "html", "body"}


def scoped(css: str, scope: str, keep: Callable[[str], bool] | None = None) -> str:
    """`css` with each selector under `scope`; `:root`, `html` and `body` become the scope itself. With `keep`,
    only the selectors it accepts are kept (plus the `:root` variables they use)."""
    out: list[str] = []
    for prelude, body in _rules(re.sub(r"/\*.*?\*/", "", css, flags=re.S)):
        if prelude.startswith("@"):
            inner = scoped(body, scope, keep)
            if inner:
                out.append(f"{prelude} {{\n{inner}\n}}")
            continue
        selectors = []
        for sel in (s.strip() for s in prelude.split(",")):
            if sel in PAGE_ROOTS:
                if sel == ":root" or keep is None:
                    selectors.append(scope)
            elif keep is None or keep(sel):
                selectors.append(f"{scope} {sel}")
        if selectors:
            out.append(f"{', '.join(dict.fromkeys(selectors))} {{{body}}}")
    return "\n".join(out)


def _rules(css: str) -> Iterator[tuple[str, str]]:
    """(prelude, body) of each top-level block; the body of an @-block is itself a list of rules."""
    depth, start, prelude = 0, 0, ""
    for i, ch in enumerate(css):
        if ch == "{":
            if depth == 0:
                prelude, start = css[start:i].strip(), i + 1
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                yield prelude, css[start:i].strip()
                start = i + 1
