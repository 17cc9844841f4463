"""The package speaks Chinese in what a learner sees (issue 26 items 3 and 4): with the language set to zh_CN, the
package's figures (titles, axis labels, legends, box texts), the headers, captions and footnotes of its tables, and
every sentence of the tier wizard, the laptop wizard and the memory calculator are Chinese; model ids, units, code
and argument names stay English, and every number is the one the English output shows.

"English left" is a run of three or more lower-case English words (`english_runs`): a sentence has them, while a
model id (Qwen2.5-7B-Instruct), a unit (GiB, tokens/s), a format (q4_k_m), a command inside <code> or a proper noun
(NVIDIA GeForce RTX 4090) does not. The figures are drawn from small stand-in inputs where the lesson's own input
would need a training run, so the whole file runs in a few seconds.
"""

from __future__ import annotations

import ast
import html
import re
from collections import Counter

import pytest

LANGUAGE = "zh_CN"
WORD = re.compile(r"[a-z]+(?:['’-][a-z]+)*")
TAG = re.compile(r"<[^>]+>")
CODE = re.compile(r"<code>.*?</code>|<style[^>]*>.*?</style>", re.DOTALL)  # code and CSS are not prose
NUMBER = re.compile(r"\d+(?:[,.]\d+)*")


def english_runs(text: str) -> list[str]:
    """Runs of 3+ lower-case English words in a text (HTML tags and <code> removed; punctuation around a word does
    not end its run, as in a sentence; any other token does)."""
    plain = html.unescape(TAG.sub(" ", CODE.sub(" ", str(text))))
    runs, current = [], []
    for token in plain.split() + [""]:
        bare = token.strip(",.;:()[]\"'“”")
        if WORD.fullmatch(bare):
            current.append(bare)
            continue
        if len(current) >= 3:
            runs.append(" ".join(current))
        current = []
    return runs


def test_english_runs_finds_sentences_and_spares_ids_units_and_code():
    assert english_runs("Run Qwen3-8B in q4_k_m (llama.cpp) on NVIDIA GeForce RTX 4090: 5.1 of 21.6 GiB") == []
    assert english_runs("在 RTX 4090 上运行 <code>llama-cli --ctx-size 8192 -m the model file</code>，约 12 tokens/s") == []
    assert english_runs("Fit: 3 of 5 fit in at least one format.") == ["fit in at least one format"]
    assert english_runs("峰值 <b>Peak memory is shown</b>") == ["memory is shown"]


@pytest.fixture
def chinese():
    import qwen_lessons

    qwen_lessons.set_language(LANGUAGE)
    yield
    qwen_lessons.set_language(None)


def _in(language: str, make, *args):
    import qwen_lessons

    qwen_lessons.set_language(language)
    try:
        return make(*args)
    finally:
        qwen_lessons.set_language(None)


# --- the wizards and the calculator ----------------------------------------------------------------------------------

# (modality, purpose, hardware, GPUs, context, batch, quality need): every outcome and every kind of step
TIER_CASES = [
    ("text", "deploy (instruct)", "rtx-4090", 1, 8192, 1, 70),  # fits
    ("text", "fine-tune (base)", "h100-sxm", 2, 8192, 4, 60),  # fine-tune, several GPUs
    ("code", "deploy (instruct)", "apple-m4-16gb", 1, 4096, 1, 50),  # code, shared memory
    ("image", "deploy (instruct)", "rtx-4090", 1, 8192, 1, 70),  # image: unjudged checkpoints
    ("audio", "deploy (instruct)", "rtx-4090", 1, 8192, 1, 60),
    ("text", "deploy (instruct)", "rtx-4090", 1, 8192, 1, 99),  # no model passes
    ("text", "deploy (instruct)", "rtx-3060-12gb", 1, 8192, 1, 88),  # too little memory
    ("text", "deploy (instruct)", "h100-sxm", 1, 4_000_000, 1, 40),  # context too long
]


