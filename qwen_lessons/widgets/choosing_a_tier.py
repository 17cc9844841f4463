"""Lesson 7 (07_choosing_a_tier): the tier wizard and the inference-memory calculator, also served by the Voila app.

``steps_html``, ``fit_html`` and ``memory_breakdown_html`` are the pure steps; ``tier_wizard`` and
``memory_calculator`` lay out the controls and wire them with ``qwen_lessons.ui.wire``.
"""

from __future__ import annotations

import html
from types import SimpleNamespace

from qwen_lessons import local_formats, memory, models, towers, ui
from qwen_lessons.hardware import hardware_ids
from qwen_lessons.tiers import MODALITIES, PURPOSES, WizardResult, recommend
from qwen_lessons.ui import guarded, table_html, wire
from qwen_lessons.validation import checked, instance

WIZARD_RESULT = instance(WizardResult, what="a WizardResult (from tiers.recommend)")


@checked(result=WIZARD_RESULT)
def steps_html(result: WizardResult) -> str:
    """Numbered reasoning steps as HTML; the recommendation itself is shown once, above them, not repeated here."""
    items = "".join(f"<li>{html.escape(step)}</li>" for step in result.steps if step != result.recommendation)
    return f"<ol class='qwen-tier-steps-list'>{items}</ol>"


@checked(result=WIZARD_RESULT)
def fit_html(result: WizardResult) -> str:
    """The fit table: options that fit first, rounded, the first rows shown and all on request."""
    if result.fit.empty:
        return "<p>No candidate meets the quality need.</p>"
    table = result.fit.sort_values("fits", ascending=False, kind="stable").copy()
    table["memory_gib"] = table["memory_gib"].round(1)
    table["tokens_per_s_bound"] = table["tokens_per_s_bound"].round(0)
    table["fits"] = table["fits"].map({True: "yes", False: "no"})
    # the quality need is judged on the published base model of the same size, also for -Instruct rows
    table = table.rename(columns={"score": "base score (same size)", "memory_gib": "memory (GiB)",
                                  "tokens_per_s_bound": "decode bound (tokens/s)"})
    return table_html(table)


@checked
def tier_wizard():
    """Modality, purpose, hardware, GPUs, context, batch and quality controls -> reasoning steps and a fit table."""
    import ipywidgets as widgets


    style = {"description_width": "120px"}
    modality = widgets.Dropdown(options=list(MODALITIES), value="text", description="Modality", style=style)
    purpose = widgets.Dropdown(options=list(PURPOSES), value=PURPOSES[0], description="Purpose", style=style)
    hardware = widgets.Dropdown(options=hardware_ids(), value="rtx-4090", description="Hardware", style=style)
    num_gpus = widgets.IntText(value=1, description="GPUs", style=style)
    context = widgets.Dropdown(options=[2048, 4096, 8192, 16384, 32768, 65536, 131072], value=8192,
                               description="Context (tokens)", style=style)
    batch = widgets.IntText(value=1, description="Batch", style=style)
    quality = widgets.IntSlider(value=70, min=0, max=90, step=1, description="Min base score", style=style)
    recommendation = ui.html_output("qwen-tier-recommendation")
    steps = ui.html_output("qwen-tier-steps")
    fit = ui.html_output("qwen-tier-fit")

    def render() -> str:
        result = recommend(modality.value, purpose.value, hardware.value, num_gpus.value, context.value,
                           batch.value, quality.value)
        steps.value = steps_html(result)
        fit.value = fit_html(result)
        return f"<b>{html.escape(result.recommendation)}</b>"

    def update(_change=None):
        steps.value, fit.value = "", ""
        recommendation.value = guarded(render)

    controls = (modality, purpose, hardware, num_gpus, context, batch, quality)
    wire(controls, update)
    box = widgets.VBox([ui.row([widgets.VBox(list(controls[:4])), widgets.VBox(list(controls[4:]))]),
                        recommendation, steps, fit])
    return SimpleNamespace(modality=modality, purpose=purpose, hardware=hardware, num_gpus=num_gpus, context=context,
                           batch=batch, quality=quality, recommendation=recommendation, steps=steps, fit=fit, box=box,
                           update=update)


@checked
def memory_breakdown_html(model_id: str, quantization: str, input_tokens: int, output_tokens: int, batch: int) -> str:
    """The memory breakdown of one configuration as an HTML table with the total and the two rules of thumb."""
    est = memory.inference_memory(model_id, quantization, input_tokens, output_tokens, batch)
    terms = est.terms()
    rule1 = memory.rule_weights_times_1_2(model_id, quantization)
    rule2 = memory.rule_weights_plus_kv(model_id, quantization, input_tokens, output_tokens, batch)
    head = (f"<p><b>Peak {est.total_gib:.2f} GiB</b> (phase: {est.peak_phase}); rules of thumb: weights x 1.2 = "
            f"{rule1:.2f} GiB, weights + KV = {rule2:.2f} GiB.</p>")
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

