"""Geometry for the quality-vs-cost / quality-vs-latency scatters. The template turns it into inline SVG.

Kept as plain numbers so it is testable without a browser and so all markup stays in the (autoescaped)
template.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from llamacompare import formatting as fmt
from llamacompare.analysis.contract import TaskSummary

WIDTH, HEIGHT = 460, 300
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 56, 24, 16, 46


def pareto_frontier(points: Sequence[tuple[str, float, float]]) -> set[str]:
    """Names on the frontier of (name, quality, x) points: higher quality is better, lower x (cost,
    latency) is better. A point is on it when no other point is at least as good on both and strictly
    better on one."""
    front: set[str] = set()
    for name, q, x in points:
        dominated = any(
            q2 >= q and x2 <= x and (q2 > q or x2 < x) for other, q2, x2 in points if other != name
        )
        if not dominated:
            front.add(name)
    return front


def nice_ticks(lo: float, hi: float, count: int = 5) -> tuple[float, float, list[float]]:
    """A rounded domain that covers [lo, hi] and ticks on it, spaced 1, 2 or 5 times a power of ten."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        lo, hi = 0.0, 1.0
    if hi < lo:
        lo, hi = hi, lo
    if hi == lo:
        pad = abs(lo) * 0.1 or 1.0
        lo, hi = lo - pad, hi + pad
    raw = (hi - lo) / count
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    start, stop = math.floor(lo / step) * step, math.ceil(hi / step) * step
    n = round((stop - start) / step)
    ticks = [round(start + i * step, 12) for i in range(n + 1)]
    return ticks[0], ticks[-1], ticks


def tick_label(value: float, ticks: Sequence[float]) -> str:
    step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0
    decimals = max(0, -math.floor(math.log10(step) + 1e-9)) if step > 0 else 0
    return f"{value:.{decimals}f}"


@dataclass(slots=True)
class PlotPoint:
    model: str
    x: float
    y: float
    lo: float | None
    hi: float | None
    px: float = 0.0
    py: float = 0.0
    plo: float | None = None
    phi: float | None = None
    frontier: bool = False
    label_x: float = 0.0
    label_y: float = 0.0
    label_anchor: str = "start"
    leader: tuple[float, float, float, float] | None = None  # a line from a far-placed label to its point
    tooltip: str = ""


@dataclass(slots=True)
class Scatter:
    title: str
    x_label: str
    y_label: str
    width: int = WIDTH
    height: int = HEIGHT
    points: list[PlotPoint] = field(default_factory=list)
    x_ticks: list[tuple[float, str]] = field(default_factory=list)  # (pixel, label)
    y_ticks: list[tuple[float, str]] = field(default_factory=list)
    frontier_path: str = ""
    baseline_py: float | None = None
    baseline_label: str = ""
    not_plotted: list[str] = field(default_factory=list)  # models without a known x or quality
    x_what: str = ""  # what x is, in words, for "not plotted (cost unknown)"
    plot_left: float = MARGIN_LEFT
    plot_right: float = WIDTH - MARGIN_RIGHT
    plot_top: float = MARGIN_TOP
    plot_bottom: float = HEIGHT - MARGIN_BOTTOM