def tier_texts(case) -> list[str]:
    from qwen_lessons.tiers import recommend
    from qwen_lessons.widgets import choosing_a_tier as wizard

    result = recommend(*case)
    return [wizard.headline_html(result), wizard.comparison_html(result), wizard.steps_html(result),
            wizard.scores_html(result), wizard.fit_html(result)]


def laptop_texts() -> list[str]:
    from qwen_lessons.hardware import Machine
    from qwen_lessons.widgets.local_inference import laptop_html

    return [laptop_html("apple-m4-16gb", 8192), laptop_html("rtx-4090", 32768, "q8_0"),
            laptop_html(Machine("tiny", 2, 20, "cpu"), 131072)]  # nothing fits


def calculator_texts() -> list[str]:
    from qwen_lessons.widgets.choosing_a_tier import memory_breakdown_html

    return [memory_breakdown_html("Qwen/Qwen2.5-7B-Instruct", "bf16", 4096, 1024, 1),
            memory_breakdown_html("Qwen/Qwen2.5-VL-7B-Instruct", "bf16", 4096, 1024, 1),
            memory_breakdown_html("Qwen/Qwen2.5-Omni-7B", "bf16", 4096, 1024, 1)]


def control_texts(builder) -> list[str]:
    """Every label and option label of a widget's controls, and its accordion titles."""
    import ipywidgets as widgets

    built = builder()
    texts = []
    for value in vars(built).values():
        if isinstance(value, widgets.Accordion):
            texts += [value.get_title(index) for index in range(len(value.children))]
        if isinstance(value, widgets.ValueWidget) and getattr(value, "description", ""):
            texts.append(value.description)
        texts += [str(label) for label in getattr(value, "_options_labels", ())]
    return texts


def test_the_wizards_and_the_calculator_speak_chinese(chinese):
    from qwen_lessons.widgets.choosing_a_tier import memory_calculator, tier_wizard
    from qwen_lessons.widgets.local_inference import laptop_wizard

    texts = [text for case in TIER_CASES for text in tier_texts(case)] + laptop_texts() + calculator_texts()
    texts += control_texts(tier_wizard) + control_texts(laptop_wizard) + control_texts(memory_calculator)
    left = {run for text in texts for run in english_runs(text)}
    assert not left, f"English left in the Chinese wizards: {sorted(left)[:15]}"


# Every other lesson's widget, opened as its notebook opens it (the sound track in both Omni generations: they word
# their interleaving differently). Lesson 3's DPO explorer is left out: it trains its models first.
WIDGETS = ("start_here.weights_widget", "family_map.build_explorer", "base_vs_instruct.token_viewer",
           "fine_tuning.training_planner_widget", "vision_token_budgets.image_widget", "vision_token_budgets.upload_widget",
           "vision_token_budgets.prompt_planner_widget", "audio_token_budgets.audio_counter_widget",
           "audio_token_budgets.audio_upload_widget", "audio_token_budgets.sound_track_widget",
           "audio_token_budgets.sound_track_widget:qwen3-omni")


def widget_texts(widget) -> list[str]:
    """What a learner reads in a widget: HTML and labels, control labels, option labels, titles and tooltips."""
    import ipywidgets as widgets

    texts = [widget.value] if isinstance(widget, widgets.HTML | widgets.Label) else []
    texts += [widget.description] if getattr(widget, "description", "") else []
    texts += [str(label) for label in getattr(widget, "_options_labels", ())]
    texts += [widget.get_title(i) for i in range(len(widget.children))] if isinstance(widget, widgets.Accordion) else []
    texts += [widget.tooltip] if getattr(widget, "tooltip", None) else []
    return texts + [text for child in getattr(widget, "children", ()) for text in widget_texts(child)]


@pytest.mark.parametrize("builder", WIDGETS)
def test_the_lessons_widgets_speak_chinese(chinese, builder):
    import importlib

    module, name = builder.split(":")[0].split(".")
    arguments = builder.split(":")[1:]
    built = getattr(importlib.import_module(f"qwen_lessons.widgets.{module}"), name)(*arguments)
    left = {run for text in widget_texts(built.box) for run in english_runs(text)}
    assert not left, f"English left in {builder}: {sorted(left)[:15]}"


