"""Every lesson: the one description of each table in data/ — its columns and their types, its key, the columns
every row must fill, and the range of its numbers.

`qwen_lessons.data.read_table(name)` reads a file by its schema and refuses it, naming the file and the 1-based
CSV line, when a column is missing or unknown, a row has too many or too few cells (a truncated file), a cell is
not of its column's type (numbers in plain ASCII digits only: no `_`, no full-width digits, no padding or leading
zeros), a number is outside its column's physical range or a row breaks a rule across its columns (so two swapped
columns are caught), a filled column is empty, a row has no source, two rows share a key (ignoring case and
surrounding spaces), a text cell starts like a spreadsheet formula or holds a control character, a cell or the
file is over its size cap, or the file's row count and checksum differ from data/MANIFEST.csv (a cut-off file).
`data/README.md` documents the same columns in the same order (a test holds the two together).

A new table declares, in its ``_schema(...)``: ``ranges={"column": (low, high), ...}`` for EVERY numeric column
(the physical range of the quantity, tight enough that a value of another column is out of it; a test checks
each numeric column has one), and ``rules=(_at_most("min_tokens", "max_tokens"), ...)`` for rules across columns
of a row (``at_most``, ``product``). Then run ``python scripts/write_manifest.py`` to record its rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from types import MappingProxyType

# Column types, as the pandas dtypes the loaders return: nullable integers and booleans, text, floats.
INT, FLOAT, NULLABLE_FLOAT, BOOL, TEXT = "Int64", "float64", "Float64", "boolean", "string"
NUMERIC = (INT, FLOAT, NULLABLE_FLOAT)
M, TEN_M = 1_000_000, 10_000_000
MAX_FILE_BYTES = 4 * 2**20  # ten times the largest table: a runaway export is refused before it is read
MAX_CELL_CHARS = 10_000  # seven times the longest note


@dataclass(frozen=True)
class RowRule:
    """A rule across the columns of one row, checked when all its columns are filled: ``check(*values)``."""

    text: str  # says the rule, e.g. "min_tokens <= max_tokens"
    columns: tuple[str, ...]
    check: Callable[..., bool]


def _at_most(low: str, high: str) -> RowRule:
    """The value of column `low` is at most the value of column `high` in the same row."""
    return RowRule(f"{low} <= {high}", (low, high), lambda a, b: a <= b)


def _product(total: str, first: str, second: str) -> RowRule:
    """Column `total` equals `first` times `second` in the same row."""
    return RowRule(f"{total} = {first} x {second}", (total, first, second), lambda t, a, b: t == a * b)


@dataclass(frozen=True)
class TableSchema:
    """One CSV in data/: columns in file order with their dtypes, the key, the filled columns, number ranges."""

    file: str
    dtypes: MappingProxyType
    key: tuple[str, ...]
    filled: tuple[str, ...] = ("source",)
    # (low, high) per numeric column: its physical range (a test asks every numeric column for one)
    ranges: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))
    rules: tuple[RowRule, ...] = ()

    def columns_of(self, dtype: str) -> tuple[str, ...]:
        return tuple(column for column, kind in self.dtypes.items() if kind == dtype)

    def range_of(self, column: str) -> tuple[float, float]:
        return self.ranges.get(column, (0, 1e15))  # undeclared: not negative, and far inside a 64-bit integer


def _schema(file: str, columns: list[tuple[str, str]], key: tuple[str, ...], filled: tuple[str, ...] = (),
            ranges: dict | None = None, rules: tuple[RowRule, ...] = ()) -> TableSchema:
    names = [name for name, _ in columns]
    numeric = {name for name, kind in columns if kind in NUMERIC}
    # a schema mistake, caught at import: repeated or unknown columns, a range of a text column, a rule's column
    assert len(set(names)) == len(names) and set(key) <= set(names), file
    assert set(ranges or {}) <= numeric and all(set(rule.columns) <= numeric for rule in rules), file
    return TableSchema(file, MappingProxyType(dict(columns)), key, tuple(dict.fromkeys((*filled, "source"))),
                       MappingProxyType(ranges or {}), tuple(rules))


def _typed(kind: str, *names: str) -> list[tuple[str, str]]:
    return [(name, kind) for name in names]


SCHEMAS = MappingProxyType({schema.file: schema for schema in (
    _schema("catalog.csv", [
        *_typed(TEXT, "model_id", "generation", "series", "line", "variant"),
        *_typed(NULLABLE_FLOAT, "params_b", "active_params_b"), ("params_basis", TEXT),
        *_typed(INT, "context_length", "extended_context"), *_typed(TEXT, "extension_method", "license", "release"),
        ("vision_generation", TEXT), ("fill_in_middle", BOOL), *_typed(TEXT, "source", "notes"),
    ], key=("model_id",), filled=("model_id", "generation", "series", "line"),
       ranges={"params_b": (0.01, 5000), "active_params_b": (0.01, 5000), "context_length": (512, TEN_M),
               "extended_context": (512, TEN_M)},
       rules=(_at_most("active_params_b", "params_b"), _at_most("context_length", "extended_context"))),  # release may be empty: undated
    _schema("lines.csv", [("line", TEXT), *_typed(BOOL, "language_model", "general_chat"),
                          *_typed(TEXT, "inputs", "meaning", "source")],
            key=("line",), filled=("line", "language_model", "general_chat", "meaning")),
    _schema("catalog_values.csv", _typed(TEXT, "column", "value", "meaning", "source"), key=("column", "value"),
            filled=("column", "value", "meaning")),
    _schema("architectures.csv", [
        *_typed(TEXT, "model_id", "architecture"),
        *_typed(INT, "num_hidden_layers", "hidden_size", "intermediate_size", "quantized_intermediate_size",
                "num_attention_heads", "num_key_value_heads", "head_dim", "vocab_size", "max_position_embeddings"),
        ("tie_word_embeddings", BOOL), ("torch_dtype", TEXT),
        *_typed(INT, "num_experts", "num_experts_per_tok", "moe_intermediate_size", "shared_expert_intermediate_size",
                "full_attention_interval", "linear_num_key_heads", "linear_num_value_heads", "linear_key_head_dim",
                "linear_value_head_dim", "linear_conv_kernel_dim"),
        *_typed(BOOL, "attention_output_gate", "attention_bias", "qk_norm"), *_typed(TEXT, "source", "notes"),
    ], key=("model_id",), filled=("model_id", "architecture", "num_hidden_layers", "hidden_size"),
       ranges={"num_hidden_layers": (1, 256), "hidden_size": (256, 65536), "intermediate_size": (64, 262144),
               "quantized_intermediate_size": (64, 262144), "num_attention_heads": (1, 256),
               "num_key_value_heads": (1, 256), "head_dim": (32, 512), "vocab_size": (1000, M),
               "max_position_embeddings": (2048, TEN_M), "num_experts": (0, 1024), "num_experts_per_tok": (0, 64),
               "moe_intermediate_size": (0, 65536), "shared_expert_intermediate_size": (0, 262144),
               "full_attention_interval": (1, 16), "linear_num_key_heads": (0, 256),
               "linear_num_value_heads": (0, 256), "linear_key_head_dim": (0, 1024),
               "linear_value_head_dim": (0, 1024), "linear_conv_kernel_dim": (0, 16)},
       rules=(_at_most("num_key_value_heads", "num_attention_heads"), _at_most("num_experts_per_tok", "num_experts"),
              _at_most("num_attention_heads", "hidden_size"),
              _at_most("head_dim", "hidden_size"))),
    _schema("towers.csv", [
        *_typed(TEXT, "model_id", "tower", "kind"),
        *_typed(INT, "depth", "hidden_size", "intermediate_size", "num_heads", "patch_size", "temporal_patch_size",
                "in_channels", "spatial_merge_size", "out_hidden_size"),
        *_typed(TEXT, "mlp", "norm"), ("patch_bias", BOOL),
        *_typed(INT, "deepstack_mergers", "num_position_embeddings", "num_mel_bins"),
        ("published_params_m", NULLABLE_FLOAT), ("published_source", TEXT), ("checkpoint_params", INT),
        *_typed(TEXT, "checkpoint_params_source", "source", "notes"),
    ], key=("model_id", "tower"), filled=("model_id", "tower", "kind", "depth", "hidden_size", "mlp", "norm"),
       ranges={"depth": (1, 128), "hidden_size": (64, 16384), "intermediate_size": (64, 65536), "num_heads": (1, 128),
               "patch_size": (1, 64), "temporal_patch_size": (1, 8), "in_channels": (3, 4), "spatial_merge_size": (1, 8),
               "out_hidden_size": (64, 65536), "deepstack_mergers": (0, 16), "num_position_embeddings": (0, 100_000),
               "num_mel_bins": (1, 1024), "published_params_m": (1, 100_000), "checkpoint_params": (M, 10**12)},
       rules=(_at_most("depth", "hidden_size"), _at_most("num_heads", "hidden_size"))),
    _schema("benchmarks.csv", _typed(TEXT, "model", "variant", "benchmark", "score", "shots_or_setting", "source"),
            key=("model", "variant", "benchmark", "shots_or_setting", "source"),
            filled=("model", "variant", "benchmark", "score")),
    _schema("finetune_memory.csv", [
        *_typed(TEXT, "table", "model_size", "model_id", "method", "method_key"), ("bits", INT), ("superseded", BOOL),
        *_typed(INT, "seq_len", "micro_batch", "nodes", "gpus_per_node", "zero_stage", "lora_rank"),
        ("lora_targets", TEXT), *_typed(FLOAT, "memory_gb", "gb_per_billion"), ("status", TEXT),
        ("speed_s_per_it", FLOAT), *_typed(TEXT, "gpu", "conditions", "source"),
    ], key=("table", "model_size", "method", "bits", "seq_len", "micro_batch", "nodes", "gpus_per_node", "zero_stage",
            "gpu", "superseded", "conditions"), filled=("table", "method"),
       ranges={"bits": (1, 32), "seq_len": (16, TEN_M), "micro_batch": (1, 1024), "nodes": (1, 1024),
               "gpus_per_node": (1, 64), "zero_stage": (0, 3), "lora_rank": (1, 1024), "memory_gb": (0.1, 10_000),
               "gb_per_billion": (0.01, 100), "speed_s_per_it": (0.001, 100_000)}),
    _schema("finetune_measurements.csv", [
        *_typed(TEXT, "table", "model_id", "method", "method_key"), ("seq_len", INT), ("packing", BOOL),
        *_typed(INT, "micro_batch", "nodes", "gpus_per_node", "zero_stage"), ("offload", TEXT), ("lora_rank", INT),
        *_typed(TEXT, "lora_targets", "optimizer", "checkpointing", "loss", "attention", "base_quantization"),
        ("memory_per_gpu", FLOAT), ("memory_unit", TEXT), ("gradient_accumulation", INT), ("speed_s_per_it", FLOAT),
        ("gpu", TEXT), ("comparable", BOOL),
        *_typed(TEXT, "evidence", "figure_written", "figure_model", "evidence_note", "role", "conditions", "source"),
    ], key=("source", "method"), filled=("table", "model_id", "method", "method_key", "memory_per_gpu", "memory_unit",
                                         "comparable", "evidence", "figure_written", "figure_model", "role"),
       ranges={"seq_len": (16, TEN_M), "micro_batch": (1, 1024), "nodes": (1, 1024), "gpus_per_node": (1, 64),
               "zero_stage": (0, 3), "lora_rank": (1, 1024), "memory_per_gpu": (0.1, 10_000),
               "gradient_accumulation": (1, 100_000),
               "speed_s_per_it": (0.001, 100_000)}),
    _schema("trl_training_templates.csv", _typed(TEXT, "template", "family", "first_release", "pull_request", "merged",
                                                 "source"), key=("template",), filled=("template", "family", "first_release")),
    _schema("lora_default_targets.csv", _typed(TEXT, "architecture", "target_modules", "basis", "source", "notes"),
            key=("architecture",), filled=("architecture", "target_modules", "basis")),
    _schema("hardware.csv", [
        *_typed(TEXT, "gpu_id", "name", "kind"), ("memory_gb", FLOAT), ("memory_type", TEXT),
        *_typed(FLOAT, "memory_bandwidth_gbs", "bf16_tflops"), *_typed(TEXT, "note", "source", "source_kind"),
    ], key=("gpu_id",), filled=("gpu_id", "name", "kind", "memory_gb", "memory_bandwidth_gbs", "source_kind"),
       ranges={"memory_gb": (1, 1536), "memory_bandwidth_gbs": (10, 100_000), "bf16_tflops": (0.1, 100_000)}),
    _schema("speed_benchmark_qwen25.csv", [
        *_typed(TEXT, "model_id", "quantization", "framework", "gpu", "gpu_id"),
        *_typed(INT, "gpu_num", "batch_size", "input_length", "output_length"),
        *_typed(FLOAT, "tokens_per_s", "peak_memory_gib"),
        *_typed(TEXT, "speed_definition", "memory_definition", "note", "source"),
    ], key=("model_id", "quantization", "framework", "gpu_num", "batch_size", "input_length"),
       filled=("model_id", "quantization", "framework"),
       ranges={"gpu_num": (1, 64), "batch_size": (1, 1024), "input_length": (1, TEN_M),
               "output_length": (1, TEN_M), "tokens_per_s": (0.01, M), "peak_memory_gib": (0.01, 10_000)}),
    _schema("speed_benchmark_generations.csv", [
        *_typed(TEXT, "table", "model_id", "quantization", "framework", "framework_version", "gpu", "gpu_id"),
        *_typed(INT, "gpu_num", "batch_size", "input_length", "output_length"), ("tokens_per_s", FLOAT),
        *_typed(TEXT, "speed_definition", "note", "source"),
    ], key=("table", "model_id", "quantization", "framework", "gpu_num", "input_length"),
       filled=("table", "model_id", "quantization", "framework", "gpu_id", "tokens_per_s", "speed_definition",
               "source"),
       ranges={"gpu_num": (1, 64), "batch_size": (1, 1024), "input_length": (1, TEN_M),
               "output_length": (1, TEN_M), "tokens_per_s": (0.01, M)}),
    _schema("speed_constants.csv", [
        *_typed(TEXT, "runtime", "constant", "quantization"), ("value", FLOAT), *_typed(TEXT, "unit", "fitted_on",
                                                                                       "source"),
    ], key=("runtime", "constant", "quantization"), filled=("runtime", "constant", "value", "unit", "fitted_on"),
       ranges={"value": (0, M)}),  # seconds, microseconds or a share; a cost not fitted is 0
    _schema("llama_cpp_speed.csv", [
        *_typed(TEXT, "role", "model", "quantization", "engine_version", "cpu"), ("threads", INT),
        ("bandwidth_gbs", FLOAT), *_typed(INT, "prompt_tokens", "generate_tokens"),
        *_typed(FLOAT, "decode_tokens_per_s", "prompt_tokens_per_s", "load_average"),
        *_typed(TEXT, "measured_on", "source"),
    ], key=("role", "model", "quantization", "threads"),
       filled=("role", "model", "quantization", "engine_version", "bandwidth_gbs", "decode_tokens_per_s"),
       ranges={"threads": (1, 1024), "bandwidth_gbs": (0.1, 100_000), "prompt_tokens": (1, TEN_M),
               "generate_tokens": (1, TEN_M), "decode_tokens_per_s": (0.001, M), "prompt_tokens_per_s": (0.001, M),
               "load_average": (0, 1000)}),
    _schema("mlx_speed_published.csv", [
        *_typed(TEXT, "model_id", "quantization", "repo", "engine_version", "machine"),
        *_typed(FLOAT, "memory_gb", "bandwidth_gbs"), *_typed(INT, "prompt_tokens", "generate_tokens"),
        *_typed(FLOAT, "decode_tokens_per_s", "prompt_tokens_per_s"), *_typed(TEXT, "source", "notes"),
    ], key=("model_id", "quantization", "machine"),
       filled=("model_id", "quantization", "engine_version", "machine", "bandwidth_gbs", "decode_tokens_per_s",
               "source"),
       ranges={"memory_gb": (1, 100_000), "bandwidth_gbs": (1, 100_000), "prompt_tokens": (1, TEN_M),
               "generate_tokens": (1, TEN_M), "decode_tokens_per_s": (0.001, M), "prompt_tokens_per_s": (0.001, M)}),
    _schema("special_tokens.csv", [
        *_typed(TEXT, "vocabulary", "token"), ("id", INT), *_typed(TEXT, "purpose", "listed_since", "source", "source_kind"),
    ], key=("vocabulary", "token"), filled=("vocabulary", "token", "id", "purpose", "source_kind"),
       ranges={"id": (0, M)}),
    _schema("vocabularies.csv", [
        *_typed(TEXT, "vocabulary", "bpe_file", "pre_tokenizer"), *_typed(INT, "regular_tokens", "embedding_rows"),
        *_typed(TEXT, "used_by", "source", "source_kind", "notes"),
    ], key=("vocabulary",), filled=("vocabulary", "bpe_file", "pre_tokenizer", "regular_tokens", "used_by", "source_kind"),
       ranges={"regular_tokens": (1000, M), "embedding_rows": (1000, M)},
       rules=(_at_most("regular_tokens", "embedding_rows"),)),
    _schema("memory_measurements.csv", [
        *_typed(TEXT, "table", "model_id", "quantization", "gpu"),
        *_typed(INT, "gpu_num", "batch_size", "input_length", "output_length"), ("peak_memory_gib", FLOAT),
        *_typed(TEXT, "transformers_version", "attention", "environment", "memory_definition", "note", "source"),
    ], key=("table", "model_id", "quantization", "gpu_num", "batch_size", "input_length"),
       filled=("table", "model_id", "quantization", "input_length", "peak_memory_gib"),
       ranges={"gpu_num": (1, 64), "batch_size": (1, 1024), "input_length": (1, TEN_M),
               "output_length": (1, TEN_M), "peak_memory_gib": (0.01, 10_000)}),
    _schema("qwen_post_training.csv", [
        *_typed(TEXT, "generation"), ("order", INT), *_typed(TEXT, "stage", "method", "what_it_adds", "applies_to",
                                                              "source", "notes"),
    ], key=("generation", "order"), filled=("generation", "order", "stage", "what_it_adds", "applies_to"),
       ranges={"order": (1, 100)}),
    _schema("tiny_instructions.csv", _typed(TEXT, "topic", "answer", "source"), key=("topic",), filled=("topic", "answer")),
    _schema("vision_generations.csv", [
        *_typed(TEXT, "generation", "name", "image_input"),
        *_typed(INT, "patch_size", "spatial_merge_size", "resize_factor", "temporal_patch_size", "fixed_image_side",
                "fixed_image_tokens", "wrapper_tokens"), *_typed(TEXT, "helper", "frame_rounding"),
        *_typed(INT, "video_min_tokens", "video_max_tokens"), *_typed(NULLABLE_FLOAT, "video_total_pixels", "video_fps"),
        *_typed(INT, "video_min_frames", "video_max_frames", "frame_factor"), ("video_timestamps", BOOL),
        *_typed(TEXT, "source", "notes", "vocabulary"),
    ], key=("generation",), filled=("generation", "name", "image_input", "patch_size"),
       ranges={"patch_size": (1, 64), "spatial_merge_size": (1, 8), "resize_factor": (1, 512),
               "temporal_patch_size": (1, 8), "fixed_image_side": (1, 10_000), "fixed_image_tokens": (1, 100_000),
               "wrapper_tokens": (0, 8), "video_min_tokens": (1, M), "video_max_tokens": (1, M),
               "video_total_pixels": (1, 1e10), "video_fps": (0.01, 240), "video_min_frames": (1, 100_000),
               "video_max_frames": (1, 100_000), "frame_factor": (1, 8)},
       rules=(_product("resize_factor", "patch_size", "spatial_merge_size"), _at_most("video_min_tokens", "video_max_tokens"),
              _at_most("video_min_frames", "video_max_frames"))),
    _schema("vision_pixel_budgets.csv", [
        *_typed(TEXT, "budget", "label", "applies_to"), *_typed(INT, "min_tokens", "max_tokens", "min_pixels", "max_pixels"),
        *_typed(TEXT, "rules", "source", "notes"),
    ], key=("budget",), filled=("budget", "label", "applies_to", "rules"),
       ranges={"min_tokens": (1, M), "max_tokens": (1, M), "min_pixels": (1, 1e10), "max_pixels": (1, 1e10)},
       rules=(_at_most("min_tokens", "max_tokens"), _at_most("min_pixels", "max_pixels"))),
    _schema("vision_samples.csv", [("file", TEXT), *_typed(INT, "height", "width"), *_typed(TEXT, "description", "source")],
            key=("file",), filled=("file", "height", "width"),
       ranges={"height": (1, 100_000), "width": (1, 100_000)}),
    _schema("vision_reference_resizes.csv", [
        *_typed(TEXT, "implementation", "budget"),
        ("factor", INT), *_typed(FLOAT, "min_pixels", "max_pixels"),  # a budget scaled by a ratio is fractional
        *_typed(INT, "height", "width", "resized_height", "resized_width"),
        ("source", TEXT),
    ], key=("implementation", "budget", "factor", "min_pixels", "max_pixels", "height", "width"),
       filled=("implementation", "height", "width", "resized_height", "resized_width"),
       ranges={"factor": (1, 512), "min_pixels": (1, 1e10), "max_pixels": (1, 1e10), "height": (1, 100_000),
               "width": (1, 100_000), "resized_height": (0, 200_000), "resized_width": (0, 200_000)},
       rules=(_at_most("min_pixels", "max_pixels"), _at_most("factor", "max_pixels"))),
    _schema("audio_generations.csv", [
        *_typed(TEXT, "generation", "name"), *_typed(INT, "sampling_rate", "hop_length", "max_samples", "min_samples"),
        ("frame_rule", TEXT), *_typed(INT, "window_frames", "ceil_halvings", "floor_halvings", "wrapper_tokens",
                                      "video_audio_wrapper_tokens"),
        *_typed(NULLABLE_FLOAT, "position_ids_per_second", "seconds_per_chunk"),
        *_typed(TEXT, "interleave", "processor", "source", "notes"),
    ], key=("generation",), filled=("generation", "name", "sampling_rate", "hop_length", "frame_rule", "ceil_halvings",
                                    "floor_halvings", "wrapper_tokens", "processor"),
       ranges={"sampling_rate": (1000, 192_000), "hop_length": (1, 100_000), "max_samples": (1, 1e10),
               "min_samples": (1, 1e10), "window_frames": (1, 100_000), "ceil_halvings": (0, 8), "floor_halvings": (0, 8),
               "wrapper_tokens": (0, 64), "video_audio_wrapper_tokens": (0, 64), "position_ids_per_second": (0.01, 1000),
               "seconds_per_chunk": (0.01, 3600)},
       rules=(_at_most("min_samples", "max_samples"), _at_most("hop_length", "sampling_rate"))),
    _schema("transformers_versions.csv", [
        ("version", TEXT), ("current", BOOL), *_typed(TEXT, "truncating_audio", "source", "notes"),
    ], key=("version",), filled=("version", "current")),
    _schema("audio_reference_counts.csv", [
        *_typed(TEXT, "generation", "transformers_version"), *_typed(INT, "samples", "frames", "tokens"),
        ("source", TEXT),
    ], key=("generation", "transformers_version", "samples"), filled=("generation", "samples"),
       ranges={"samples": (1, 1e10), "frames": (0, 1e9), "tokens": (0, 1e9)},
       rules=(_at_most("tokens", "frames"), _at_most("frames", "samples"))),  # empty counts: the processor raised; empty version: not transformers
    _schema("audio_reference_interleave.csv", [
        ("generation", TEXT), *_typed(INT, "grid_t", "grid_h", "grid_w"), ("fps", FLOAT),
        *_typed(INT, "audio_tokens", "video_tokens", "wrapper_tokens"), *_typed(TEXT, "layout", "source"),
    ], key=("generation", "grid_t", "grid_h", "grid_w", "fps", "audio_tokens"),
       filled=("generation", "grid_t", "grid_h", "grid_w", "fps", "audio_tokens", "video_tokens", "layout"),
       ranges={"grid_t": (1, 100_000), "grid_h": (1, 10_000), "grid_w": (1, 10_000), "fps": (0.01, 240),
               "audio_tokens": (0, TEN_M), "video_tokens": (1, 10**8), "wrapper_tokens": (0, 64)}),
    _schema("vision_reference_frames.csv", [
        ("implementation", TEXT), ("total_frames", INT), *_typed(FLOAT, "video_fps", "fps"), ("nframes", INT),
        ("source", TEXT),
    ], key=("implementation", "total_frames", "video_fps", "fps"), filled=("implementation", "nframes"),
       ranges={"total_frames": (1, 10**8), "video_fps": (0.01, 1000), "fps": (0.01, 1000), "nframes": (1, M)}),
    _schema("gguf_types.csv", [
        ("ggml_type", TEXT), *_typed(INT, "block_weights", "block_bytes"), ("kv_cache", BOOL),
        *_typed(TEXT, "layout", "source"),
    ], key=("ggml_type",), filled=("ggml_type", "block_weights", "block_bytes"),
       ranges={"block_weights": (1, 4096), "block_bytes": (1, 65536)}),
    _schema("local_formats.csv", [
        *_typed(TEXT, "quantization", "engine", "file_type", "default_type"), *_typed(INT, "bits", "group_size"),
        ("laptop_advice", BOOL), *_typed(TEXT, "describe", "source"),
    ], key=("quantization",), filled=("quantization", "engine", "bits", "group_size", "describe"),
       ranges={"bits": (1, 16), "group_size": (1, 4096)}),
    _schema("wizard_formats.csv", [
        *_typed(TEXT, "kind", "quantization", "engine", "source"),
    ], key=("kind", "quantization"), filled=("kind", "quantization", "engine")),
    _schema("gguf_published_sizes.csv", [
        *_typed(TEXT, "model_id", "quantization", "publisher", "file"), *_typed(BOOL, "imatrix", "output_copy"),
        ("published_size", FLOAT), ("unit", TEXT), *_typed(TEXT, "source", "notes"),
    ], key=("model_id", "quantization", "publisher"),
       filled=("model_id", "quantization", "publisher", "published_size", "unit"),
       ranges={"published_size": (0.001, 1e15)}),
    _schema("local_downloads.csv", [
        *_typed(TEXT, "model_id", "engine", "quantization", "repo", "file", "source", "notes"),
    ], key=("model_id", "engine", "quantization"), filled=("model_id", "engine", "quantization", "repo", "source")),
    _schema("llama_cpp_measurements.csv", [
        *_typed(TEXT, "model_id", "quantization"), ("context_tokens", INT), ("kv_cache_dtype", TEXT),
        *_typed(FLOAT, "kv_buffer_mib", "compute_buffer_mib", "file_size_gib"), *_typed(TEXT, "gpu", "source", "notes"),
    ], key=("model_id", "quantization", "context_tokens", "kv_cache_dtype", "source"),
       filled=("model_id", "quantization", "context_tokens", "kv_cache_dtype"),
       ranges={"context_tokens": (1, TEN_M), "kv_buffer_mib": (0, 1e7), "compute_buffer_mib": (0, 1e7),
               "file_size_gib": (0.001, 10_000)}),
    _schema("vision_reference_video_resizes.csv", [
        *_typed(TEXT, "implementation", "budget"),
        *_typed(INT, "num_frames", "factor", "temporal_factor", "min_pixels", "max_pixels", "height", "width",
                "resized_height", "resized_width"),
        ("source", TEXT),
    ], key=("implementation", "budget", "num_frames", "height", "width"),
       filled=("implementation", "num_frames", "height", "width", "resized_height", "resized_width"),
       ranges={"num_frames": (1, M), "factor": (1, 512), "temporal_factor": (1, 16),
               "min_pixels": (1, 1e10), "max_pixels": (1, 1e10), "height": (1, 100_000), "width": (1, 100_000),
               "resized_height": (1, 200_000), "resized_width": (1, 200_000)},
       rules=(_at_most("min_pixels", "max_pixels"), _at_most("temporal_factor", "num_frames"))),
)})
