"""`Comparison.plot()`: the report's quality-vs-cost and quality-vs-latency scatters as one SVG that a notebook
shows and `save()` writes. Drawn by the report's own macro (templates/chart.svg.j2), styled by its own CSS."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

from llamacompare.analysis.contract import Report
from llamacompare.reports import charts
from llamacompare.reports.css import scoped
from llamacompare.reports.html import asset, template

Axis = Literal["cost", "latency"]
AXES: dict[Axis, tuple[str, str, str]] = {  # axis -> (ModelRow field, title, x label)
    "cost": ("cost_usd", "Quality vs cost", "Cost (USD)"),
    "latency": ("latency_p50_s", "Quality vs latency", "Latency p50"),
}
TITLE_H, LEGEND_H = 24, 34
# Outside the report page the chart brings its background and a font; the rest is report.css, scoped.
EXTRA_CSS = (
    "svg.lc-chart { font: 11px system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif; }\n"
    "svg.lc-chart .chart-bg { fill: var(--card); }\n"
    "svg.lc-chart .panel-title { fill: var(--text); font-size: 13px; font-weight: 600; }\n"
    "svg.lc-chart .not-plotted, svg.lc-chart .legend text { fill: var(--muted); font-size: 11.5px; }\n"
    "svg.lc-chart .key-front { fill: var(--accent); }\n"
    "svg.lc-chart .key-other { fill: none; stroke: var(--muted); stroke-width: 2; }\n"
    "svg.lc-chart .key-bar { stroke: var(--muted); stroke-width: 2; }\n"
    "svg.lc-chart .key-base { stroke: var(--warn); stroke-width: 2; stroke-dasharray: 4 3; }\n"
)


@dataclass(slots=True)
class Panel:
    title: str
    chart: charts.Scatter
    x: float = 0.0
    y: float = 0.0


class Chart:
    """Quality (the primary metric with its 95% interval) against cost or latency, one panel per task and axis,
    with the Pareto frontier. Shows itself in Jupyter; `save("x.svg")` writes the same picture."""

    def __init__(self, panels: list[Panel], columns: int = 2) -> None:
        if not panels:
            raise ValueError("nothing to plot: no task has a quality and a cost or latency to plot")
        self.panels = panels
        self.columns = max(1, min(columns, len(panels)))

    @classmethod
    def of(cls, report: Report, x: Axis | None = None, task: str | None = None) -> Chart:
        if x is not None and x not in AXES:
            raise ValueError(f"x must be 'cost' or 'latency' (or None for both), not {x!r}")
        tasks = [t for t in report.tasks if task is None or t.id == task]
        if not tasks:
            raise ValueError(f"no task {task!r} in this run; its tasks: {', '.join(t.id for t in report.tasks)}")
        axes: list[Axis] = [x] if x else ["cost", "latency"]
        panels = []
        for t in tasks:
            for axis in axes:
                key, title, label = AXES[axis]
                fmt = charts.cost_label if axis == "cost" else charts.latency_label
                chart = charts.scatter(t, key, title, label, fmt, axis)
                if chart is not None:
                    panels.append(Panel(f"{t.id} · {title}" if len(tasks) > 1 else title, chart))
        return cls(panels, columns=len(axes))

    def to_svg(self) -> str:
        """One standalone SVG document (it needs no page, font file or script)."""
        width = max(p.chart.width for p in self.panels)
        height = max(p.chart.height for p in self.panels) + TITLE_H + 20
        for i, p in enumerate(self.panels):
            p.x, p.y = (i % self.columns) * width, (i // self.columns) * height
        rows = (len(self.panels) + self.columns - 1) // self.columns
        label = ", ".join(p.title for p in self.panels)
        figure = {"width": width * self.columns, "height": height * rows + LEGEND_H, "panels": self.panels,
                  "css": _chart_css(), "label": label}
        return str(template("chart.svg.j2").module.figure_svg(figure)).strip()

    def save(self, path: str | Path) -> Path:
        """Write the chart: `.svg` as the picture, `.html` as a page holding it."""
        out = Path(path)
        svg = self.to_svg()
        if out.suffix.lower() == ".svg":
            text = '<?xml version="1.0" encoding="UTF-8"?>\n' + svg + "\n"
        elif out.suffix.lower() in (".html", ".htm"):
            text = f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>llamacompare chart</title></head>' \
                   f"<body>{svg}</body></html>\n"
        else:
            raise ValueError(f"{out}: a chart saves as .svg or .html")
        out.write_text(text, encoding="utf-8")
        return out

    def _repr_svg_(self) -> str:
        return self.to_svg()

    def _repr_html_(self) -> str:
        return self.to_svg()

    def __repr__(self) -> str:
        return f"Chart({', '.join(p.title for p in self.panels)}; .save('chart.svg') writes it)"


@cache
def _chart_css() -> str:
    return scoped(asset("report.css"), "svg.lc-chart", keep=lambda s: s.startswith(".scatter ")) + "\n" + EXTRA_CSS