def test_the_wizards_show_the_same_numbers_in_both_languages():
    def numbers(texts):
        return Counter(NUMBER.findall(" ".join(TAG.sub(" ", CODE.sub(" ", text)) for text in texts)))

    for case in TIER_CASES:
        english, chinese = _in("en", tier_texts, case), _in(LANGUAGE, tier_texts, case)
        assert numbers(english) == numbers(chinese), (case, numbers(english) - numbers(chinese),
                                                      numbers(chinese) - numbers(english))
        assert english != chinese  # the Chinese run did speak Chinese
    assert numbers(_in("en", laptop_texts)) == numbers(_in(LANGUAGE, laptop_texts))


def test_the_english_wizard_is_unchanged_by_the_catalog():
    from qwen_lessons.tiers import recommend

    result = _in("en", lambda: recommend("text", "deploy (instruct)", "rtx-4090", 1, 8192, 1, 70))
    assert result.headline.startswith("Run ") and "at the highest precision that fits." in result.headline
    assert result.steps[3].startswith("Context 8,192 tokens x batch 1: ")


# --- figures and tables ----------------------------------------------------------------------------------------------

def lesson_figures():
    """Every figure the package draws for a lesson, from the lesson's data or a small stand-in of its input."""
    import matplotlib
    import numpy as np
    import pandas as pd

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from qwen_lessons import tokens
    from qwen_lessons.lessons import audio_token_budgets, base_vs_instruct, family_map, fine_tuning, local_inference
    from qwen_lessons.lessons import preference_tuning
    from qwen_lessons.tinylm import TinyLM
    from qwen_lessons.widgets.family_map import selection_canvas

    figures = []
    for draw in (family_map.draw_training_states, family_map.plot_size_ladder, family_map.plot_context,
                 family_map.plot_licenses):
        figure, ax = plt.subplots()
        draw(ax=ax)
        figures.append(figure)
    figures.append(audio_token_budgets.tokens_figure())
    figures.append(local_inference.offload_figure())
    figures.append(preference_tuning.qwen_stages_figure())
    stages = pd.DataFrame({"stage": ["base", "SFT", "DPO"], **{metric: [0.5, 0.6, 0.7] for metric in (
        "preference_accuracy", "reward_margin", "mean_length", "length_std", "distinct_2", "entropy_nats",
        "kl_nats")}})
    figures.append(preference_tuning.stage_figure(stages))
    figures.append(preference_tuning.dpo_curve_figure(TinyLM(None, {}, loss_curve=(0.69, 0.5, 0.4, 0.3, 0.2, 0.1))))
    curve = TinyLM(None, {}, loss_curve=tuple(np.linspace(5, 1, 40)))  # a stand-in: only its loss curve is drawn
    figures.append(base_vs_instruct.loss_curves_figure(curve, curve))
    figures.append(base_vs_instruct.data_size_figure(pd.DataFrame(
        {"examples": [0, 10, 100], "heldout_correct": [0.0, 0.3, 0.8], "heldout_loss": [3.0, 2.0, 1.0]})))
    results = pd.DataFrame({"start": ["base", "base", "instruct", "instruct"], "examples": [0, 40, 0, 40],
                            "heldout_loss": [3.0, 2.0, 2.5, 1.5], "accuracy": [0.1, 0.5, 0.2, 0.6]})
    figures.append(fine_tuning.plot_experiment(results)[0].figure)
    figures.append(tokens.loss_mask_figure([{"role": "user", "content": "What is Qwen?"},
                                            {"role": "assistant", "content": "A family of models."}]))
    figures.append(selection_canvas().figure)
    return figures


def figure_texts(figure) -> list[str]:
    import matplotlib.text

    return [text.get_text() for text in figure.findobj(matplotlib.text.Text) if text.get_text().strip()]


