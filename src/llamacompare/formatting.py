"""How every view writes numbers (estimates with intervals, differences, p-values, seconds, shares and costs), names
what is compared, and words the facts `scoring/` decides.

The terminal, Jupyter, HTML, Markdown and JUnit views and the recommendation line all format through here, so one
run reads the same everywhere. Missing values are a dash; an unknown cost is "unknown", never $0.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from llamacompare.identity import Contender
    from llamacompare.scoring.recommend import Choice, Evidence, LabelMix, ModelSummary, Tied, WithinMargin
    from llamacompare.scoring.sequential import Decision

DASH = "—"
PROMPT_SEP = " · "


def variant_label(model: str, prompt: str = "", mode: str | None = None, setting: str = "") -> str:
    """How a model's answers under one prompt variant and setting are named where one label is needed (tables, the
    case matrix, human labels): `MODEL[@MODE][ · PROMPT][ · SETTING]`, the parts a task has one value of left out.
    Made from a Contender's parts and never parsed back: code that needs the parts keeps the Contender."""
    return (model + (f"@{mode}" if mode else "") + (f"{PROMPT_SEP}{prompt}" if prompt else "")
            + (f"{PROMPT_SEP}{setting}" if setting else ""))


def contender_name(c: Contender, *, show_mode: bool) -> str:
    """A Contender's name for people; `show_mode` where its task runs in more than one mode."""
    return variant_label(c.model, c.prompt, c.mode if show_mode else None, c.setting)


def decision_line(name: str, d: Decision[Any], margin: float, other: str | None) -> str:
    """Why a model stopped racing (`run --until-decided`), from the race's facts; `other` names `d.other`."""
    if d.verdict == "best" and d.other is None:
        return f"{name}: the best (every other model was decided worse) after {d.n:,} cases"
    bounds = f"[{d.lo:+.3f}, {d.hi:+.3f}]" if d.lo is not None and d.hi is not None else ""
    if d.verdict == "worse":
        by = f" by more than {margin:g}" if margin else ""
        return f"{name}: worse than {other}{by} after {d.n:,} cases (difference {bounds})"
    if d.verdict in ("best", "within margin"):
        what = "better than" if d.verdict == "best" else f"within {margin:g} of"
        return f"{name}: {what} every model still in the race after {d.n:,} cases (vs {other}: {bounds})"
    return f"{name}: not decided after {d.n:,} cases"


def undecided_line(names: list[str], n: int) -> str:
    """Models a race could not tell apart before the cases ran out: one line for them all."""
    return (f"{' and '.join(names)}: not told apart early, all {n:,} cases answered (the comparison below uses "
            "them all)")


class Estimate(Protocol):
    value: float | None
    lo: float | None
    hi: float | None


def finite(x: Any) -> float | None:
    """`x` as a float, or None when it is missing, not a number, NaN or infinite."""
    if x is None or isinstance(x, bool):
        return None
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _digits(xs: list[float]) -> int:
    """Decimals for figures shown together: fewer for large numbers, more until no non-zero figure reads 0."""
    top = max((abs(x) for x in xs), default=0.0)
    digits = 0 if top >= 100 else 1 if top >= 10 else 2
    while digits < 4 and any(x != 0 and round(x, digits) == 0 for x in xs):
        digits += 1
    return digits


def _fixed(x: float, digits: int, sign: bool = False) -> str:
    s = f"{x:+.{digits}f}" if sign else f"{x:.{digits}f}"
    if float(s) == 0 and s[0] in "+-":  # "-0.00" reads as a negative number
        s = ("+" if sign else "") + s[1:]
    return s


def num(x: Any, digits: int = 2) -> str:
    f = finite(x)
    return DASH if f is None else _fixed(f, digits)


def short(x: Any) -> str:
    """One number in running text: '0.91', '45.2', '120'."""
    f = finite(x)
    return "n/a" if f is None else _fixed(f, _digits([f]))


