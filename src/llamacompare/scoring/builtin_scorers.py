"""The built-in scorers, declared in one place (`llamacompare.scorers` loads this module on its first read). Their
functions stay where they are; the order here is the order of `scorers:` names in messages."""

from __future__ import annotations

from llamacompare.scorers import Answer, Metric, Scorer, Value, register, scorer
from llamacompare.scoring.repetition import repetition as repeated
from llamacompare.scoring.rouge import length_stats, rouge_scores
from llamacompare.scoring.tool_calls import score_calls

# label rows: analysis/score.py (a logprob answer's label is calibrated across the model's answers); its other
# figures come from the confusion of labels
register(Scorer("accuracy", ("classify",), (
    Metric("accuracy", primary=10, binary=True, rows="label"),
    Metric("macro_f1"),
    Metric("no_label", higher_is_better=False),
    Metric("accuracy_uncalibrated", rows="label_uncalibrated"),
), always=True, averaged=False))


@scorer("rouge", types=("generate",), needs_reference=True, default=True,
        metrics=(Metric("rougeL", primary=30), Metric("rouge1", column=True), Metric("rouge2")))
def rouge(answer: Answer) -> dict[str, float]:
    return rouge_scores(answer.text, answer.reference or "")


# cheap and read beside any other metric: run on every generate task
@scorer("length", types=("generate",), always=True,
        metrics=(Metric("words", primary=50, higher_is_better=False, column=True), Metric("compression")))
def length(answer: Answer) -> dict[str, float]:
    return length_stats(answer.text, answer.source)


# verdicts: analysis/judge.py asks the task's judge
register(Scorer("judge", ("generate",), (Metric("judge", primary=10),), needs_judge=True))
register(Scorer("pairwise", ("generate",), (Metric("pairwise", primary=20),), needs_judge=True))


# a long answer may be one phrase, looped: a diagnostic beside `words`, never a task's primary metric
@scorer("repetition", types=("generate",), always=True, selectable=False,
        metrics=(Metric("repetition", higher_is_better=False),))
def repetition(answer: Answer) -> dict[str, float]:
    return {"repetition": repeated(answer.text)}


# a task's and its cases' `checks:` (analysis/score.py; each check is its own `check:NAME` metric too) and the marks
# people export from the HTML report (analysis/human.py): the summary has its own code for both
register(Scorer("checks", ("classify", "generate", "tool_call"), (
    Metric("all_checks", primary=40, binary=True),
    Metric("json_fields"),
), selectable=False, averaged=False))
register(Scorer("human", ("classify", "generate", "tool_call"), (Metric("human", binary=True),), selectable=False,
                averaged=False))


# tool_call tasks (scoring/tool_calls.py): each a right-or-wrong per answer, so intervals and paired tests are exact.
# What the task type is scored by: it runs on every tool_call task and is not named in `scorers:`
@scorer("tool_call", types=("tool_call",), needs_reference=True, always=True, selectable=False, metrics=(
    Metric("tool_call", title="right call", primary=10, binary=True),
    Metric("tool_name", title="right function", binary=True),
    Metric("tool_args_valid", title="valid arguments", binary=True),
))
def tool_call(answer: Answer) -> dict[str, Value | None]:
    return score_calls(answer.calls, answer.reference or "[]", answer.tools, fold=answer.fold)
