"""The built-in suites: the seed notebook reproduced byte for byte, and the data the suites ship (or read from
the Hugging Face Hub: see test_tasks_hub.py)."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from llamacompare.tasks import count_cases, iter_cases, load_suite, render_case

REPO = Path(__file__).resolve().parents[2]
NOTEBOOK = REPO / "docs" / "seed" / "llama-modellerini-karsilastirma.md"  # the seed, kept in the repository
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
        "reviews",
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
    # a chat model's whole answer, preamble and all (not the 8 tokens that cut it before the label); chat models
    # get the notebook's prompt as one turn too
    assert task.generation_params().max_tokens == 256
    assert prompt.chat_messages() == [{"role": "user", "content": SEED_PROMPT_TR}]


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


SHIPPED = REPO / "src" / "llamacompare" / "suites" / "data" / "film_reviews.tsv"


@pytest.mark.parametrize(
    ("name", "task_id", "count", "gold", "langs"),
    [
        ("sst2", "sst2", 120, {"positive": 60, "negative": 60}, {"en"}),
        ("tr_polarity", "tr_polarity", 120, {"pozitif": 60, "negatif": 60}, {"tr"}),
        ("seed", "reviews", 240, {"positive": 120, "negative": 120}, {"en", "tr"}),
    ],
)
def test_classification_suites_run_on_the_shipped_reviews(
    name: str, task_id: str, count: int, gold: dict[str, int], langs: set[str]
) -> None:
    """No --data and nothing beside the repository: the suites read the reviews shipped in the package."""
    suite = load_suite(name)
    task = suite.task(task_id)
    source = suite.source(task)
    assert source is not None and source.path is not None and source.path.resolve() == SHIPPED.resolve()
    assert suite.counts()[task_id] == count and count_cases(task, source=source) == count
    cases = list(suite.cases(task))
    assert len({c.id for c in cases}) == count
    assert dict(Counter(c.reference for c in cases)) == gold
    rows = {line.split("\t")[2]: line.split("\t")[1] for line in SHIPPED.read_text("utf-8").splitlines()[1:]}
    assert {rows[c.fields["text"]] for c in cases} == langs  # `where: {lang: ...}` keeps one language
    for ex in task.few_shot or []:
        assert ex["text"] not in rows  # the few-shot examples do not come from the evaluated set
    first, second = render_case(task, cases[0]), render_case(task, cases[1])
    assert first.prefix == second.prefix and second.text.startswith(second.prefix)
    limited = suite.with_overrides(20, None)
    head = list(limited.cases(task_id))
    assert len(head) == 20 and len({c.reference for c in head}) == 2  # --limit 20 still sees both labels
    assert limited.counts()[task_id] == 20 and suite.counts()[task_id] == count  # a copy: the loaded one is whole
    assert limited.task(task_id).dataset is not None and task.dataset is not None and task.dataset.limit is None


def test_the_shipped_reviews_are_turkish_and_english_and_documented() -> None:
    lines = SHIPPED.read_text("utf-8").splitlines()
    assert lines[0] == "id\tlang\ttext\tlabel"
    rows = [line.split("\t") for line in lines[1:]]
    assert all(len(r) == 4 for r in rows) and len({r[2] for r in rows}) == 240
    turkish = [r[2] for r in rows if r[1] == "tr"]
    assert sum(any(ch in t for ch in "ışğçöüİ") for t in turkish) > 100  # written with Turkish letters
    readme = (SHIPPED.parent / "README.md").read_text("utf-8")
    assert "film_reviews.tsv" in readme and "MIT" in readme
    for name in ("SST-2", "SAMSum", "XSum", "beyazperde"):
        assert name in readme  # each data set we do not ship, and why


def test_summary_suites_name_their_hub_dataset_and_ship_nothing() -> None:
    from llamacompare.tasks.loader import build_suite, parse_yaml, read_suite_text, resolve_suite_path

    for name, ref in (("samsum", "hf:Samsung/samsum:samsum/test"), ("xsum", "hf:EdinburghNLP/xsum/test")):
        path = resolve_suite_path(name)
        suite = build_suite(parse_yaml(read_suite_text(path), path)[1], None, path)
        spec = suite.tasks[0].dataset
        assert spec is not None and spec.path is None and spec.hf is not None and spec.hf.ref == ref


def test_sst2_reads_an_sst2_file_with_its_quirks(tmp_path: Path) -> None:
    """SST-2's own format (`--data FILE`): PTB tokens, bare quotes, trailing spaces, labels 1/0."""
    data = tmp_path / "sst2_dev.tsv"
    data.write_text('text\tlabel\nit \'s a charming and often affecting journey . \t1\n'
                    'unflinchingly bleak and desperate \t0\n"the film" is `` great \'\' fun\t1\n', encoding="utf-8")
    suite = load_suite("sst2", data=data)
    cases = list(suite.cases(suite.tasks[0]))
    assert cases[0].fields["text"] == "it 's a charming and often affecting journey . "
    assert [c.reference for c in cases] == ["positive", "negative", "positive"]
    assert cases[2].fields["text"] == '"the film" is `` great \'\' fun'


def test_tr_polarity_prompt_is_turkish() -> None:
    suite = load_suite("tr_polarity")
    task = suite.tasks[0]
    case = next(suite.cases(task))
    prompt = render_case(task, case)
    assert prompt.system is not None and "Tek kelime ile yanıt ver." in prompt.system
    assert prompt.text.endswith(f"Yorum: {case.fields['text']}\nDuygu:")
    assert task.gold_label("POZİTİF") == "pozitif" and task.gold_label("olumsuz") == "negatif"