def estimate_parts(value: Any, lo: Any, hi: Any, missing: str = "n/a", digits: int | None = None
                   ) -> tuple[str, str, str]:
    """An estimate and its bounds written with one number of decimals (chosen by size unless given)."""
    if digits is None:
        digits = _digits([f for f in (finite(value), finite(lo), finite(hi)) if f is not None])

    def one(x: Any) -> str:
        f = finite(x)
        return missing if f is None else _fixed(f, digits)

    return one(value), one(lo), one(hi)


def interval(value: Any, lo: Any = None, hi: Any = None, digits: int | None = None) -> str:
    """'0.91 [0.88, 0.93]', or just '0.91' when the interval is unknown."""
    if finite(value) is None:
        return DASH
    v, a, b = estimate_parts(value, lo, hi, missing="", digits=digits)
    return f"{v} [{a}, {b}]" if a and b else v


def metric_title(name: str) -> str:
    """How tables head a metric: its scorer's title for it, else its name."""
    # start-up: the module is imported on the way to `compare` or a command's --help (measured)
    from llamacompare.scorers import title

    return title(name)


def metric(m: Estimate | None, digits: int | None = None) -> str:
    """A report Metric (value, lo, hi) as `interval` writes it; a dash when there is none."""
    return DASH if m is None else interval(m.value, m.lo, m.hi, digits)


def signed_interval(diff: Any, lo: Any, hi: Any, digits: int = 3) -> str:
    """'+0.042 [+0.010, +0.071]' for differences, where the sign is the point."""
    d = finite(diff)
    if d is None:
        return DASH
    text = _fixed(d, digits, sign=True)
    flo, fhi = finite(lo), finite(hi)
    if flo is not None and fhi is not None:
        text += f" [{_fixed(flo, digits, sign=True)}, {_fixed(fhi, digits, sign=True)}]"
    return text


def p_value(p: Any) -> str:
    f = finite(p)
    if f is None:
        return DASH
    return "<0.001" if f < 0.001 else f"{f:.3f}"


def tau(x: Any) -> str:
    """Kendall's τ: "= 0.67", or "undefined" (every model scored the same under one of the prompts)."""
    x = finite(x)
    return "undefined" if x is None else "= " + _fixed(x, 2)


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
    return f"{f:.2f} s" if f < 10 else f"{f:.1f} s"


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


def megabytes(x: Any) -> str:
    """Bytes as MB (10^6), the unit model cards and `ollama ps` use."""
    f = finite(x)
    return DASH if f is None else f"{f / 1e6:,.0f} MB"


def rate(x: Any, unit: str = "tok/s") -> str:
    f = finite(x)
    return DASH if f is None else f"{f:,.0f} {unit}" if f >= 10 else f"{f:.1f} {unit}"


def local_usage_cells(u: Any) -> list[str]:
    """A local model's row, the same in every view: load time, memory (process peak), prompt and generation
    rates with their token counts."""
    memory = megabytes(u.memory_bytes) + (f" (peak {megabytes(u.peak_rss_bytes)})" if u.peak_rss_bytes else "")
    return [seconds(u.load_s), memory, f"{rate(u.prompt_tokens_per_s)} ({integer(u.prompt_tokens)})",
            f"{rate(u.generated_tokens_per_s)} ({integer(u.generated_tokens)})"]


LOCAL_USAGE_HEADER = ["load", "memory (process peak)", "prompt (tokens)", "generation (tokens)"]
LOCAL_USAGE_NOTE = ("Measured in this run on this machine: memory the model added when it loaded; prompt and "
                    "generation rates are llama.cpp's tokens over the time it spent on them.")



def share(s: Any, of: str) -> str:
    """A share with its interval and count: '12.5% [4.3%, 31.0%] of 24 pairs'."""
    if s is None or finite(s.value) is None:
        return DASH
    bounds = f" [{pct(s.lo)}, {pct(s.hi)}]" if finite(s.lo) is not None and finite(s.hi) is not None else ""
    return f"{pct(s.value)}{bounds} of {s.n:,} {of}"


