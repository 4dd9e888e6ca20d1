"""Number formatting shared by the HTML and Markdown reports, so both show the same figures."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

DASH = "—"


def finite(x: Any) -> float | None:
    """`x` as a float, or None when it is missing, not a number, NaN or infinite."""
    if x is None or isinstance(x, bool):
        return None
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def num(x: Any, digits: int = 2) -> str:
    f = finite(x)
    return DASH if f is None else f"{f:.{digits}f}"


def ci(metric: Mapping[str, Any] | None, digits: int = 2) -> str:
    """'0.91 [0.88, 0.93]', or just '0.91' when the interval is unknown."""
    if not metric or finite(metric.get("value")) is None:
        return DASH
    text = num(metric["value"], digits)
    lo, hi = finite(metric.get("lo")), finite(metric.get("hi"))
    if lo is not None and hi is not None:
        text += f" [{lo:.{digits}f}, {hi:.{digits}f}]"
    return text


def signed_ci(diff: Any, lo: Any, hi: Any, digits: int = 3) -> str:
    """'+0.042 [+0.010, +0.071]' for differences, where the sign is the point."""
    d = finite(diff)
    if d is None:
        return DASH
    text = f"{d:+.{digits}f}"
    flo, fhi = finite(lo), finite(hi)
    if flo is not None and fhi is not None:
        text += f" [{flo:+.{digits}f}, {fhi:+.{digits}f}]"
    return text


def p_value(p: Any) -> str:
    f = finite(p)
    if f is None:
        return DASH
    return "<0.001" if f < 0.001 else f"{f:.3f}"


def significant(p: Any, alpha: float = 0.05) -> bool:
    f = finite(p)
    return f is not None and f < alpha


def pct(x: Any) -> str:
    f = finite(x)
    return DASH if f is None else f"{100 * f:.1f}%"


def seconds(x: Any) -> str:
    f = finite(x)
    if f is None:
        return DASH
    if f < 10:
        return f"{f:.2f} s"
    return f"{f:.1f} s"


def cost(x: Any) -> str:
    """US dollars; None means the price is unknown, which must never read as free."""
    f = finite(x)
    if f is None:
        return "unknown"
    if f == 0:
        return "$0"
    if abs(f) >= 1:
        return f"${f:,.2f}"
    if abs(f) >= 0.01:
        return f"${f:.3f}"
    return f"${f:.2g}" if abs(f) >= 1e-4 else f"${f:.1e}"


def integer(x: Any) -> str:
    f = finite(x)
    return DASH if f is None else f"{int(f):,}"
