"""What a learner does to the widgets of each notebook, and what qwen_lessons says they must then show.

Each expected value is computed here, in the test process, by the pure qwen_lessons function behind the
widget. The starting values of the other controls are read from a fresh builder (its controls only, never
its results), so a changed default does not break the test, while a widget that stops updating, or shows
something else than the function, does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from qwen_lessons import finetune, pictures, prompts
from qwen_lessons.lessons import start_here as start_here_lessons
from qwen_lessons.widgets import base_vs_instruct as base_vs_instruct_widgets
from qwen_lessons.widgets import choosing_a_tier as choosing_a_tier_widgets
from qwen_lessons.widgets import family_map as family_map_widgets
from qwen_lessons.widgets import fine_tuning as fine_tuning_widgets
from qwen_lessons.widgets import local_inference as local_inference_widgets
from qwen_lessons.widgets import preference_tuning as preference_tuning_widgets
from qwen_lessons.widgets import start_here as start_here_widgets


@dataclass(frozen=True)
class WidgetCase:
    """Actions on the controls (see browser_harness.operate), then (result CSS selector, expected HTML) pairs."""

    actions: tuple[tuple, ...]  # a value may be a callable, called when the action runs
    expect: tuple[tuple[str, Callable[[], str]], ...]
    scope: str | None = None  # CSS selector of the part of the page holding this widget (None: whole page)


# ----------------------------------------------------------------------------- 00 start here: weights memory

def start_here_weights() -> str:

    # "End" on the model slider moves it to the largest checkpoint
    label, params = start_here_lessons.checkpoint_sizes()[-1]
    return start_here_widgets.weights_html(label, params, "int4 (4-bit)")


START_HERE = WidgetCase(
    # The slider is moved with the keyboard, and Tab must lead on to the dropdown. Arrow keys on the dropdown
    # itself are taken by JupyterLab's notebook shortcuts (jupyter-widgets/ipywidgets#3912): the Voila test,
    # where they work, uses them instead.
    actions=(("select", "Precision", "int4 (4-bit)"), ("key", "Model", "End"), ("tab", "Model", "Precision")),
    expect=((".qwen-weights", start_here_weights),),
)


# ----------------------------------------------------------------------------- 01 family map: catalog explorer

EXPLORER_LINE = "code"


def family_map_table() -> str:
    from qwen_lessons import catalog

    ui = family_map_widgets.build_explorer()
    rows = family_map_widgets.explorer_selection(EXPLORER_LINE, ui.generation.value, ui.variant.value, ui.license.value,
                                      ui.size.value, ui.context.value, table=catalog.load_catalog())
    return family_map_widgets.selection_html(rows)


FAMILY_MAP = WidgetCase(
    actions=(("select", "Line", EXPLORER_LINE),),
    expect=((".qwen-explorer-table", family_map_table),),
)


# ----------------------------------------------------------------------------- 02 base vs instruct: token viewer

VIEWER_TEXT = "user: Why does Qwen use ChatML?\nassistant: To mark who is speaking."


def token_view() -> str:

    ui = base_vs_instruct_widgets.token_viewer()
    return base_vs_instruct_widgets.view_html(base_vs_instruct_widgets.view_tokens(VIEWER_TEXT, ui.mode.value, ui.template.value, ui.thinking.value))


def token_summary() -> str:

    ui = base_vs_instruct_widgets.token_viewer()
    return base_vs_instruct_widgets.view_summary(base_vs_instruct_widgets.view_tokens(VIEWER_TEXT, ui.mode.value, ui.template.value, ui.thinking.value))


BASE_VS_INSTRUCT = WidgetCase(
    actions=(("type", "Text", VIEWER_TEXT),),
    expect=((".qwen-token-view", token_view), (".qwen-token-summary", token_summary)),
)


# ----------------------------------------------------------------------------- 04 fine-tuning: planner

PLANNER_METHOD = "qlora-4bit"
PLANNER_MODEL = "Qwen/Qwen2.5-14B"  # set explicitly: the notebook leaves the planner on another model


def _finetune_plan():

    ui = fine_tuning_widgets.training_planner_widget()
    return finetune.plan(PLANNER_MODEL, PLANNER_METHOD, ui.gpu.value, rank=ui.rank.value, seq_len=ui.seq_len.value,
                         micro_batch=ui.micro_batch.value, checkpointing=ui.checkpointing.value,
                         examples=ui.examples.value)


def finetune_verdict() -> str:

    return fine_tuning_widgets.verdict_html(_finetune_plan())


def finetune_hours() -> str:

    return fine_tuning_widgets.hours_html(_finetune_plan())


def _method_label() -> str:
    from qwen_lessons import finetune

    return finetune.METHOD_LABELS[PLANNER_METHOD]


FINE_TUNING = WidgetCase(
    actions=(("select", "Model", PLANNER_MODEL), ("select", "Method", _method_label)),
    expect=((".qwen-ft-verdict", finetune_verdict), (".qwen-ft-hours", finetune_hours)),
)


# ----------------------------------------------------------------------------- 05 vision: prompt token planner

PLANNER_IMAGES = 5


def vision_plan() -> str:
    from qwen_lessons.widgets import vision_token_budgets as vision_widgets

    ui = vision_widgets.prompt_planner_widget()
    image_size = (ui.image_height.value, ui.image_width.value)
    videos = [(ui.video_height.value, ui.video_width.value, ui.duration.value)] * ui.videos.value
    plan = prompts.plan_prompt(ui.text.value, [image_size] * PLANNER_IMAGES, videos, generation=ui.generation.value,
                              budget=ui.budget.value, video_fps=ui.fps.value, reserved_output=ui.reserved.value,
                              context=ui.context.value)
    return vision_widgets.plan_html(plan, image_size, ui.budget.value)


UPLOAD_SAMPLE = "images/slide.png"


def _sample_path():
    from qwen_lessons.data import data_path

    return data_path(UPLOAD_SAMPLE)


def uploaded_report() -> str:
    from qwen_lessons import vision
    from qwen_lessons.widgets import vision_token_budgets as vision_widgets

    ui = vision_widgets.upload_widget()
    # the size comes from the sample table, not from the file header the widget reads
    sample = vision.samples_table().set_index("file").loc[UPLOAD_SAMPLE]
    height, width = int(sample["height"]), int(sample["width"])
    preview, problem = pictures.decode_preview_with_reason(_sample_path().read_bytes())
    _, every = vision_widgets.overlay_png(preview, height, width, ui.generation.value, ui.budget.value)
    note = f"No preview: {problem}; the count comes from the file header." if problem else ""
    report = vision_widgets.image_report_html(height, width, ui.generation.value, ui.budget.value, every, note)
    return f"<b>{_sample_path().name}</b>: " + report


VISION_PLANNER = WidgetCase(
    actions=(("type", "Images", PLANNER_IMAGES),),
    expect=((".qwen-vision-plan", vision_plan),),
)
VISION_UPLOAD = WidgetCase(
    actions=(("upload", "Upload image", _sample_path),),
    expect=((".qwen-vision-upload", uploaded_report),),
)


# ----------------------------------------------------------------------------- 07 tiers: memory calculator, wizard

CALCULATOR_PROMPT = 16384
WIZARD_HARDWARE = "a100-80gb"


def memory_breakdown() -> str:

    ui = choosing_a_tier_widgets.memory_calculator()
    return choosing_a_tier_widgets.memory_breakdown_html(ui.model.value, ui.quantization.value, CALCULATOR_PROMPT, ui.answer.value,
                                       ui.batch.value)


def wizard_result():
    from qwen_lessons import tiers

    ui = choosing_a_tier_widgets.tier_wizard()
    return tiers.recommend(ui.modality.value, ui.purpose.value, WIZARD_HARDWARE, ui.num_gpus.value,
                           ui.context.value, ui.batch.value, ui.quality.value)


def wizard_headline() -> str:
    return choosing_a_tier_widgets.headline_html(wizard_result())


def wizard_comparison() -> str:
    return choosing_a_tier_widgets.comparison_html(wizard_result())


MEMORY_CALCULATOR = WidgetCase(
    actions=(("type", "Prompt tokens", CALCULATOR_PROMPT),),
    expect=((".qwen-memory-breakdown", memory_breakdown),),
)
TIER_WIZARD = WidgetCase(
    actions=(("select", "Hardware", WIZARD_HARDWARE),),
    # the headline and the comparison show; the steps are folded (hidden) in the accordion (tests/test_tiers.py
    # checks they follow the controls too)
    expect=((".qwen-tier-recommendation", wizard_headline), (".qwen-tier-comparison", wizard_comparison)),
)


# ----------------------------------------------------------------------------- 06 audio: counter, upload, sound track

AUDIO_SECONDS = 45
AUDIO_UPLOAD = "tone_48000.ogg"
TRACK_SECONDS = 20


def _audio_fixture():
    from pathlib import Path

    return Path(__file__).resolve().parent.parent / "fixtures" / "audio" / AUDIO_UPLOAD


def audio_count() -> str:
    from qwen_lessons.widgets import audio_token_budgets as audio_widgets

    ui = audio_widgets.audio_counter_widget()
    return audio_widgets.clip_report_html(AUDIO_SECONDS, ui.generation.value)


def audio_upload_report() -> str:
    from qwen_lessons import audio
    from qwen_lessons.widgets import audio_token_budgets as audio_widgets

    return audio_widgets.header_report_html(AUDIO_UPLOAD, audio.read_audio_header(_audio_fixture()))


def sound_track_report() -> str:
    from qwen_lessons.widgets import audio_token_budgets as audio_widgets

    ui = audio_widgets.sound_track_widget()
    return audio_widgets.sound_track_report_html(ui.height.value, ui.width.value, TRACK_SECONDS, ui.fps.value,
                                                 ui.generation.value)


AUDIO = WidgetCase(
    actions=(("type", "Seconds", AUDIO_SECONDS), ("upload", "Upload audio", _audio_fixture),
             ("type", "Video (s)", TRACK_SECONDS)),
    expect=((".qwen-audio-count", audio_count), (".qwen-audio-upload", audio_upload_report),
            (".qwen-audio-sound-track", sound_track_report)),
)


# ----------------------------------------------------------------------------- 03 preference tuning: DPO explorer

EXPLORER_BETA = 1.0  # the notebook opens on beta 0.1; 1.0 trains a new point in the kernel


def dpo_stages() -> str:
    ui = preference_tuning_widgets.dpo_explorer_widget()
    return preference_tuning_widgets.stages_html(EXPLORER_BETA, ui.pairs.value)


def dpo_verdict() -> str:
    ui = preference_tuning_widgets.dpo_explorer_widget()
    return preference_tuning_widgets.verdict_html(EXPLORER_BETA, ui.pairs.value)


PREFERENCE_TUNING = WidgetCase(
    actions=(("select", "Beta", f"{EXPLORER_BETA:g}"),),
    expect=((".qwen-dpo-stages", dpo_stages), (".qwen-dpo-verdict", dpo_verdict)),
)


# ----------------------------------------------------------------------------- 08 local inference: laptop wizard

LAPTOP_MACHINE = "rtx-3060-12gb"
LAPTOP_CONTEXT = 32768


def laptop_answer() -> str:
    ui = local_inference_widgets.laptop_wizard()
    return local_inference_widgets.laptop_html(LAPTOP_MACHINE, LAPTOP_CONTEXT, ui.cache.value, ui.engine.value)


def _machine_label() -> str:
    return dict((gpu_id, label) for label, gpu_id in local_inference_widgets.machine_options())[LAPTOP_MACHINE]


LOCAL_INFERENCE = WidgetCase(
    actions=(("select", "Machine", _machine_label), ("select", "Context", f"{LAPTOP_CONTEXT:,}")),
    expect=((".qwen-laptop-answer", laptop_answer),),
)


def both(first: WidgetCase, second: WidgetCase) -> WidgetCase:
    """One case doing the actions and checks of two widgets of the same page."""
    return WidgetCase(first.actions + second.actions, first.expect + second.expect)


VISION = both(VISION_PLANNER, VISION_UPLOAD)
CHOOSING_A_TIER = both(MEMORY_CALCULATOR, TIER_WIZARD)


LESSON_CASES: dict[str, WidgetCase] = {
    "00_start_here": START_HERE,
    "01_family_map": FAMILY_MAP,
    "02_base_vs_instruct": BASE_VS_INSTRUCT,
    "04_fine_tuning": FINE_TUNING,
    "05_vision_token_budgets": VISION,
    "07_choosing_a_tier": CHOOSING_A_TIER,
    "03_preference_tuning": PREFERENCE_TUNING,
    "06_audio_token_budgets": AUDIO,
    "08_local_inference": LOCAL_INFERENCE,
}


def _method_after_default() -> str:

    ui = fine_tuning_widgets.training_planner_widget()
    values = [value for _, value in ui.method.options]
    return values[values.index(ui.method.value) + 1]


def finetune_verdict_keyboard() -> str:

    ui = fine_tuning_widgets.training_planner_widget()
    return fine_tuning_widgets.verdict_html(finetune.plan(
        PLANNER_MODEL, _method_after_default(), ui.gpu.value, rank=ui.rank.value, seq_len=ui.seq_len.value,
        micro_batch=ui.micro_batch.value, checkpointing=ui.checkpointing.value, examples=ui.examples.value))


# In Voila nothing takes the keys from a focused dropdown: ArrowDown picks the method after the default one.
FINE_TUNING_KEYBOARD = WidgetCase(
    actions=(("select", "Model", PLANNER_MODEL), ("key", "Method", "ArrowDown")),
    expect=((".qwen-ft-verdict", finetune_verdict_keyboard),),
)


def _in_output(case: WidgetCase) -> WidgetCase:
    """The same case, confined to the output area that holds its first result (pages with several widgets)."""
    return WidgetCase(case.actions, case.expect, scope=f".jp-OutputArea-output:has({case.expect[0][0]})")


# notebooks/90_calculators_app.ipynb, in Voila: name -> case
APP_CASES: dict[str, WidgetCase] = {
    "token_budget": _in_output(VISION_PLANNER),
    "fine_tuning_planner": _in_output(FINE_TUNING_KEYBOARD),
    "inference_memory": _in_output(MEMORY_CALCULATOR),
    "tier_wizard": _in_output(TIER_WIZARD),
    "laptop_wizard": _in_output(LOCAL_INFERENCE),
}
