"""Task files and few-shot prompts: never the item itself, byte-identical for a seed; a bad task file
or item stops the run with one line naming file, line and field, before any model is loaded."""
import json

import pytest

from pipeline.evaltasks.readers import EvalTaskError
from pipeline.evaltasks.spec import Item, load_task, read_items
from training.cli import main
from training.eval.prompts import build_prompt, fewshot_examples


def write_task(tmp_path, rows, extra=""):
    (tmp_path / "d.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    task = tmp_path / "t.yaml"
    task.write_text(f"kind: multiple_choice\ndata: {{file: {tmp_path / 'd.jsonl'}, reader: jsonl}}\nid: '{{key}}'\n"
                    "context: \"Q: {q}\\nA:\"\nchoices: [' yes', ' no']\ngold: label\n"
                    "fewshot: {source: same, separator: \"\\n###\\n\"}\n" + extra)
    return task


def rows(n):
    return [{"key": f"k{i}", "q": f"question number {i} ends here", "label": i % 2} for i in range(n)]


def test_fewshot_never_holds_the_item_and_is_deterministic(tmp_path):
    spec = load_task(str(write_task(tmp_path, rows(30))))
    items = read_items(spec)
    for k in (1, 4, 29):
        for item in items:
            examples = fewshot_examples(items, item, k, seed=5)
            assert len(examples) == min(k, len(items) - 1) and item not in examples
            assert len({e.id for e in examples}) == len(examples)
            prompt = build_prompt(spec, item, examples)
            assert prompt.count(item.context) == 1 and prompt.endswith(item.context)
            assert prompt.count("\n###\n") == len(examples)
            assert prompt == build_prompt(spec, item, fewshot_examples(items, item, k, seed=5))
    first = [build_prompt(spec, i, fewshot_examples(items, i, 4, 5)) for i in items]
    # the draw depends on (seed, item id) alone: not on the order or number of items evaluated
    reordered = [build_prompt(spec, i, fewshot_examples(items, i, 4, 5)) for i in reversed(items)]
    assert first == reordered[::-1]
    assert first != [build_prompt(spec, i, fewshot_examples(items, i, 4, 6)) for i in items]


def test_fewshot_from_another_split_skips_a_copy_of_the_item():
    item = Item("test-1", "same question", (" a", " b"), 0, 1)
    pool = [Item(f"train-{i}", "same question" if i == 0 else f"q{i}", (" a", " b"), 0, i) for i in range(3)]
    for seed in range(20):
        assert all(e.context != "same question" for e in fewshot_examples(pool, item, 2, seed))


def test_query_template_applies_to_examples_and_item_only_with_shots(tmp_path):
    spec = load_task(str(write_task(tmp_path, rows(5))))
    spec.fewshot["query"] = "{context} ____. ->"
    items = read_items(spec)
    assert build_prompt(spec, items[0], []) == items[0].context
    prompt = build_prompt(spec, items[0], [items[1]])
    assert prompt == f"{items[1].context} ____. -> no\n###\n{items[0].context} ____. ->"


@pytest.mark.parametrize("breakage,message", [
    (lambda t: t.unlink(), "task file not found"),
    (lambda t: t.write_text("kind: [oops\n"), "not valid YAML (line"),
    (lambda t: t.write_text(t.read_text().replace("kind: multiple_choice", "kind: essay")), "key 'kind'"),
    (lambda t: (t.parent / "d.jsonl").write_text('{"key": "a", "q": "x", "label": 0}\n{"key": "b", "label": 1}\n'),
     "d.jsonl: line 2: field 'q' missing"),
    (lambda t: (t.parent / "d.jsonl").write_text('{"key": "a", "q": "x", "label": 0}\nnot json\n'),
     "d.jsonl: line 2: not a JSON object"),
    (lambda t: (t.parent / "d.jsonl").write_text('{"key": "a", "q": "x", "label": 7}\n'),
     "d.jsonl: line 1: field 'label' gives option 7 of 2"),
])
def test_bad_task_input_is_one_line_before_the_model_loads(tmp_path, capsys, breakage, message):
    task = write_task(tmp_path, rows(3))
    breakage(task)
    # the checkpoint does not exist: the task error must come first
    code = main(["eval", "--checkpoint", str(tmp_path / "no_such_run"), "--tasks", str(task), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and message in err and len(err.splitlines()) == 1
    assert "checkpoint" not in err


def test_shipped_task_files_parse():
    from pipeline.evaltasks.spec import TASK_DIR
    names = sorted(p.stem for p in TASK_DIR.glob("*.yaml"))
    assert names == ["boolq", "cb", "hellaswag", "lambada", "openbookqa", "piqa", "storycloze", "wic",
                     "wikitext2", "wsc"]
    for name in names:
        spec = load_task(name)
        assert spec.metrics and len(spec.sha256) == 64


@pytest.mark.realdata
def test_readers_on_real_files(realdata, monkeypatch):
    monkeypatch.setenv("WEBMIX_EVAL_DATA", str(realdata))
    counts = {"lambada": 5153, "hellaswag": 10042, "piqa": 1838, "storycloze": 1871, "openbookqa": 500,
              "boolq": 3270, "cb": 56, "wic": 500, "wsc": 104}
    for name, n in counts.items():
        items = read_items(load_task(name))
        assert len(items) == n, name
        assert all(i.choices and all(c.startswith(" ") for c in i.choices) for i in items), name
    obqa = read_items(load_task("openbookqa"))
    assert all(len(i.choices) == 4 for i in obqa) and len(read_items(load_task("openbookqa"), fewshot=True)) == 4957
    wsc = read_items(load_task("wsc"))
    assert "*him*" in wsc[0].context
    lambada = read_items(load_task("lambada"))[0]
    assert lambada.choices == (" signs",) and not lambada.context.endswith(" ")