def judge_facts(j: Any) -> list[tuple[str, str]]:
    """A judge's reliability figures (an analysis.contract.JudgeReliability) as (what, figure) lines, the same in
    every view; a figure that does not apply is left out."""
    out: list[tuple[str, str]] = []
    if j.flip_rate is not None:
        out.append(("flips when the order is swapped", share(j.flip_rate, "pairs")))
    if j.first_position is not None:
        out.append(("first position wins (50% = no bias)", share(j.first_position, "verdicts")))
    if j.longer_wins is not None:
        out.append(("longer answer wins", share(j.longer_wins, "verdicts")))
    if j.length is not None:
        c = j.length
        p = p_value(c.p_value)
        out.append((f"verdict vs {c.against}", f"Spearman ρ {signed_interval(c.rho, c.lo, c.hi, digits=2)}, "
                                                f"p{p if p.startswith('<') else '=' + p}, n={c.n:,}"))
    if j.self_preference is not None:
        s = j.self_preference
        what = "wins" if j.scorer == "pairwise" else "score"
        out.append((f"self-preference of {s.model}",
                    f"{what} own {num(s.own)}, others {num(s.others)}: "
                    f"{signed_interval(s.diff, s.lo, s.hi, digits=2)}, n={s.n:,}"))
    if j.human is not None:
        h = j.human
        out.append(("agreement with people",
                    f"Cohen's κ {interval(h.kappa, h.lo, h.hi, digits=2)}, agree {pct(h.observed)}, n={h.n:,}"))
    if j.unparsed:
        out.append(("judge answers with no verdict", integer(j.unparsed)))
        if j.unparsed_stopped:
            at = "max_tokens" + (f"={j.max_tokens}" if j.max_tokens is not None else "")
            out.append((f"of them cut at the judge's {at}", f"{integer(j.unparsed_stopped)} (raise its max_tokens)"))
        if j.asked_for:
            out.append(("it was asked to end with", j.asked_for))
        out += [("it answered, e.g.", f"“{example}”" if example else "(blank)") for example in j.unparsed_examples]
    return out


def judge_title(j: Any) -> str:
    kind = "pairwise judge" if j.scorer == "pairwise" else "judge"
    return f"{kind} {j.judge}: {j.verdicts:,} verdicts"


def diagnosis_lines(task: Any) -> list[str]:
    """Why a task's answers failed (an analysis.contract.TaskSummary's `max_tokens_stops` and `looping`), and which
    rows' label scores are approximate, a line each naming the task and the model, with what to do; the same in
    every view."""
    out = [f"task {task.id}, {row.model}: {label_scores_line(row.label_scores)}" for row in task.models
           if approximate(row)]
    out += [f"task {task.id}, {row.model}: batch calibration rests on {row.calibration.cases:,} answers: a rough "
            "correction, run more cases" for row in task.models
            if row.calibration is not None and row.calibration.few]
    for s in task.max_tokens_stops:
        at = "max_tokens" + (f"={s.max_tokens}" if s.max_tokens is not None else "")
        what = "stopped at " + at + " before a label" if s.before == "label" else "were cut at " + at + \
            " before they ended"
        fix = ("most of them in a loop, which a higher max_tokens would not end" if 2 * s.looping > s.k
               else "raise max_tokens")
        out.append(f"task {task.id}, {s.model}: {whole_pct(s.share)} of answers ({s.k:,} of {s.n:,}) {what}: {fix}")
    for lp in task.looping:
        out.append(f"task {task.id}, {lp.model}: {whole_pct(lp.share)} of answers ({lp.k:,} of {lp.n:,}) loop (at "
                   f"least {whole_pct(lp.threshold)} of their word 4-grams repeat): their word counts overstate what "
                   "they say")
    return out


def structured_output_lines(task: Any, names: dict[str, str] | None = None) -> list[str]:
    """Which rows' answers were held to a response format (`params.response_format`: by the server, in-process by a
    grammar) and which were free, so that a check's pass rate is read for what it is; `names`: how the view shows
    each model. The same in every view; none for a task that asks for no format."""
    rows = [r for r in task.models if not r.is_baseline]
    held = [r for r in rows if r.response_format]
    if not held:
        return []
    shown = (names or {}).get
    line = "structured output enforced (response_format): " + ", ".join(
        f"{shown(r.model, r.model)} ({r.response_format})" for r in held)
    free = [shown(r.model, r.model) for r in rows if not r.response_format]
    return [line + ("; not enforced: " + ", ".join(free) if free else "")]


