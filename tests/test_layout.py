"""The package's layout (CONTRIBUTING.md): foundation apart from lessons, one naming axis, short modules, no cycles.

These rules are read from the code's own imports, so a new module is checked without editing this file.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "qwen_lessons"
MODULES = sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)
STEMS = sorted(p.stem.split("_", 1)[1] for p in (ROOT / "notebooks").glob("[0-8][0-9]_*.ipynb"))
PER_LESSON = ("lessons", "widgets", "checks")
# Shared facts and arithmetic: they may import each other, never lesson or widget code.
FOUNDATION = ("data", "schemas", "validation", "models", "catalog", "hardware", "units", "plotting", "language")
MAX_LINES = 600  # issue 28: a module past it is split by concern
# Floors of the import graph (issue 28): its longest chain, a per-lesson folder counted once. A contributor reads
# down that chain to follow a number; an import that stacks a module on another lesson's (lesson 7's speed bound on
# lesson 8's real llama.cpp runner) adds a floor: move the function to the module that owns its facts instead.
MAX_FLOORS = 10


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_imports(path: Path) -> set[str]:
    """qwen_lessons modules a file imports, at the top or inside functions."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("qwen_lessons"):
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                found.add(candidate if (ROOT / Path(*candidate.split("."))).with_suffix(".py").exists() else node.module)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("qwen_lessons")}
    return {name for name in found if name != "qwen_lessons"}


GRAPH = {module_name(path): package_imports(path) for path in MODULES}



def floor_room(module: str) -> str:
    """A per-lesson folder (lessons/, widgets/, checks/) is one room: its modules stand side by side on one floor."""
    parts = module.split(".")
    return ".".join(parts[:2]) if len(parts) > 2 and parts[1] in PER_LESSON else module


def floors(graph: dict[str, set[str]]) -> dict[str, int]:
    """Each room's floor: 1 for a room that imports nothing of the package, else one above the highest room it
    imports (imports inside functions count: they stack the modules all the same)."""
    rooms: dict[str, set[str]] = {}
    for module, imported in graph.items():
        room = floor_room(module)
        rooms.setdefault(room, set()).update(floor_room(name) for name in imported if floor_room(name) != room)
    found: dict[str, int] = {}

    def floor(room: str, trail: tuple[str, ...] = ()) -> int:
        if room not in found:
            assert room not in trail, f"import cycle: {' -> '.join([*trail, room])}"
            found[room] = 1 + max((floor(name, (*trail, room)) for name in rooms.get(room, ())), default=0)
        return found[room]

    for room in rooms:
        floor(room)
    return found


def highest_stack(graph: dict[str, set[str]]) -> list[str]:
    """The longest import chain, top floor first: the stack a new floor would be added to."""
    found = floors(graph)
    rooms = {floor_room(module) for module in graph}
    room = max(rooms, key=lambda name: found[name])
    stack = [room]
    while found[room] > 1:
        below = {floor_room(name) for module, imported in graph.items() if floor_room(module) == room
                 for name in imported}
        room = max(below - {room}, key=lambda name: found[name])
        stack.append(room)
    return stack


def test_foundation_imports_no_lesson_widget_or_topic_code():
    foundation = {f"qwen_lessons.{name}" for name in FOUNDATION}
    for module in foundation:
        upward = GRAPH[module] - foundation
        assert not upward, f"{module} is foundation but imports {sorted(upward)}"


def test_only_widget_modules_import_ipywidgets_or_the_wiring_helper():
    for path in MODULES:
        name = module_name(path)
        text = path.read_text(encoding="utf-8")
        if name in ("qwen_lessons.progress", "qwen_lessons.ui"):
            continue  # the training progress bar (a display, not a lesson widget) and the widget helpers themselves
        if "import ipywidgets" in text or "qwen_lessons.ui import" in text:
            assert name.startswith("qwen_lessons.widgets."), f"{name} builds widgets: move that code to widgets/<stem>.py"


def test_no_import_cycles():
    def visit(node, trail):
        for nxt in GRAPH.get(node, ()):
            assert nxt not in trail, f"import cycle: {' -> '.join([*trail, nxt])}"
            visit(nxt, [*trail, nxt])

    for module in GRAPH:
        visit(module, [module])



def test_the_package_stands_on_at_most_max_floors():
    stack = highest_stack(GRAPH)
    assert len(stack) <= MAX_FLOORS, (f"the package has {len(stack)} floors (at most {MAX_FLOORS}): "
                                      f"{' -> '.join(name.removeprefix('qwen_lessons.') for name in stack)}; move the "
                                      "function that adds the floor to the module that owns its facts")


def test_floors_count_the_longest_chain_and_a_lesson_folder_as_one():
    graph = {"qwen_lessons.validation": set(), "qwen_lessons.data": {"qwen_lessons.validation"},
             "qwen_lessons.memory": {"qwen_lessons.data"}, "qwen_lessons.speed": {"qwen_lessons.memory"},
             "qwen_lessons.lessons.a": {"qwen_lessons.lessons.b", "qwen_lessons.data"},
             "qwen_lessons.lessons.b": {"qwen_lessons.speed"}, "qwen_lessons.widgets.a": {"qwen_lessons.lessons.a"}}
    assert floors(graph)["qwen_lessons.lessons"] == 5 and floors(graph)["qwen_lessons.widgets"] == 6
    assert highest_stack(graph) == ["qwen_lessons.widgets", "qwen_lessons.lessons", "qwen_lessons.speed",
                                    "qwen_lessons.memory", "qwen_lessons.data", "qwen_lessons.validation"]
    graph["qwen_lessons.speed"] = {"qwen_lessons.memory", "qwen_lessons.lessons.b"}
    with pytest.raises(AssertionError, match="import cycle"):
        floors(graph)


def test_per_lesson_modules_are_named_after_a_notebook():
    for folder in PER_LESSON:
        names = {p.stem for p in (PACKAGE / folder).glob("*.py")} - {"__init__"}
        assert names, folder
        strays = names - set(STEMS)
        assert not strays, f"qwen_lessons/{folder}/ holds {sorted(strays)}, not named after a notebook {STEMS}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: module_name(p))
def test_module_is_short_and_its_docstring_names_its_lesson(path):
    text = path.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= MAX_LINES, f"{path.name} has {len(text.splitlines())} lines; split it by concern"
    docstring = ast.get_docstring(ast.parse(text)) or ""
    named = re.search(r"\b[Ll]essons?\b|\bnotebooks?\b|\b0\d_[a-z_]+", docstring)
    assert named, f"{module_name(path)}: the docstring should name the lesson(s) it serves"


def test_a_layout_rule_fails_on_a_bad_module(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text('"""Names no course part here."""\nfrom qwen_lessons.widgets import fine_tuning\n', encoding="utf-8")
    assert package_imports(bad) == {"qwen_lessons.widgets.fine_tuning"}
    docstring = ast.get_docstring(ast.parse(bad.read_text(encoding="utf-8")))
    assert not re.search(r"\b[Ll]essons?\b|\bnotebooks?\b|\b0\d_[a-z_]+", docstring)