def lesson_tables():
    """The package's tables as a lesson shows them (ui.data_table): their headers, caption and footnotes."""
    from qwen_lessons import ui
    from qwen_lessons.lessons import choosing_a_tier, family_map

    frames = [family_map.coverage(), family_map.availability_grid(), family_map.context_by_generation(),
              choosing_a_tier.gpu_limits_table(["Qwen/Qwen2.5-7B-Instruct"])]
    return [ui.data_table(frame.head(30), "Where the memory goes", top=5) for frame in frames]


def table_header_texts(table_html: str) -> list[str]:
    return re.findall(r"<th[^>]*>(.*?)</th>", table_html) + re.findall(r"<caption>(.*?)</caption>", table_html) + \
        re.findall(r"<tfoot>(.*?)</tfoot>", table_html) + re.findall(r"<summary>(.*?)</summary>", table_html)


def test_the_package_figures_and_table_headers_speak_chinese(chinese):
    import matplotlib.pyplot as plt

    from qwen_lessons.language import cjk_font

    if cjk_font() is None:
        pytest.skip("no CJK font installed (Debian: apt install fonts-noto-cjk): figures stay English by design")
    texts = []
    for figure in lesson_figures():
        texts += figure_texts(figure)
        plt.close(figure)
    for table in lesson_tables():
        texts += table_header_texts(table)
    left = {run for text in texts for run in english_runs(text)}
    assert not left, f"English left in the Chinese figures and table headers: {sorted(left)[:15]}"