def calibration_lines(task: Any, names: dict[str, str] | None = None) -> list[str]:
    """What calibration did to each label-scored row of a task (analysis.contract.Calibration): both accuracies,
    the move, and what it rests on; `names`: how the view shows each model. The same in every view."""
    out = []
    for row in task.models:
        c = row.calibration
        if c is None or c.how == "none":
            continue
        on = "content-free, from one N/A prompt" if c.how == "content_free" else f"batch, over {c.cases:,} answers"
        out.append(f"{(names or {}).get(row.model, row.model)}: calibrated accuracy {num(c.calibrated)}, uncalibrated "
                   f"{num(c.uncalibrated)} (calibration {c.moved:+.2f}; {on})")
    return out


def variant_axes(task: Any, *, plural: bool = False) -> str:
    """What a task's rows vary in besides the model (an analysis.contract.TaskSummary): "prompt", "setting", or
    "prompt and setting" ("prompts and settings" with `plural`); "" for neither."""
    s = "s" if plural else ""
    return " and ".join(w + s for w, on in (("prompt", task.prompts), ("setting", task.settings)) if on)


def beside_words(metrics: list[str]) -> list[str]:
    """`repetition` right after `words`: the two read together (a long answer may be one phrase, looped)."""
    if "repetition" not in metrics or "words" not in metrics:
        return metrics
    rest = [m for m in metrics if m != "repetition"]
    at = rest.index("words") + 1
    return rest[:at] + ["repetition"] + rest[at:]


def metric_cell(task: Any, row: Any, name: str) -> str:
    """A row's figure for one metric (an analysis.contract.ModelRow of a TaskSummary), with "loops" after the
    repetition of a model whose answers loop, and APPROX before a figure made of approximate label scores: the
    same in every view."""
    shown = metric(row.metrics.get(name))
    if name == "repetition" and any(lp.model == row.model for lp in task.looping):
        return shown + " loops"
    if name in LABEL_METRICS and shown != DASH and approximate(row):
        return APPROX + shown
    return shown


#: beside a figure made of approximate label scores (top log-probs, where an unlisted label gets a bound)
APPROX = "≈"
APPROX_NOTE = "≈: made of approximate label scores (top log-probs; see the note)"
#: a classify row's figures that its label scores decide
LABEL_METRICS = frozenset({"accuracy", "macro_f1", "accuracy_uncalibrated"})


def approximate(row: Any) -> bool:
    """Whether a report row's (analysis.contract.ModelRow) label scores are approximate."""
    ls = getattr(row, "label_scores", None)
    return ls is not None and ls.exactness == "approximate"


def label_scores_line(ls: Any) -> str:
    """How a row's approximate label scores (an analysis.contract.LabelScoring) were read, with their coverage."""
    # start-up: the module is imported on the way to `compare` or a command's --help (measured)
    from llamacompare.models.capabilities import APPROXIMATE_LABEL_METHODS, LABEL_METHOD_WORDS

    how = " and ".join(LABEL_METHOD_WORDS.get(m, m) for m in ls.methods if m in APPROXIMATE_LABEL_METHODS)
    coverage = DASH if ls.coverage is None else whole_pct(ls.coverage)
    return (f"label scores approximate, from the {how} (coverage {coverage} of {ls.n:,} cases); a label not among "
            "the listed alternatives gets a bound, not its log-prob")


def pair_label_note(task: Any, a: str, b: str, names: dict[str, str] | None = None) -> str | None:
    """Where a paired comparison puts approximate label scores against exact ones, which is which (`names`: how
    the view shows each model)."""
    rows = {r.model: r for r in task.models}
    kinds = [getattr(getattr(rows.get(m), "label_scores", None), "exactness", None) for m in (a, b)]
    if sorted(k or "" for k in kinds) != ["approximate", "exact"]:
        return None
    approx, exact = (a, b) if kinds[0] == "approximate" else (b, a)
    cov = rows[approx].label_scores.coverage
    coverage = "" if cov is None else f" (coverage {whole_pct(cov)})"
    shown = names or {}
    return (f"{APPROX} {shown.get(approx, approx)}'s label scores are approximate{coverage}, "
            f"{shown.get(exact, exact)}'s exact")


