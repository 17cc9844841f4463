"""Lesson 4 (04_fine_tuning): the fine-tuning planner. Model, method, rank, sequence, micro-batch, checkpointing,
optimizer, loss, attention, GPUs with ZeRO stage and offload, packing and GPU in; a memory bar, a verdict and hours out
(the calculators app, 90_calculators_app, shows the same widget).

``finetune.plan`` and the ``*_html`` functions are the pure steps; ``training_planner_widget`` lays out the controls and wires
them with ``qwen_lessons.ui.wire``. LoRA adapts every linear layer of the decoder (PEFT's "all-linear"), so
the planner works for Qwen-1's fused layers as for the later ones.
"""

from __future__ import annotations

import html

from types import SimpleNamespace

from qwen_lessons import models, ui
from qwen_lessons.finetune import (
    ADAPTER_METHODS,
    ATTENTIONS,
    METHOD_LABELS,
    METHODS,
    OFFLOADS,
    OPTIMIZERS,
    SCENARIO_EXAMPLES,
    TrainingMemory,
    plan,
)
from qwen_lessons.hardware import load_hardware
from qwen_lessons.language import translate as _
from qwen_lessons.plotting import BAD_TEXT_COLOUR, GOOD_TEXT_COLOUR
from qwen_lessons.ui import guarded, wire
from qwen_lessons.validation import checked, instance

PLAN = instance(SimpleNamespace, what="a plan (from finetune.plan)")

DEFAULT_MODEL = "Qwen/Qwen2.5-7B"  # the planner opens on the lesson's running example when the table has it

PART_COLOURS = {"weights": "#0072B2", "adapters": "#CC79A7", "gradients": "#E69F00", "optimizer": "#D55E00",
                "activations": "#009E73", "overhead": "#999999"}
SEQ_OPTIONS = tuple(2**k for k in range(8, 18))
CHECKPOINTING_LABELS = (("off", "none"), ("standard", "standard"), ("offload to CPU RAM", "offload"))
LOSS_LABELS = (("standard (full logits)", "standard"), ("fused / chunked (Liger)", "fused"))
GPU_COUNTS = (1, 2, 4, 8)
RANK_OPTIONS = tuple(2**k for k in range(0, 13))


@checked(memory=instance(TrainingMemory, what="a TrainingMemory (from finetune.training_memory)"))
def memory_bar_html(memory: TrainingMemory, capacity_gib: float) -> str:
    """A stacked horizontal bar of the memory parts, with the GPU's capacity marked."""
    parts = {k: v for k, v in memory.parts_gib().items() if v > 0}
    scale = max(memory.total_gib, capacity_gib) * 1.02
    segments = "".join(
        f'<div title="{html.escape(_(k))}: {v:.1f} GiB" style="width:{100 * v / scale:.3f}%;background:{PART_COLOURS[k]}"></div>'
        for k, v in parts.items())
    marker = (f'<div style="position:absolute;left:{100 * capacity_gib / scale:.3f}%;top:-4px;bottom:-4px;'
              f'border-left:3px dashed #000" title="{html.escape(_("GPU memory {gib} GiB").format(gib=f"{capacity_gib:.1f}"))}">'
              "</div>")
    legend = " ".join(
        f'<span style="white-space:nowrap"><span style="display:inline-block;width:0.8em;height:0.8em;'
        f'background:{PART_COLOURS[k]}"></span> {html.escape(_(k))} {v:.1f}</span>' for k, v in parts.items())
    return (f'<div style="position:relative;display:flex;height:22px;border:1px solid #333;width:100%">'
            f'{segments}{marker}</div><div style="font-size:90%">'
            + _("GiB: {legend} · dashed line = GPU ({gib} GiB)").format(legend=legend, gib=f"{capacity_gib:.1f}")
            + "</div>")


@checked(result=PLAN)
def verdict_html(result: SimpleNamespace) -> str:
    """One line: fits or not, with the total and the headroom."""
    total, capacity = result.memory.total_gib, result.capacity_gib
    gpus = result.memory.n_gpus
    numbers = {"total": f"{total:.1f}", "capacity": f"{capacity:.1f}", "spare": f"{capacity - total:.1f}",
               "ratio": f"{total / capacity:.1f}", "gpus": gpus, "trainable": f"{result.memory.trainable_params:,}"}
    fits = f'<b style="color:{GOOD_TEXT_COLOUR}">{html.escape(_("Fits"))}</b>'
    does_not = f'<b style="color:{BAD_TEXT_COLOUR}">{html.escape(_("Does not fit"))}</b>'
    if gpus > 1:  # memory is per GPU: each of the GPUs must hold it
        if result.fits:
            return fits + _(": {total} GiB on each of {gpus} GPUs of {capacity} GiB ({spare} GiB spare); trainable "
                            "parameters {trainable}").format(**numbers)
        return does_not + _(": needs {total} GiB on each of {gpus} GPUs, each has {capacity} GiB ({ratio}x); trainable "
                            "parameters {trainable}").format(**numbers)
    if result.fits:
        return fits + _(": {total} GiB of {capacity} GiB ({spare} GiB spare); trainable parameters {trainable}").format(
            **numbers)
    return does_not + _(": needs {total} GiB, the GPU has {capacity} GiB ({ratio}x); trainable parameters "
                        "{trainable}").format(**numbers)


