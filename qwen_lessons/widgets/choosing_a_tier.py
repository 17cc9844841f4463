"""Lesson 7 (07_choosing_a_tier): the tier wizard and the inference-memory calculator, also served by the Voila app.

``headline_html``, ``comparison_html``, ``steps_html``, ``scores_html``, ``fit_html`` and ``memory_breakdown_html``
are the pure steps; ``tier_wizard`` and ``memory_calculator`` lay out the controls and wire them with
``qwen_lessons.ui.wire``.
"""

from __future__ import annotations

import html
from types import SimpleNamespace

import pandas as pd

from qwen_lessons import local_formats, memory, models, towers, ui
from qwen_lessons.hardware import hardware_ids
from qwen_lessons.language import translate as _
from qwen_lessons.tiers import MODALITIES, PURPOSES, WizardResult, comparison_table, recommend, slider_label
from qwen_lessons.ui import guarded, table_html, wire
from qwen_lessons.validation import checked, instance

WIZARD_RESULT = instance(WizardResult, what="a WizardResult (from tiers.recommend)")


@checked(result=WIZARD_RESULT)
def headline_html(result: WizardResult) -> str:
    """The whole answer in one bold sentence."""
    return f"<p><b>{html.escape(result.headline)}</b></p>"


@checked(result=WIZARD_RESULT)
def comparison_html(result: WizardResult) -> str:
    """Three options side by side: best quality that fits, least memory, fastest (empty when nothing fits)."""
    if not result.comparison:
        return ""
    table = comparison_table(result)
    table["choice"] = table["choice"].map(_)
    table["model"] = table["model"].str.removeprefix("Qwen/")
    table["memory (GiB)"] = table["memory (GiB)"].round(1)
    table["expected (tokens/s)"] = table["expected (tokens/s)"].round(0).astype(int)
    table["decode bound (tokens/s)"] = table["decode bound (tokens/s)"].round(0).astype(int)
    return table_html(table, headers={"score": _score_header(result)})


def _score_header(result: WizardResult) -> str:
    return _("score ({quality})").format(quality=result.quality)


@checked(result=WIZARD_RESULT)
def steps_html(result: WizardResult) -> str:
    """The reasoning: numbered short steps (the headline is shown once, above them, not repeated here)."""
    items = "".join(f"<li>{html.escape(step)}</li>" for step in result.steps)
    return f"<ol class='qwen-tier-steps-list'>{items}</ol>"


@checked(result=WIZARD_RESULT)
def scores_html(result: WizardResult) -> str:
    """The candidates' scores as a small table whose header names the benchmark and mode."""
    table = result.scores.copy()
    table["model"] = table["model"].str.removeprefix("Qwen/")
    table["score"] = [f"{value:.1f}" if pd.notna(value) else _("no published score") for value in table["score"]]
    table["passes"] = table["passes"].map({True: _("yes"), False: _("no")})
    return table_html(table, headers={"score": _score_header(result)})


@checked(result=WIZARD_RESULT)
def fit_html(result: WizardResult) -> str:
    """Every passing model in every format tried: options that fit first, rounded, all rows on request."""
    if result.fit.empty:
        return f"<p>{html.escape(_('No candidate meets the quality need, so nothing was sized.'))}</p>"
    table = result.fit.sort_values("fits", ascending=False, kind="stable").copy()
    table["model"] = table["model"].str.removeprefix("Qwen/")
    table["memory_gib"] = [f"{value:.1f}" if pd.notna(value) else _("not sized") for value in table["memory_gib"]]
    for column in ("tokens_per_s_expected", "tokens_per_s_bound"):
        table[column] = [f"{value:,.0f}" if pd.notna(value) else _("not sized") for value in table[column]]
    table["fits"] = table["fits"].map({True: _("yes"), False: _("no")})
    return table_html(table, headers={"quantization": "format", "score": _score_header(result),
                                      "memory_gib": "memory (GiB)", "tokens_per_s_expected": "expected (tokens/s)",
                                      "tokens_per_s_bound": "decode bound (tokens/s)"})