REPETITION_NOTE = ("Repetition: 1 − distinct word 4-grams / all word 4-grams of an answer (0 = none repeats; lower is "
                   "better), the mean over answers")


def whole_pct(x: float) -> str:
    """A share in running text: '62%'."""
    return f"{100 * x:.0f}%"


def stability_line(st: Any, metric_name: str, name: str | None = None) -> str:
    """Stability across repeats (an analysis.contract.RepeatStability) in one line, the same in every view."""
    return (f"{name or st.model}, {st.repeats} repeats of {st.cases:,} cases: agree {metric(st.agreement)}, "
            f"pass^{st.repeats} {metric(st.pass_k)}, {st.flipped:,} flip(s); {metric_name} {metric(st.mean)} "
            "(intervals by case)")


def decided_lines(decided: Any) -> list[str]:
    """`run --until-decided`'s account of a task (analysis.contract.StopDecision rows): what it saved, then why
    each model stopped (models tied share one line)."""
    if not decided:
        return []
    saved = sum(d.saved for d in decided)
    return [f"until decided: {saved:,} request(s) not sent", *dict.fromkeys(d.line for d in decided)]


# The recommendation: `scoring.recommend` decides and says why in facts; these are its sentences.


def _p_text(p: float) -> str:
    if p < 0.001:
        return "<0.001"
    return f"={p:.3f}" if p < 0.01 else f"={p:.2f}"


def _ratio(chosen: float, best: float, what: str) -> str:
    if best <= 0 or chosen >= best:
        return f"at the same {what}" if chosen == best else ""
    if chosen == 0:
        return "at no cost" if what == "cost" else ""
    r = chosen / best
    return f"at 1/{round(1 / r)} of the {what}" if r <= 0.5 else f"at {r:.0%} of the {what}"


def _preferred(s: ModelSummary, prefer: str) -> float | None:
    return s.cost_usd if prefer == "cost" else s.latency_s


def _evidence(e: Evidence) -> str:
    diff, lo, hi = estimate_parts(e.pair.diff, e.pair.lo, e.pair.hi)
    if not diff.startswith("-") and float(diff) != 0:
        diff = "+" + diff
    return f"diff {diff} [{lo}, {hi}], {'adj. p' if e.adjusted else 'p'}{_p_text(e.p_value)}"


def label_caveat(mix: LabelMix | None) -> str | None:
    """The line a ranking owes its reader when it puts approximate label scores beside exact ones: the two are not
    the same measurement of log P(label | prompt), so it is never said silently."""
    if mix is None:
        return None
    named = ", ".join(m + ("" if coverage is None else f" (coverage {whole_pct(coverage)})")
                      for m, coverage in mix.approximate)
    return (f"label scores approximate (top log-probs) for {named}, exact for {', '.join(mix.exact)}: the ranking "
            "mixes two measures of log P(label | prompt)")


def choice_line(choice: Choice) -> str:
    """The recommendation in one line: whom to choose and the evidence, or why the cases cannot say."""
    # start-up: the module is imported on the way to `compare` or a command's --help (measured)
    from llamacompare.scoring.recommend import Better, NoScores, OnlyOne, Tied, Unpaired, WithinMargin

    name, why = choice.metric, choice.why

    def metric_of(s: ModelSummary) -> str:
        value, lo, hi = estimate_parts(s.metric.value, s.metric.lo, s.metric.hi)
        return f"{name} {value} [{lo}, {hi}]"

    if isinstance(why, NoScores):
        return f"no model has a {name} score to compare"
    if isinstance(why, OnlyOne):
        return f"choose {why.best.model}: {metric_of(why.best)} (the only model scored)"
    if isinstance(why, Unpaired):
        return (f"{why.best.model} scores best: {metric_of(why.best)}, but there is no paired comparison with the "
                "other models (no cases in common) to say whether it is better")
    if isinstance(why, Better):
        return (f"choose {why.best.model}: {metric_of(why.best)}, significantly better than every other model "
                f"(next: {why.next.model} {short(why.next.metric.value)}; {_evidence(why.evidence)})")
    if isinstance(why, Tied):
        return _tied_line(name, why)
    if isinstance(why, WithinMargin):
        return _margin_line(name, why)
    raise TypeError(f"no sentence for {why!r}")