def scatter(
    task: TaskSummary, x_key: str, title: str, x_label: str, x_fmt: Callable[[float], str], x_what: str = ""
) -> Scatter | None:
    """Quality (the task's primary metric, with its CI) against `x_key` of each non-baseline model row.
    Models whose x is unknown are listed in `not_plotted` instead of being drawn at 0."""
    metric = task.primary_metric
    chart = Scatter(title=title, x_label=x_label, y_label=metric, x_what=x_what or x_label.lower())
    baseline_value: float | None = None
    for row in task.models:
        m = row.metrics.get(metric)
        quality = fmt.finite(m.value) if m is not None else None
        if row.is_baseline:
            baseline_value = quality
            continue
        x = fmt.finite(getattr(row, x_key))
        if m is None or quality is None or x is None:
            chart.not_plotted.append(row.model)
            continue
        chart.points.append(PlotPoint(row.model, x, quality, fmt.finite(m.lo), fmt.finite(m.hi)))
    if not chart.points:
        return chart if chart.not_plotted else None

    front = pareto_frontier([(p.model, p.y, p.x) for p in chart.points])
    ys = [v for p in chart.points for v in (p.y, p.lo, p.hi) if v is not None]
    if baseline_value is not None:
        ys.append(baseline_value)
    y0, y1, yt = nice_ticks(min(ys), max(ys))
    if min(ys) >= 0 and max(ys) <= 1:  # a proportion: never draw axes past [0, 1]
        y0, y1 = max(y0, 0.0), min(y1, 1.0)
        yt = [t for t in yt if y0 <= t <= y1]
    x0, x1, xt = nice_ticks(0.0, max(p.x for p in chart.points) * 1.08 or 1.0)

    def sx(v: float) -> float:
        return chart.plot_left + (v - x0) / (x1 - x0) * (chart.plot_right - chart.plot_left)

    def sy(v: float) -> float:
        return chart.plot_bottom - (v - y0) / (y1 - y0) * (chart.plot_bottom - chart.plot_top)

    chart.x_ticks = [(round(sx(t), 1), x_fmt(t) if t else "0") for t in xt]
    chart.y_ticks = [(round(sy(t), 1), tick_label(t, yt)) for t in yt]
    for p in chart.points:
        p.px, p.py = round(sx(p.x), 1), round(sy(p.y), 1)
        p.plo = round(sy(p.lo), 1) if p.lo is not None else None
        p.phi = round(sy(p.hi), 1) if p.hi is not None else None
        p.frontier = p.model in front
        band = f" [{p.lo:.3f}, {p.hi:.3f}]" if p.lo is not None and p.hi is not None else ""
        p.tooltip = f"{p.model}: {metric} {p.y:.3f}{band}, {x_label.lower()} {x_fmt(p.x)}" + (
            " (Pareto frontier)" if p.frontier else ""
        )
    _place_labels(chart)
    on_front = sorted((p for p in chart.points if p.frontier), key=lambda p: (p.px, -p.py))
    if len(on_front) > 1:
        chart.frontier_path = "M" + " L".join(f"{p.px},{p.py}" for p in on_front)
    if baseline_value is not None:
        chart.baseline_py = round(sy(baseline_value), 1)
        chart.baseline_label = f"majority baseline {baseline_value:.2f}"
    return chart


Box = tuple[float, float, float, float]  # x0, y0, x1, y1


def _overlaps(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _place_labels(chart: Scatter) -> None:
    """Greedy label placement: for each point (top first) take the first of four spots beside it that stays
    inside the chart and clears the labels placed so far, the markers and the error bars."""
    char_w, text_h = 6.6, 12.0
    obstacles: list[Box] = []
    for p in chart.points:
        obstacles.append((p.px - 6, p.py - 6, p.px + 6, p.py + 6))
        if p.plo is not None and p.phi is not None:
            obstacles.append((p.px - 4, min(p.plo, p.phi), p.px + 4, max(p.plo, p.phi)))
    placed: list[Box] = []
    for p in sorted(chart.points, key=lambda q: q.py):
        w = char_w * len(p.model)
        spots = [
            (p.px + dx, p.py + dy, "start" if dx > 0 else "end") for dy in (-7, 16, -21, 30) for dx in (9, -9)
        ]
        spots += [(p.px - w / 2, p.py - 12, "middle"), (p.px - w / 2, p.py + 22, "middle")]
        best = None
        for x, y, anchor in spots:
            x0 = x if anchor == "start" else x - w if anchor == "end" else x
            box = (x0, y - text_h + 2, x0 + w, y + 2)
            inside = box[0] >= 2 and box[2] <= chart.width - 2 and box[1] >= 0 and box[3] <= chart.plot_bottom
            if not inside:
                continue
            own = [(p.px - 6, p.py - 6, p.px + 6, p.py + 6)]
            others = [o for o in obstacles if o not in own]
            if best is None:
                best = (x, y, anchor, box)
            if not any(_overlaps(box, o) for o in placed + others):
                best = (x, y, anchor, box)
                break
        if best is None:
            best = (p.px + 9, p.py - 7, "start", (p.px + 9, p.py - 17, p.px + 9 + w, p.py - 5))
        x, y, anchor, box = best
        p.label_x = round(x + w / 2, 1) if anchor == "middle" else round(x, 1)
        p.label_y, p.label_anchor = round(y, 1), anchor
        placed.append(box)
        # The nearest point of the label box; a label that ended up away from its point gets a leader line.
        tx, ty = min(max(p.px, box[0]), box[2]), min(max(p.py, box[1]), box[3])
        dist = math.hypot(tx - p.px, ty - p.py)
        if dist > 12:
            sx_, sy_ = p.px + (tx - p.px) * 7 / dist, p.py + (ty - p.py) * 7 / dist
            p.leader = (round(sx_, 1), round(sy_, 1), round(tx, 1), round(ty, 1))


def cost_label(v: float) -> str:
    return fmt.cost(v)


def latency_label(v: float) -> str:
    return f"{v:g} s"
