"""One home per fact (issue 28): the names data/ holds (generations, lines, vision and audio generations, formats,
model ids) are never listed again in the package's code, so adding one is an edit to data/ alone."""

from __future__ import annotations

import ast
from pathlib import Path

from qwen_lessons import audio, catalog, local_formats, models, vision
from qwen_lessons.data import read_table

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "qwen_lessons"

# A literal that may name several data values, with the reason it is not a copy of data/.
ALLOWED = {
    ("lessons/family_map.py", "CLAIMED_LINES"): "the popular claim's own words: lesson 1 checks the claim as worded",
    ("lessons/choosing_a_tier.py", "speeds"): "the checkpoints the '7B for throughput' claim compares (lesson 7)",
    ("lessons/local_inference.py", "check_seven_b_advice"): "the settings the '7B at 4-bit' claim is checked at",
}


def data_names() -> dict[str, str]:
    """Every name data/ decides -> which list it belongs to."""
    names: dict[str, str] = {}
    table = catalog.load_catalog()
    groups = {
        "generation": catalog.generations(table),
        "line": catalog.lines(),
        "vision generation": vision.generation_keys(),
        "audio generation": audio.generation_keys(),
        "format": (*local_formats.local_quantizations(), *read_table("wizard_formats.csv")["quantization"],
                   *read_table("gguf_types.csv")["ggml_type"].str.lower()),
        "model id": (*table["model_id"], *models.model_ids()),
    }
    for group, values in groups.items():
        for value in values:
            names.setdefault(value, group)
            if group == "model id":
                names.setdefault(value.split("/", 1)[-1], group)  # 'Qwen2.5-7B' as well as 'Qwen/Qwen2.5-7B'
    return names


def _assigned_name(tree: ast.AST, node: ast.AST) -> str:
    """The name of the module-level or class-level assignment holding `node`, else the enclosing function's."""
    for parent in ast.walk(tree):
        if isinstance(parent, (ast.Assign, ast.AnnAssign, ast.FunctionDef)):
            if any(child is node for child in ast.walk(parent)):
                if isinstance(parent, ast.FunctionDef):
                    inner = _assigned_name(ast.Module(body=parent.body, type_ignores=[]), node)
                    return inner if inner != "?" else parent.name
                targets = parent.targets if isinstance(parent, ast.Assign) else [parent.target]
                return next((target.id for target in targets if isinstance(target, ast.Name)), "?")
    return "?"


def lists_of_data_names(package: Path, names: dict[str, str]) -> list[str]:
    """'file:line NAME: [values] (groups)' for every tuple, list or set literal in the package whose strings are two
    or more data names and nothing else, and for every dict literal whose keys are."""
    found = []
    for path in sorted(package.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
                items = node.elts
            elif isinstance(node, ast.Dict):
                items = [key for key in node.keys if key is not None]
            else:
                continue
            strings = [item.value for item in items if isinstance(item, ast.Constant) and isinstance(item.value, str)]
            if len(strings) < 2 or not all(value in names for value in strings):
                continue
            relative = path.relative_to(package).as_posix()
            holder = _assigned_name(tree, node)
            if (relative, holder) in ALLOWED:
                continue
            groups = sorted({names[value] for value in strings})
            found.append(f"{relative}:{node.lineno} {holder}: {strings} ({', '.join(groups)} names)")
    return found


def test_no_list_of_data_names_in_the_package():
    found = lists_of_data_names(PACKAGE, data_names())
    assert not found, ("these lists copy names data/ holds; read them from the table instead "
                       "(catalog.generations(), catalog.lines(), local_formats.laptop_ladder(), ...):\n"
                       + "\n".join(found))


def test_the_scan_finds_a_planted_list(tmp_path):
    # the scan itself can fail: each kind of planted list is found, a list with a word of code in it is not
    names = data_names()
    (tmp_path / "planted.py").write_text(
        'GENERATIONS = ("Qwen2.5", "Qwen3")\n'
        'LINES = ["vision-language", "omni"]\n'
        'LADDER = ("q8_0", "q6_k", "q4_k_m")\n'
        'def offered():\n    return {"Qwen/Qwen2.5-7B-Instruct": 1, "Qwen/Qwen3-8B": 2}\n'
        'MODES = ("text", "image")  # "image" is a word of code, not a line\n', encoding="utf-8")
    found = lists_of_data_names(tmp_path, names)
    assert [line.split(" ", 2)[1] for line in found] == ["GENERATIONS:", "LINES:", "LADDER:", "offered:"], found
    assert "generation names" in found[0] and "format names" in found[2] and "model id names" in found[3]


def test_allowed_exceptions_still_exist():
    # an exception whose literal is gone must leave the list, so the list never hides a new copy under an old name
    for relative, holder in ALLOWED:
        source = (PACKAGE / relative).read_text(encoding="utf-8")
        assert f"{holder} =" in source or f"def {holder}(" in source, (relative, holder)
