from __future__ import annotations

from llamacompare.analysis.contract import Report
from llamacompare.reports import charts


def test_pareto_frontier() -> None:
    pts = [("a", 0.9, 1.0), ("b", 0.8, 0.5), ("c", 0.7, 0.6), ("d", 0.9, 2.0), ("e", 0.95, 3.0)]
    # c: b is better and cheaper; d: a is as good and cheaper.
    assert charts.pareto_frontier(pts) == {"a", "b", "e"}
    assert charts.pareto_frontier([("x", 0.5, 1.0), ("y", 0.5, 1.0)]) == {"x", "y"}  # ties dominate nothing
    assert charts.pareto_frontier([]) == set()


def test_nice_ticks() -> None:
    lo, hi, ticks = charts.nice_ticks(0.0, 0.0741 * 1.08)
    assert (lo, hi) == (0.0, 0.1) and ticks == [0.0, 0.02, 0.04, 0.06, 0.08, 0.1]
    lo, hi, ticks = charts.nice_ticks(0.34, 0.56)
    assert lo <= 0.34 and hi >= 0.56 and len(ticks) >= 4
    assert charts.nice_ticks(2.0, 2.0)[0] < 2.0 < charts.nice_ticks(2.0, 2.0)[1]


def test_scatter_keeps_unknowns_apart(report_data: Report) -> None:
    task = report_data.tasks[0]
    chart = charts.scatter(task, "cost_usd", "Quality vs cost", "Cost", charts.cost_label)
    assert chart is not None
    assert [p.model for p in chart.points] == ["gpt-4o-mini", "gemma-3-270m"]
    assert chart.not_plotted == ["claude-3-5-haiku"]
    assert all(p.frontier for p in chart.points)
    assert chart.baseline_py is not None  # the majority baseline is a reference line, not a point
    for p in chart.points:
        assert chart.plot_left <= p.px <= chart.plot_right
        assert chart.plot_top <= p.py <= chart.plot_bottom
        assert p.phi is not None and p.plo is not None and p.phi < p.py < p.plo  # SVG y grows downwards
    for row in task.models:
        row.cost_usd = None
    none = charts.scatter(task, "cost_usd", "t", "Cost", charts.cost_label)
    assert none is not None and none.points == [] and len(none.not_plotted) == 3


def test_labels_do_not_overlap(report_data: Report) -> None:
    chart = charts.scatter(report_data.tasks[0], "latency_p50_s", "t", "Latency", charts.latency_label)
    assert chart is not None
    boxes = []
    for p in chart.points:
        w = 6.6 * len(p.model)
        x0 = {"start": p.label_x, "end": p.label_x - w, "middle": p.label_x - w / 2}[p.label_anchor]
        boxes.append((x0, p.label_y - 10, x0 + w, p.label_y + 2))
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3])
