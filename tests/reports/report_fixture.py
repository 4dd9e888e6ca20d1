"""A hand-built, realistic ReportData: 2 tasks, 3 models plus a majority baseline, 50 cases, hostile text."""

from __future__ import annotations

from typing import Any

MODELS = ["gpt-4o-mini", "claude-3-5-haiku", "gemma-3-270m"]
LABELS = ["positive", "negative", "neutral"]
XSS_SCRIPT = "<script>window.__xss = 1</script>"
XSS_IMG = '<img src=x onerror="window.__xss = 2">'
TURKISH = "Ürün harika, İstanbul'a çok hızlı geldi! Işık gibi, şık ve ğüzel."
PRICE = {"gpt-4o-mini": 2e-5, "claude-3-5-haiku": None, "gemma-3-270m": 0.0}
LATENCY = {"gpt-4o-mini": 0.62, "claude-3-5-haiku": 0.91, "gemma-3-270m": 0.18}

# Classify cases where a model's label differs from gold (None: the answer could not be parsed / failed).
CLASSIFY_WRONG: dict[str, dict[int, str | None]] = {
    "gpt-4o-mini": {3: "neutral", 9: None},
    "claude-3-5-haiku": {3: "neutral", 12: "negative"},
    "gemma-3-270m": {3: "neutral", 5: None, 12: "negative", 20: "positive", 25: "positive", 27: "neutral"},
}
N_CLASSIFY, N_GENERATE = 30, 20


def _answer(model: str, text: str | None, **kw: Any) -> dict[str, Any]:
    prompt_tokens = kw.pop("prompt_tokens", 120)
    completion_tokens = kw.pop("completion_tokens", 3 if text is None else max(1, len(text.split())))
    price = PRICE[model]
    return {
        "text": text,
        "error": kw.pop("error", None),
        "score": kw.pop("score", None),
        "correct": kw.pop("correct", None),
        "label": kw.pop("label", None),
        "latency_s": kw.pop("latency_s", LATENCY[model]),
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "cost_usd": None if price is None else price * (prompt_tokens + completion_tokens),
        "prompt": kw.pop("prompt"),
        "params": {"temperature": 0.0, "max_tokens": 256, "top_p": None, "stop": [], "seed": 7},
    }


def _classify_cases() -> list[dict[str, Any]]:
    cases = []
    for i in range(N_CLASSIFY):
        gold = LABELS[i % 3]
        text = f"Review #{i}: the product was fine and it arrived on time."
        if i == 10:
            text = f"Great phone {XSS_IMG} would buy again"
        if i == 11:
            text, gold = TURKISH, "positive"
        prompt = f"Classify the sentiment as positive, negative or neutral.\nReview: {text}\nLabel:"
        answers = {}
        for m in MODELS:
            wrong = CLASSIFY_WRONG[m]
            label = wrong.get(i, gold) if i in wrong else gold
            if m == "gemma-3-270m" and i == 5:
                error = "TimeoutError: no complete answer within 30 s"
                answers[m] = _answer(m, None, error=error, prompt=prompt)
                continue
            out = (XSS_SCRIPT if (m == "gpt-4o-mini" and i == 9) else label) or ""
            answers[m] = _answer(
                m, out, label=label, correct=label == gold, score=float(label == gold), prompt=prompt
            )
        cases.append(
            {"task": "sentiment", "id": f"s-{i:03d}", "input": text, "reference": gold, "answers": answers}
        )
    return cases


def _generate_cases() -> list[dict[str, Any]]:
    cases = []
    for j in range(N_GENERATE):
        ref = f"The council approved the new park budget of {j + 2} million after a long debate."
        source = (
            f"Article {j}: After a long debate, the city council approved a budget of {j + 2} million for parks."
        )
        if j == 6:
            source, ref = TURKISH, "Ürün hızlı geldi ve kaliteli."
        prompt = f"Summarize in one sentence.\n\n{source}\n\nSummary:"
        agree = j % 4 == 0  # identical text from every model on these cases
        common = f"The city council approved a {j + 2} million park budget after a long debate."
        other = f"After long debate, the council approved {j + 2} million for new parks."
        texts = {
            "gpt-4o-mini": common,
            "claude-3-5-haiku": common if agree else other,
            "gemma-3-270m": common if agree else f"Council approves park budget | {j + 2}M\nafter debate.",
        }
        if j == 2:
            texts["gemma-3-270m"] = f"Summary: {XSS_IMG} the park budget passed"
        if j == 6:
            texts["claude-3-5-haiku"] = "Ürün İstanbul'a hızlı geldi."
        answers = {}
        for m in MODELS:
            if m == "claude-3-5-haiku" and j == 13:
                answers[m] = _answer(m, None, error="RateLimitError: 429 after 4 retries", prompt=prompt)
                continue
            score = round(0.35 + 0.02 * ((j * 7 + len(m)) % 20), 3)
            answers[m] = _answer(m, texts[m], score=score, prompt=prompt)
        cases.append(
            {"task": "summarize", "id": f"g-{j:03d}", "input": source, "reference": ref, "answers": answers}
        )
    return cases