def _tied_line(name: str, t: Tied) -> str:
    best, rival, prefer = t.best.model, t.rival.model, t.prefer
    values = f"{name} {short(t.best.metric.value)} vs {short(t.rival.metric.value)}"
    evid = f"{values} ({_evidence(t.evidence)})"
    these = "this one case" if t.cases == 1 else f"these {t.cases:,} cases"
    if t.needed_cases is None:
        line = f"{best} and {rival} scored the same on {these} ({values})"
    elif t.needed_cases > t.cases:
        line = f"{these} cannot separate {best} and {rival} yet: {evid}; about {t.needed_cases:,} cases would"
    else:
        line = f"no significant difference between {best} and {rival} on {these}: {evid}"
    if t.also:
        line += f"; {', '.join(t.also)} also not significantly worse than {best}"
    rule, other = ("cheapest", "fastest") if prefer == "cost" else ("fastest", "cheapest")
    if t.tie_break == "unknown":
        return line + f"; no {prefer} is known to choose between them"
    if t.tie_break == "then":
        return line + f"; at the same {prefer}, the {other} of them: {t.chosen.model}"
    line += f"; the {rule} of them: {t.chosen.model}"
    notes = []
    chosen_pref, best_pref = _preferred(t.chosen, prefer), _preferred(t.best, prefer)
    if t.chosen.model != best and best_pref is not None and chosen_pref is not None:
        notes.append(_ratio(chosen_pref, best_pref, prefer))
    if t.unknown:
        notes.append(f"{prefer} unknown for {', '.join(t.unknown)}")
    if any(notes):
        line += f" ({'; '.join(n for n in notes if n)})"
    return line


def _margin_line(name: str, w: WithinMargin) -> str:
    best, chosen, points = w.best.model, w.chosen, f"{w.margin:g}"
    rule = "cheapest" if w.prefer == "cost" else "fastest"
    if w.bound is None:
        if not w.within:
            return (f"choose {best}: the best on {name} ({short(w.best.metric.value)}); no other model "
                    f"is shown within {points} of it (one-sided {w.confidence} bound)")
        return (f"choose {best}: the best on {name} ({short(w.best.metric.value)}) and the {rule} "
                f"of the models shown within {points} of it; also within it: {', '.join(w.within)}")
    line = (f"choose {chosen.model}: the {rule} model within {points} of the best ({best}): {name} "
            f"{short(chosen.metric.value)} vs {short(w.best.metric.value)}, one-sided {w.confidence} lower "
            f"bound of the difference {w.bound:+.3f} > -{points}")
    chosen_pref, best_pref = _preferred(chosen, w.prefer), _preferred(w.best, w.prefer)
    if chosen_pref is not None and best_pref is not None:
        ratio = _ratio(chosen_pref, best_pref, w.prefer)
        if ratio:
            line += f" ({ratio})"
    return line


def calls_text(calls: Any) -> str:
    """A tool_call answer's (or case's) calls as each view shows them, one a line: `name(ARGUMENTS)` with the
    arguments as written; "no call" for none."""
    if not calls:
        return "no call"
    return "\n".join(f"{c.name}({c.arguments})" for c in calls)


def verdict_text(verdict: str, reason: str | None) -> str:
    """How a tool_call answer went, with why: "✗ wrong arguments: city: 'Izmir' ≠ 'İzmir'" ("✓ right")."""
    if verdict == "right":
        return "✓ right"
    if not reason:
        return f"✗ {verdict}"
    return f"✗ {reason}" if reason.startswith(verdict) else f"✗ {verdict}: {reason}"
