"""The built-in suites: the seed notebook reproduced byte for byte, and the benchmark suites on real data."""

from __future__ import annotations

import re
import time
from collections import Counter
from pathlib import Path

import pytest

from llamacompare.tasks import count_cases, iter_cases, load_suite, render_case

NOTEBOOK = Path(__file__).resolve().parents[3] / "shared" / "seed" / "llama-modellerini-karsilastirma.md"
# The notebook's `prompt` string, copied from the seed (llama-modellerini-karsilastirma.md).
SEED_PROMPT_TR = (
    "\nMesaj: Merhaba Amit, düşünceli doğum günü kartın için teşekkürler!\nDuygu: Pozitif\n"
    "Mesaj: Merhaba Baba, piyano resitalime 20 dakika geç kaldın!\nDuygu: Negatif\n"
    "Mesaj: Bu akşam pizza sipariş etmek için sabırsızlanıyorum!\nDuygu: ?\nTek kelime ile yanıt ver.\n"
)
SEED_PROMPT_EN = (
    "Message: Hi Amit, thanks for the thoughtful birthday card!\nSentiment: Positive\n"
    "Message: Hi Dad, you're 20 minutes late to my piano recital!\nSentiment: Negative\n"
    "Message: Can't wait to order pizza for dinner tonight!\nSentiment: ?\nGive a one word response."
)


def _only_prompt(suite_task):  # type: ignore[no-untyped-def]
    cases = list(iter_cases(suite_task))
    assert len(cases) == 1
    return cases[0], render_case(suite_task, cases[0])


def test_seed_sentiment_is_the_notebook_prompt_byte_for_byte() -> None:
    suite = load_suite("seed")
    assert suite.models == [] and [t.id for t in suite.tasks] == [
        "sentiment_tr",
        "summary_tr",
        "sentiment_en",
        "summary_en",
    ]
    task = suite.task("sentiment_tr")
    case, prompt = _only_prompt(task)
    assert prompt.text.encode("utf-8") == SEED_PROMPT_TR.encode("utf-8")
    assert prompt.text.startswith(prompt.prefix) and prompt.system is None
    assert (case.id, case.reference, task.mode) == ("pizza", "Pozitif", "both")
    assert task.label_names() == ["Pozitif", "Negatif"]
    for answer, label in [
        ("Pozitif", "Pozitif"),
        ("olumlu", "Pozitif"),
        ("POSITIVE", "Pozitif"),
        ("Negatif.", "Negatif"),
        ("OLUMSUZ", "Negatif"),
        ("negative", "Negatif"),
    ]:
        assert task.gold_label(answer) == label
    assert task.generation_params().max_tokens == 8


@pytest.mark.skipif(not NOTEBOOK.is_file(), reason="the seed notebook is not next to the repository")
def test_seed_matches_the_notebook_file() -> None:
    md = NOTEBOOK.read_text(encoding="utf-8")
    prompt = re.search(r"prompt = '''(.*?)'''", md, re.S).group(1)  # type: ignore[union-attr]
    email = re.search(r'email = """(.*?)"""', md, re.S).group(1)  # type: ignore[union-attr]
    suite = load_suite("seed")
    assert prompt == SEED_PROMPT_TR
    assert _only_prompt(suite.task("sentiment_tr"))[1].text == prompt
    case, rendered = _only_prompt(suite.task("summary_tr"))
    assert case.fields["email"] == email
    assert rendered.text.endswith("\n\ne-posta: " + email)