@checked(result=PLAN)
def hours_html(result: SimpleNamespace) -> str:
    """One line: tokens, compute and estimated hours at the stated utilisation."""
    numbers = {"tokens": f"{result.tokens:,}", "pflop": f"{result.flops / 1e15:,.0f}", "gpus": result.memory.n_gpus}
    if result.hours is None:
        return _("{tokens} tokens, {pflop} PFLOP; no sourced bf16 throughput for this device, so no time "
                 "estimate").format(**numbers)
    numbers |= {"hours": f"{result.hours:,.1f}", "share": f"{result.utilisation:.0%}"}
    if numbers["gpus"] > 1:
        return _("{tokens} tokens, {pflop} PFLOP: about {hours} h on {gpus} GPUs at {share} of the bf16 peak").format(
            **numbers)
    return _("{tokens} tokens, {pflop} PFLOP: about {hours} h at {share} of the bf16 peak").format(**numbers)


@checked
def training_planner_widget():
    """Model, method, rank, sequence, micro-batch, checkpointing, optimizer, loss, attention, GPUs, ZeRO, offload,
    packing and GPU controls -> bar, verdict and hours (memory per GPU; hours over all the GPUs)."""
    import ipywidgets as widgets


    hardware = load_hardware()
    choices = models.model_ids(memory_modelled=True)
    model = widgets.Dropdown(options=choices, value=DEFAULT_MODEL if DEFAULT_MODEL in choices else choices[0],
                             description="Model")
    method = widgets.Dropdown(options=[(METHOD_LABELS[m], m) for m in METHODS], value="lora", description="Method")
    rank = widgets.Dropdown(options=list(RANK_OPTIONS), value=16, description="LoRA rank")
    seq_len = widgets.Dropdown(options=list(SEQ_OPTIONS), value=2048, description="Seq length")
    micro_batch = widgets.Dropdown(options=[1, 2, 4, 8, 16], value=1, description="Micro-batch")
    checkpointing = widgets.Dropdown(options=list(CHECKPOINTING_LABELS), value="standard", description="Checkpointing",
                                     style={"description_width": "110px"})  # the default width cuts this label
    optimizer = widgets.Dropdown(options=list(OPTIMIZERS), value="adamw", description="Optimizer")
    loss = widgets.Dropdown(options=list(LOSS_LABELS), value="standard", description="Loss")
    attention = widgets.Dropdown(options=list(ATTENTIONS), value="flash", description="Attention")
    n_gpus = widgets.Dropdown(options=list(GPU_COUNTS), value=1, description="GPUs")
    zero_stage = widgets.Dropdown(options=[0, 1, 2, 3], value=0, description="ZeRO stage")
    offload = widgets.Dropdown(options=list(OFFLOADS), value="none", description="Offload")
    packing = widgets.Checkbox(value=False, description="Packing")
    gpu = widgets.Dropdown(options=list(zip(hardware["name"], hardware["gpu_id"], strict=True)), value="a100-80gb"
                           if "a100-80gb" in set(hardware["gpu_id"]) else hardware["gpu_id"].iloc[0],
                           description="GPU")
    examples = widgets.Dropdown(options=list(SCENARIO_EXAMPLES), value=20_000, description="Examples")
    bar = ui.html_output("qwen-ft-bar")
    verdict = ui.html_output("qwen-ft-verdict")
    hours = ui.html_output("qwen-ft-hours")
    controls = (model, method, rank, seq_len, micro_batch, checkpointing, optimizer, loss, attention, n_gpus,
                zero_stage, offload, packing, gpu, examples)

    def update(_change=None):
        rank.disabled = method.value not in ADAPTER_METHODS
        state = {}

        def render_verdict():
            state["plan"] = plan(model.value, method.value, gpu.value, rank=rank.value, seq_len=seq_len.value,
                                 micro_batch=micro_batch.value, checkpointing=checkpointing.value,
                                 examples=examples.value, optimizer=optimizer.value, loss=loss.value,
                                 attention=attention.value, n_gpus=n_gpus.value, zero_stage=zero_stage.value,
                                 offload=offload.value, packing=packing.value)
            return verdict_html(state["plan"])

        verdict.value = guarded(render_verdict)
        if "plan" in state:
            bar.value = memory_bar_html(state["plan"].memory, state["plan"].capacity_gib)
            hours.value = hours_html(state["plan"])
        else:
            bar.value = hours.value = ""

    wire(controls, update)
    box = widgets.VBox([ui.row([model, method, rank]), ui.row([seq_len, micro_batch, checkpointing]),
                        ui.row([optimizer, loss, attention]), ui.row([n_gpus, zero_stage, offload]),
                        ui.row([gpu, examples, packing]), bar, verdict, hours])
    return SimpleNamespace(model=model, method=method, rank=rank, seq_len=seq_len, micro_batch=micro_batch,
                           checkpointing=checkpointing, optimizer=optimizer, loss=loss, attention=attention,
                           n_gpus=n_gpus, zero_stage=zero_stage, offload=offload, packing=packing, gpu=gpu,
                           examples=examples, bar=bar, verdict=verdict, hours=hours, box=box, update=update)
