"""What holding in-process answers to a JSON schema costs: the same extraction prompts answered free and held to
the schema (`params.response_format`), on each bundled model, batched (the default) and one at a time.

    python bench/structured_output.py            # ten Turkish and English sentences, ~1 minute
    python bench/structured_output.py -n 2       # the first two (a smoke run)

Per model and path it prints the answers' generated tokens, the time (prompts included), the seconds per answer,
the milliseconds per generated token and the answers that parse against the schema. Free answers often run to
max_tokens while held ones end with the object: per answer, holding is cheaper; per token it costs the grammar.
The prompts are plain text (the instruct model gets no chat template here), so the parse counts are not a suite's.
Batched, the model's first choice is checked against the grammar alone and the whole vocabulary filtered only when
it is refused (`models/grammar.py`); one at a time, llama-cpp-python's sampler filters the whole vocabulary every
token (262k tokens on Gemma 3).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

SCHEMA = {
    "type": "object",
    "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 40},
                   "age": {"type": "integer", "minimum": 0, "maximum": 150},
                   "city": {"type": "string", "minLength": 1, "maxLength": 40}},
    "required": ["name", "age", "city"],
    "additionalProperties": False,
}
SENTENCES = [
    "John Smith is 34 years old and lives in London.", "Ayşe Yılmaz 29 yaşında ve İstanbul'da yaşıyor.",
    "Maria, aged 27, moved to Madrid last year.", "Mehmet 52 yaşında, İzmir'de öğretmen.",
    "At 61, Robert still works in Chicago.", "Iğdırlı Işıl 23 yaşında ve Iğdır'da yaşıyor.",
    "Emily Chen (19) studies in Boston.", "Ankara'da oturan Fatma Hanım 67 yaşında.",
    "The 45-year-old Ahmed runs a shop in Cairo.", "Kemal, 40 yaşında bir mühendis; Bursa'da çalışıyor.",
]
MAX_TOKENS = 60


def parses(text: str) -> bool:
    import jsonschema

    try:
        jsonschema.validate(json.loads(text), SCHEMA)
    except (ValueError, jsonschema.ValidationError):
        return False
    return True


async def answer_all(provider: object, prompts: list[str], held: bool, together: bool) -> tuple[list[object], float]:
    from llamacompare.models.base import Params, Request
    from llamacompare.models.response_format import ResponseFormat

    fmt = ResponseFormat.json_schema(SCHEMA, "person") if held else None
    requests = [Request(prompt=p, params=Params(max_tokens=MAX_TOKENS, response_format=fmt)) for p in prompts]
    started = time.perf_counter()
    if together:
        out = await asyncio.gather(*(provider.generate("m", r) for r in requests))  # type: ignore[attr-defined]
    else:
        out = [await provider.generate("m", r) for r in requests]  # type: ignore[attr-defined]
    return list(out), time.perf_counter() - started


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=len(SENTENCES), help="sentences (default all ten)")
    ap.add_argument("--one-at-a-time", type=int, default=2, help="sentences for the one-at-a-time path (default 2)")
    args = ap.parse_args()
    from llamacompare.models.bundled import bundled_model_path
    from llamacompare.models.local import LocalProvider
    from llamacompare.sync import run_sync

    prompts = [f"Extract the person's name, age and city from the sentence as JSON with the keys name, age and "
               f"city.\nSentence: {s}\nJSON:" for s in SENTENCES[: args.n]]
    print(f"{'model':<24}{'path':<22}{'answers':>8}{'tokens':>8}{'seconds':>9}{'s/answer':>10}{'ms/token':>10}"
          f"{'parse':>8}")
    for model in ("gemma-3-270m", "smollm2-135m-instruct"):
        path = str(bundled_model_path(model))
        for way, parallel, n in (("batched", 32, len(prompts)), ("one at a time", 1, min(args.one_at_a_time,
                                                                                            len(prompts)))):
            provider = LocalProvider(path, parallel=parallel)
            run_sync(answer_all(provider, prompts[:1], False, False))  # load and warm up
            for held in (False, True):
                answers, seconds = run_sync(answer_all(provider, prompts[:n], held, parallel > 1))
                tokens = sum(a.completion_tokens or 0 for a in answers)  # type: ignore[attr-defined]
                ok = sum(parses(a.text) for a in answers)  # type: ignore[attr-defined]
                label = f"{way}, {'held' if held else 'free'}"
                print(f"{model:<24}{label:<22}{n:>8}{tokens:>8}{seconds:>9.2f}{seconds / n:>10.2f}"
                      f"{1000 * seconds / max(1, tokens):>10.0f}{ok:>5}/{n}")


if __name__ == "__main__":
    main()
