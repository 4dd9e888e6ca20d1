"""Many `compare()` calls in one process (a notebook): each suite is scored with its own labels, never with those
of a suite compared earlier, however often the Python objects are made and freed."""

from __future__ import annotations

import gc
import re
from pathlib import Path
from typing import Any

from tests.support.scripted_server import ScriptedServer


def gold_in_prompt(body: dict[str, Any]) -> str:
    """The scripted model answers every case right: its gold label is written in the case text."""
    text = " ".join(str(m.get("content", "")) for m in body.get("messages", [])) or str(body.get("prompt", ""))
    return re.findall(r"gold=(\w+)", text)[-1]


def suite(name: str, labels: tuple[str, str]) -> Any:
    from llamacompare.tasks.schema import Suite

    return Suite.model_validate({
        "name": name,
        "tasks": [{
            "id": "sentiment", "type": "classify", "labels": {label: [] for label in labels},
            "template": "Text: {text}\nLabel:",
            "cases": [{"id": f"c{i}", "text": f"case {i} gold={labels[i % 2]}", "label": labels[i % 2]}
                      for i in range(6)],
        }],
    })


def test_two_suites_with_different_labels_compared_15_times_score_every_answer_right(tmp_path: Path) -> None:
    from llamacompare import compare

    with ScriptedServer(["alpha"], answer=gold_in_prompt) as srv:
        for round_ in range(15):
            for name, labels in (("tr", ("Pozitif", "Negatif")), ("en", ("Yes", "No"))):
                result = compare(suite(name, labels), ["openai:alpha"], base_url=srv.base_url,
                                 db=tmp_path / "c.db", progress=False)
                records = result.records()
                assert len(records) == 6, (round_, name)
                assert all(r["correct"] is True and r["label"] in labels for r in records), (round_, name, records)
                del result
                gc.collect()  # free the suite, so the next one may be built at its address
