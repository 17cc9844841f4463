"""No module of the package reaches into another module's private names (``othermodule._name``).

A private function is free to change: a caller in another module would break silently, so what two modules share is
public (``tinylm.forward_probs``, not ``tinylm._forward_probs``). The test reads the package's source (nothing is
imported), finds every ``name._private`` attribute access where ``name`` is a module of the package imported into
that file, and fails listing them. Dunder names (``__file__``, ``__name__``) are not private.
"""

from __future__ import annotations

import ast
from pathlib import Path

import qwen_lessons

PACKAGE = Path(qwen_lessons.__file__).resolve().parent


def _package_modules() -> set[str]:
    """Dotted names of every module and subpackage of qwen_lessons."""
    names = {"qwen_lessons"}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names.add(".".join(("qwen_lessons", *parts)))
    return names


def _module_aliases(tree: ast.AST, modules: set[str]) -> dict[str, str]:
    """Local name -> package module, for every import of a package module in the file (at any depth)."""
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in modules:
                    aliases[alias.asname or alias.name.split(".")[0]] = alias.name if alias.asname else "qwen_lessons"
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                dotted = f"{node.module}.{alias.name}"
                if dotted in modules:
                    aliases[alias.asname or alias.name] = dotted
    return aliases


def private_accesses(path: Path, modules: set[str]) -> list[str]:
    """'file:line: module._name' for every reach into another package module's private names in one file: an
    attribute access (``tinylm._backward``) or an import (``from qwen_lessons.tinylm import _backward``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    aliases = _module_aliases(tree, modules)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _private(node.attr) and isinstance(node.value, ast.Name) \
                and node.value.id in aliases:
            found.append((node.lineno, f"{aliases[node.value.id]}.{node.attr}"))
        elif isinstance(node, ast.ImportFrom) and node.module in modules and node.level == 0:
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names if _private(alias.name)]
    return [f"{path.name}:{line}: {name}" for line, name in sorted(found)]


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def test_the_scanner_sees_both_spellings(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("from qwen_lessons import tinylm\nfrom qwen_lessons.models import _index\n"
                     "import qwen_lessons.vision as vision\ntinylm._backward(1)\nvision.__name__\n"
                     "tinylm.forward_probs(2)\n", encoding="utf-8")
    hits = [hit.split(": ", 1)[1] for hit in private_accesses(probe, _package_modules())]
    assert hits == ["qwen_lessons.models._index", "qwen_lessons.tinylm._backward"], hits


def test_no_module_calls_another_modules_private_names():
    modules = _package_modules()
    found = [f"{path.parent.name}/{hit}" for path in sorted(PACKAGE.rglob("*.py"))
             for hit in private_accesses(path, modules)]
    assert not found, ("make these public in the module that owns them (or move the code there):\n"
                       + "\n".join(found))