def _row(model: str, metric: str, value: float, lo: float, hi: float, **kw: Any) -> dict[str, Any]:
    row = {
        "model": model, "n": kw.pop("n", 30), "failed": kw.pop("failed", 0),
        "metrics": {metric: {"value": value, "lo": lo, "hi": hi}},
        "compliance": kw.pop("compliance", 1.0),
        "latency_p50_s": LATENCY.get(model), "latency_p95_s": (LATENCY.get(model) or 0) * 2.1 or None,
        "cost_usd": kw.pop("cost_usd", None), "tokens": kw.pop("tokens", 3690),
        "tied_with_best": kw.pop("tied", False), "is_baseline": kw.pop("is_baseline", False),
    }
    row.update(kw)
    return row


def _confusion(cases: list[dict[str, Any]], model: str) -> dict[str, Any]:
    cols = [*LABELS, "(no label)"]
    matrix = [[0] * len(cols) for _ in LABELS]
    for c in cases:
        pred = c["answers"][model]["label"] or "(no label)"
        matrix[LABELS.index(c["reference"])][cols.index(pred)] += 1
    return {"labels": list(LABELS), "matrix": matrix}


def build_report_data() -> dict[str, Any]:
    classify, generate = _classify_cases(), _generate_cases()
    sentiment = {
        "id": "sentiment", "type": "classify", "mode": "generate", "primary_metric": "accuracy",
        "models": [
            _row("gpt-4o-mini", "accuracy", 0.933, 0.787, 0.982, compliance=0.967, cost_usd=0.0741,
                 tied=True),
            _row("claude-3-5-haiku", "accuracy", 0.933, 0.787, 0.982, cost_usd=None, tied=True),
            _row("gemma-3-270m", "accuracy", 0.800, 0.627, 0.905, compliance=0.967, failed=1, cost_usd=0.0),
            _row("majority baseline", "accuracy", 0.367, 0.219, 0.545, compliance=None, cost_usd=None,
                 tokens=None, is_baseline=True, latency_p50_s=None, latency_p95_s=None),
        ],
        "pairwise": [
            {"a": "gpt-4o-mini", "b": "gemma-3-270m", "metric": "accuracy", "diff": 0.133, "lo": 0.012,
             "hi": 0.267, "p_value": 0.031, "test": "McNemar exact"},
            {"a": "gpt-4o-mini", "b": "claude-3-5-haiku", "metric": "accuracy", "diff": 0.0, "lo": -0.1,
             "hi": 0.1, "p_value": 1.0, "test": "McNemar exact"},
        ],
        "recommendation": {
            "model": "gpt-4o-mini",
            "line": "gpt-4o-mini: tied for best accuracy (0.93 [0.79, 0.98]) at $0.074 for 30 cases",
        },
        "confusion": {m: _confusion(classify, m) for m in MODELS},
    }
    summarize = {
        "id": "summarize", "type": "generate", "mode": None, "primary_metric": "rougeL",
        "models": [
            _row("gpt-4o-mini", "rougeL", 0.512, 0.471, 0.556, n=20, cost_usd=0.0512, tied=True),
            _row("claude-3-5-haiku", "rougeL", 0.488, 0.440, 0.530, n=20, failed=1, cost_usd=None),
            _row("gemma-3-270m", "rougeL", 0.391, 0.342, 0.437, n=20, cost_usd=0.0, compliance=None),
        ],
        "pairwise": [
            {"a": "gpt-4o-mini", "b": "gemma-3-270m", "metric": "rougeL", "diff": 0.121, "lo": 0.07,
             "hi": 0.17, "p_value": 0.0004, "test": "paired bootstrap"},
        ],
        "recommendation": {"model": None, "line": "No single winner | gpt-4o-mini leads\non rougeL"},
        "confusion": None,
    }
    return {
        "title": "llamacompare run 20261127-0812-ab12 — suite seed",
        "run": {"id": "20261127-0812-ab12", "suite": "seed", "created_at": "2026-11-27T08:12:44+00:00",
                "status": "complete", "n_cases": N_CLASSIFY + N_GENERATE, "models": list(MODELS)},
        "generated_at": "2026-11-27T09:00:00+00:00",
        "tasks": [sentiment, summarize],
        "cases": classify + generate,
        "diff": {"a": "20261120-1500-ff00", "b": "20261127-0812-ab12", "rows": [
            {"task": "sentiment", "model": "gpt-4o-mini", "metric": "accuracy", "n": 30, "a_value": 0.8,
             "b_value": 0.933, "diff": 0.133,
             "lo": 0.02, "hi": 0.25, "p_value": 0.02, "test": "McNemar exact"},
            {"task": "summarize", "model": "gpt-4o-mini", "metric": "rougeL", "n": 20, "a_value": 0.5,
             "b_value": 0.512, "diff": 0.012,
             "lo": -0.03, "hi": 0.05, "p_value": 0.41, "test": "paired bootstrap"},
        ]},
    }