def test_the_english_check_catches_an_unwrapped_label(chinese):
    """The planted fault: a figure label the package forgot to pass through figure_text stays English."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from qwen_lessons.language import figure_text

    figure, ax = plt.subplots()
    ax.set_xlabel(figure_text("generation"))
    ax.set_ylabel("parameters (billions, log scale)")
    found = {run for text in figure_texts(figure) for run in english_runs(text)}
    plt.close(figure)
    assert found == {"parameters billions log scale"}


# --- the room: JupyterLab in Chinese (issue 26 item 7) ---------------------------------------------------------------

def test_every_room_environment_carries_the_chinese_language_pack():
    """The hub image (built by repo2docker from binder/) and the one-server hub (install.sh) install JupyterLab's
    Chinese language pack of the [zh] extra, and the font the Chinese figures need."""
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    extra = tomllib.loads((root / "pyproject.toml").read_text())["project"]["optional-dependencies"]["zh"]
    assert any(requirement.startswith("jupyterlab-language-pack-zh-cn") for requirement in extra)
    pins = (root / "binder" / "requirements.txt").read_text()
    assert re.search(r"^jupyterlab-language-pack-zh-cn==\S+", pins, re.MULTILINE), "binder/requirements.txt"
    assert "fonts-noto-cjk" in (root / "binder" / "apt.txt").read_text()
    install = (root / "deploy" / "jupyterhub" / "install.sh").read_text()
    assert '"$course[hub,zh]"' in install and "fonts-noto-cjk" in install


def test_every_table_caption_a_notebook_passes_is_translated(chinese):
    """The notebooks' code cells are copied byte for byte, so their tables' captions and footnotes reach Chinese
    through the package catalog (ui.data_table translates them): each one has its translation there."""
    import importlib.util
    from pathlib import Path

    from qwen_lessons.language import translate

    script = Path(__file__).resolve().parent.parent / "scripts" / "translate_notebooks.py"
    spec = importlib.util.spec_from_file_location("translate_notebooks_for_captions", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    captions = module.notebook_table_messages()
    assert len(captions) > 50  # every lesson shows tables
    assert [caption for caption in captions if translate(caption) == caption] == []


# --- the notebooks' own figures ---------------------------------------------------------------------------------------

# The figure methods a notebook passes a text to, and the position of that text among their arguments
FIGURE_TEXT_CALLS = {"set_title": 0, "set_xlabel": 0, "set_ylabel": 0, "suptitle": 0, "text": 2}


def untranslated_figure_strings(sources) -> list[str]:
    """Figure texts that a notebook code cell writes as a plain string or f-string with English words in it, instead of
    through figure_text: a title, axis label, suptitle or box text, a legend's title= or a literal label=. The Chinese
    notebooks copy code cells byte for byte, so such a text stays English in the Chinese course."""
    def english(node) -> bool:
        parts = [node] if isinstance(node, ast.Constant) else node.values if isinstance(node, ast.JoinedStr) else []
        return any(isinstance(part, ast.Constant) and isinstance(part.value, str)
                   and re.search(r"[A-Za-z]{2}", part.value) for part in parts)

    found = []
    for source in sources:
        try:
            tree = ast.parse(source)
        except SyntaxError:  # a cell with IPython syntax (%magic) draws no figure
            continue
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                continue
            method = node.func.attr
            position = FIGURE_TEXT_CALLS.get(method)
            texts = node.args[position:position + 1] if position is not None else []
            texts += [keyword.value for keyword in node.keywords if keyword.arg == "title" and method == "legend"
                      or keyword.arg == "label" and isinstance(keyword.value, ast.Constant)]  # f"Qwen2.5-{size}": an id
            found += [f"{method}: {ast.unparse(text)}" for text in texts if english(text)]
    return found


def translate_script(root):
    import importlib.util

    spec = importlib.util.spec_from_file_location("translate_notebooks_for_figures",
                                                  root / "scripts" / "translate_notebooks.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    return script


def notebook_code_cells(notebook_dir) -> dict[str, list[str]]:
    """The code cells of every English notebook (lessons, app, solutions), as translate_notebooks.py lists them."""
    import json

    return {path.name: ["".join(cell["source"]) for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]
                        if cell["cell_type"] == "code"]
            for path in translate_script(notebook_dir.parent).english_notebooks(notebook_dir)}


def test_the_notebooks_figure_texts_go_through_figure_text():
    """Issue 26 item 3 for the figures a notebook draws itself (lesson 00's weights, lesson 04's memory bars ...):
    no plain English figure text in a code cell, and every figure_text message there reaches the package catalog
    (test_every_table_caption_a_notebook_passes_is_translated then checks each one is translated)."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    cells = notebook_code_cells(root / "notebooks")
    assert len(cells) > 15
    left = {name: found for name, sources in cells.items() if (found := untranslated_figure_strings(sources))}
    assert left == {}, "wrap these in figure_text (from qwen_lessons.language import figure_text)"
    wrapped = {node.args[0].value for sources in cells.values() for source in sources
               if "%" not in source.lstrip()[:1]  # an IPython magic cell draws no figure
               for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Call)
               and getattr(node.func, "id", None) == "figure_text" and isinstance(node.args[0], ast.Constant)}
    assert len(wrapped) > 40
    assert wrapped - set(translate_script(root).notebook_table_messages()) == set()


def test_the_figure_text_check_catches_a_plain_title_label_and_f_string():
    wrapped = ('ax.set_title(figure_text("{n} checkpoints").format(n=n))\nax.set_xlabel(figure_text("size"))\n'
               'ax.text(0.5, 1, figure_text("a card"))\nax.plot(x, y, label=f"Qwen2.5-{size}")\n'
               'ax.legend(title=figure_text("precision"))\nax.set_title(f"{bench} ({setting})")\n')
    assert untranslated_figure_strings([wrapped]) == []
    plain = ('ax.set_title(f"{n} checkpoints")\nfig.suptitle("Base models")\nax.set_ylabel("weights (GiB)")\n'
             'ax.text(0.5, 1, "a card", fontsize=8)\nax.plot(x, y, label="visual tokens")\n'
             'ax.legend(title="precision")\n')
    assert untranslated_figure_strings([plain]) == [
        "set_title: f'{n} checkpoints'", "suptitle: 'Base models'", "set_ylabel: 'weights (GiB)'", "text: 'a card'",
        "plot: 'visual tokens'", "legend: 'precision'"]
