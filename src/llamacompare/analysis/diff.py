"""Run A vs run B (say, before and after a prompt change), paired on the same task, case and model."""

from __future__ import annotations

from llamacompare.analysis.contract import DiffRow, RunDiff
from llamacompare.analysis.runs import stored_suite
from llamacompare.analysis.summary import per_case_primary
from llamacompare.scoring.stats import compare_pair
from llamacompare.store.db import Store


def diff_runs(store: Store, run_a: str, run_b: str) -> RunDiff:

    ra, rb = store.get_run(run_a), store.get_run(run_b)
    a = per_case_primary(store, ra.id, stored_suite(ra))
    b = per_case_primary(store, rb.id, stored_suite(rb))
    rows = []
    for (task, variant), (metric, scores_a) in a.items():
        if (task, variant) not in b:
            continue
        metric_b, scores_b = b[(task, variant)]
        if metric_b != metric:
            continue
        common = [c for c in scores_a if c in scores_b]
        if not common:
            continue
        xa = [scores_a[c] for c in common]
        xb = [scores_b[c] for c in common]
        binary = all(x in (0.0, 1.0) for x in xa + xb)
        p = compare_pair("b", xb, "a", xa, binary=binary, n_resamples=5000)
        rows.append(DiffRow(task=task, model=variant, metric=metric, n=len(common), a_value=sum(xa) / len(xa),
                            b_value=sum(xb) / len(xb), diff=p.diff, lo=p.lo, hi=p.hi, p_value=p.p_value,
                            test=p.method))
    return RunDiff(a=ra.id, b=rb.id, rows=rows)