def test_seed_summary_tasks() -> None:
    suite = load_suite("seed")
    tr = suite.task("summary_tr")
    case, rendered = _only_prompt(tr)
    email = case.fields["email"]
    assert email.startswith("\nSevgili Amit,\n\n") and email.endswith("\nAndrew\n")
    assert "görev\n\ninize ince ayar" in email and "😜" in email
    assert rendered.text.startswith(
        "Bu e-postayı özetle ve bazı önemli noktaları çıkar. "
        "Yazar llama modelleri hakkında ne dedi?\n\ne-posta: \nSevgili Amit,"
    )
    assert (tr.type, tr.reference, tr.scorers, case.reference) == ("generate", None, ["length"], None)
    en = suite.task("summary_en")
    case, rendered = _only_prompt(en)
    assert rendered.text.startswith(
        "Summarize this email and extract some key points. What did the author say "
        "about llama models?\n\nemail: \nDear Amit,"
    )
    assert "Llama-2-7B" in rendered.text and rendered.text.endswith("Keep learning!\n\nAndrew\n")
    assert tr.generation_params().max_tokens == en.generation_params().max_tokens == 256


def test_seed_english_sentiment() -> None:
    task = load_suite("seed").task("sentiment_en")
    case, prompt = _only_prompt(task)
    assert prompt.text == SEED_PROMPT_EN and case.reference == "Positive"
    assert task.gold_label("pozitif") == "Positive"


@pytest.mark.parametrize(
    ("name", "count", "gold"),
    [
        ("sst2", 872, {"positive": 444, "negative": 428}),
        ("tr_polarity", 1000, {"pozitif": 500, "negatif": 500}),
        ("samsum", 819, None),
        ("xsum", 999, None),
    ],
)
def test_dataset_suites_on_the_real_data(
    datasets_dir: Path, name: str, count: int, gold: dict | None
) -> None:
    suite = load_suite(name)
    task = suite.tasks[0]
    assert task.data_path is not None and task.data_path.resolve().parent == datasets_dir.resolve()
    assert suite.check.counts() == {task.id: count} and count_cases(task) == count
    cases = list(iter_cases(task))
    assert len(cases) == count and len({c.id for c in cases}) == count
    assert all(c.reference for c in cases)
    if gold is not None:
        assert dict(Counter(c.reference for c in cases)) == gold
    texts = {c.fields.get("text") for c in cases}
    for ex in task.few_shot or []:
        assert ex["text"] not in texts  # the few-shot examples do not come from the evaluated set
    first = render_case(task, cases[0])
    second = render_case(task, cases[1])
    assert first.prefix == second.prefix and second.text.startswith(second.prefix)


def test_xsum_reports_the_empty_document(datasets_dir: Path) -> None:
    suite = load_suite("xsum")
    check = suite.check.tasks[0]
    assert (check.cases, check.skipped) == (999, 1) and suite.tasks[0].skipped == 1
    assert len(check.warnings) == 1
    assert "xsum_test1000.jsonl:220: empty 'document', case '32556640' skipped" in check.warnings[0]


def test_samsum_dialogues_keep_their_lines(datasets_dir: Path) -> None:
    case = next(iter_cases(load_suite("samsum").tasks[0]))
    assert case.id == "13862856" and case.reference.startswith("Hannah needs Betty's number")
    assert case.fields["dialogue"].startswith(
        "Hannah: Hey, do you have Betty's number?\nAmanda: Lemme check\n"
    )
    assert "\r" not in case.fields["dialogue"]


def test_sst2_quirks_and_speed(datasets_dir: Path) -> None:
    suite = load_suite("sst2", data=datasets_dir / "sst2_dev.tsv")
    start = time.perf_counter()
    cases = list(iter_cases(suite.tasks[0]))
    elapsed = time.perf_counter() - start
    assert cases[0].fields["text"] == "it 's a charming and often affecting journey . "
    assert cases[0].reference == "positive" and cases[1].reference == "negative"
    assert elapsed < 0.25, f"reading 872 rows took {elapsed:.3f}s"


def test_tr_polarity_prompt_is_turkish(datasets_dir: Path) -> None:
    task = load_suite("tr_polarity").tasks[0]
    case = next(iter_cases(task))
    prompt = render_case(task, case)
    assert prompt.system is not None and "Tek kelime ile yanıt ver." in prompt.system
    assert prompt.text.endswith(f"Yorum: {case.fields['text']}\nDuygu:")
    assert task.gold_label("POZİTİF") == "pozitif" and task.gold_label("olumsuz") == "negatif"