@checked
def tier_wizard():
    """Modality, purpose, hardware, GPUs, context, batch and quality controls -> a one-sentence answer, a
    three-row comparison and the reasoning (steps, scores, every option) folded in an accordion."""
    import ipywidgets as widgets

    style = {"description_width": "120px"}
    modality = widgets.Dropdown(options=list(MODALITIES), value="text", description="Modality", style=style)
    purpose = widgets.Dropdown(options=list(PURPOSES), value=PURPOSES[0], description="Purpose", style=style)
    hardware = widgets.Dropdown(options=hardware_ids(), value="rtx-4090", description="Hardware", style=style)
    num_gpus = widgets.IntText(value=1, description="GPUs", style=style)
    context = widgets.Dropdown(options=[2048, 4096, 8192, 16384, 32768, 65536, 131072], value=8192,
                               description="Context (tokens)", style=style)
    batch = widgets.IntText(value=1, description="Batch", style=style)
    # the label names the benchmark and mode that judge the need; it follows the purpose and modality
    quality = widgets.IntSlider(value=70, min=0, max=90, step=1, description=slider_label("text", PURPOSES[0]),
                                style={"description_width": "240px"}, layout=widgets.Layout(width="470px"))
    recommendation = ui.html_output("qwen-tier-recommendation")
    comparison = ui.html_output("qwen-tier-comparison")
    steps = ui.html_output("qwen-tier-steps")
    scores = ui.html_output("qwen-tier-scores")
    fit = ui.html_output("qwen-tier-fit")
    reasoning = widgets.Accordion(children=[widgets.VBox([steps, scores, fit])], selected_index=None)
    reasoning.set_title(0, _("How the wizard decided: steps, scores and every option"))

    def render() -> str:
        quality.description = slider_label(modality.value, purpose.value)
        result = recommend(modality.value, purpose.value, hardware.value, num_gpus.value, context.value,
                           batch.value, quality.value)
        comparison.value = comparison_html(result)
        steps.value = steps_html(result)
        scores.value = scores_html(result)
        fit.value = fit_html(result)
        return headline_html(result)

    def update(_change=None):
        comparison.value, steps.value, scores.value, fit.value = "", "", "", ""
        recommendation.value = guarded(render)

    controls = (modality, purpose, hardware, num_gpus, context, batch, quality)
    wire(controls, update)
    box = widgets.VBox([ui.row([widgets.VBox(list(controls[:4])), widgets.VBox(list(controls[4:]))]),
                        recommendation, comparison, reasoning])
    return SimpleNamespace(modality=modality, purpose=purpose, hardware=hardware, num_gpus=num_gpus, context=context,
                           batch=batch, quality=quality, recommendation=recommendation, comparison=comparison,
                           reasoning=reasoning, steps=steps, scores=scores, fit=fit, box=box, update=update)


@checked
def memory_breakdown_html(model_id: str, quantization: str, input_tokens: int, output_tokens: int, batch: int) -> str:
    """The memory breakdown of one configuration as an HTML table with the total and the two rules of thumb."""
    est = memory.inference_memory(model_id, quantization, input_tokens, output_tokens, batch)
    terms = est.terms()
    rule1 = memory.rule_weights_times_1_2(model_id, quantization)
    rule2 = memory.rule_weights_plus_kv(model_id, quantization, input_tokens, output_tokens, batch)
    head = "<p>" + _("<b>Peak {total} GiB</b> (phase: {phase}); rules of thumb: weights x 1.2 = {rule1} GiB, weights "
                     "+ KV = {rule2} GiB.").format(total=f"{est.total_gib:.2f}", phase=html.escape(_(est.peak_phase)),
                                                   rule1=f"{rule1:.2f}", rule2=f"{rule2:.2f}") + "</p>"
    note = towers.towers_note(model_id)
    tail = f"<p>{html.escape(note)}</p>" if note else ""
    return head + table_html(terms, caption="Where the memory goes", headers={"gib": "memory (GiB)"},
                             decimals={"gib": 3}) + tail


@checked
def memory_calculator():
    """Model, quantization, prompt, answer and batch controls -> the memory breakdown table."""
    import ipywidgets as widgets


    style = {"description_width": "110px"}
    model = widgets.Dropdown(options=models.model_ids(memory_modelled=True), value="Qwen/Qwen2.5-7B-Instruct",
                             description="Model", style=style)
    # lesson 7's formats, then the GGUF and MLX formats of data/local_formats.csv (lesson 8)
    quant = widgets.Dropdown(options=[*memory.QUANTIZATIONS, *local_formats.local_quantizations()], value="bf16",
                             description="Quantization", style=style)
    prompt = widgets.IntText(value=4096, description="Prompt tokens", style=style)
    answer = widgets.IntText(value=1024, description="Answer tokens", style=style)
    batch = widgets.IntText(value=1, description="Batch", style=style)
    result = ui.html_output("qwen-memory-breakdown")

    def update(_change=None):
        result.value = guarded(lambda: memory_breakdown_html(model.value, quant.value, prompt.value, answer.value,
                                                             batch.value))

    controls = (model, quant, prompt, answer, batch)
    wire(controls, update)
    return SimpleNamespace(model=model, quantization=quant, prompt=prompt, answer=answer, batch=batch, result=result,
                           box=widgets.VBox([*controls, result]), update=update)

