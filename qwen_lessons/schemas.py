"""Every lesson: the one description of each table in data/ — its columns and their types, its key, the columns
every row must fill, and the range of its numbers.

`qwen_lessons.data.read_table(name)` reads a file by its schema and refuses it, naming the file and the 1-based
CSV line, when a column is missing or unknown, a row has too many or too few cells (a truncated file), a cell is
not of its column's type, a number is out of range (negative, or not finite), a filled column is empty, a row
has no source, or two rows share a key. `data/README.md` documents the same columns in the same order (a test
holds the two together).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType

from qwen_lessons.validation import checked

# Column types, as the pandas dtypes the loaders return: nullable integers and booleans, text, floats.
INT, FLOAT, NULLABLE_FLOAT, BOOL, TEXT = "Int64", "float64", "Float64", "boolean", "string"
NUMERIC = (INT, FLOAT, NULLABLE_FLOAT)


@dataclass(frozen=True)
class TableSchema:
    """One CSV in data/: columns in file order with their dtypes, the key, the filled columns, number ranges."""

    file: str
    dtypes: MappingProxyType
    key: tuple[str, ...]
    filled: tuple[str, ...] = ("source",)
    # (low, high) per numeric column; a numeric column not listed must be >= 0 (no table holds a negative fact)
    ranges: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))

    def columns_of(self, dtype: str) -> tuple[str, ...]:
        return tuple(column for column, kind in self.dtypes.items() if kind == dtype)

    def range_of(self, column: str) -> tuple[float, float]:
        return self.ranges.get(column, (0, float("inf")))


def _schema(file: str, columns: list[tuple[str, str]], key: tuple[str, ...], filled: tuple[str, ...] = (),
            ranges: dict | None = None) -> TableSchema:
    names = [name for name, _ in columns]
    assert len(set(names)) == len(names) and set(key) <= set(names), file  # a schema mistake, caught at import
    return TableSchema(file, MappingProxyType(dict(columns)), key, tuple(dict.fromkeys((*filled, "source"))),
                       MappingProxyType(ranges or {}))


def _typed(kind: str, *names: str) -> list[tuple[str, str]]:
    return [(name, kind) for name in names]


SCHEMAS = MappingProxyType({schema.file: schema for schema in (
    _schema("catalog.csv", [
        *_typed(TEXT, "model_id", "generation", "series", "line", "variant"),
        *_typed(NULLABLE_FLOAT, "params_b", "active_params_b"), ("params_basis", TEXT),
        *_typed(INT, "context_length", "extended_context"), *_typed(TEXT, "extension_method", "license", "release"),
        ("vision_generation", TEXT), ("fill_in_middle", BOOL), *_typed(TEXT, "source", "notes"),
    ], key=("model_id",), filled=("model_id", "generation", "series", "line")),  # release may be empty: undated
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
    ], key=("model_id",), filled=("model_id", "architecture", "num_hidden_layers", "hidden_size")),
    _schema("towers.csv", [
        *_typed(TEXT, "model_id", "tower", "kind"),
        *_typed(INT, "depth", "hidden_size", "intermediate_size", "num_heads", "patch_size", "temporal_patch_size",
                "in_channels", "spatial_merge_size", "out_hidden_size"),
        *_typed(TEXT, "mlp", "norm"), ("patch_bias", BOOL),
        *_typed(INT, "deepstack_mergers", "num_position_embeddings", "num_mel_bins"),
        ("published_params_m", NULLABLE_FLOAT), ("published_source", TEXT), ("checkpoint_params", INT),
        *_typed(TEXT, "checkpoint_params_source", "source", "notes"),
    ], key=("model_id", "tower"), filled=("model_id", "tower", "kind", "depth", "hidden_size", "mlp", "norm")),
    _schema("benchmarks.csv", _typed(TEXT, "model", "variant", "benchmark", "score", "shots_or_setting", "source"),
            key=("model", "variant", "benchmark", "shots_or_setting", "source"),
            filled=("model", "variant", "benchmark", "score")),
    _schema("finetune_memory.csv", [
        *_typed(TEXT, "table", "model_size", "model_id", "method", "method_key"), ("bits", INT), ("superseded", BOOL),
        *_typed(INT, "seq_len", "micro_batch", "nodes", "gpus_per_node", "zero_stage", "lora_rank"),
        ("lora_targets", TEXT), *_typed(FLOAT, "memory_gb", "gb_per_billion"), ("status", TEXT),
        ("speed_s_per_it", FLOAT), *_typed(TEXT, "gpu", "conditions", "source"),
    ], key=("table", "model_size", "method", "bits", "seq_len", "micro_batch", "nodes", "gpus_per_node", "zero_stage",
            "gpu", "superseded", "conditions"), filled=("table", "method"), ranges={"zero_stage": (0, 3)}),
    _schema("finetune_measurements.csv", [
        *_typed(TEXT, "table", "model_id", "method", "method_key"), ("seq_len", INT), ("packing", BOOL),
        *_typed(INT, "micro_batch", "nodes", "gpus_per_node", "zero_stage"), ("offload", TEXT), ("lora_rank", INT),
        *_typed(TEXT, "lora_targets", "optimizer", "checkpointing", "loss", "attention", "base_quantization"),
        ("memory_per_gpu", FLOAT), ("memory_unit", TEXT), ("speed_s_per_it", FLOAT),
        ("gpu", TEXT), ("comparable", BOOL), *_typed(TEXT, "role", "conditions", "source"),
    ], key=("source", "method"), filled=("table", "model_id", "method", "method_key", "memory_per_gpu", "memory_unit",
                                         "comparable", "role"), ranges={"zero_stage": (0, 3)}),
    _schema("trl_training_templates.csv", _typed(TEXT, "template", "family", "first_release", "pull_request", "merged",
                                                 "source"), key=("template",), filled=("template", "family", "first_release")),
    _schema("lora_default_targets.csv", _typed(TEXT, "architecture", "target_modules", "basis", "source", "notes"),
            key=("architecture",), filled=("architecture", "target_modules", "basis")),
    _schema("hardware.csv", [
        *_typed(TEXT, "gpu_id", "name", "kind"), ("memory_gb", FLOAT), ("memory_type", TEXT),
        *_typed(FLOAT, "memory_bandwidth_gbs", "bf16_tflops"), *_typed(TEXT, "note", "source", "source_kind"),
    ], key=("gpu_id",), filled=("gpu_id", "name", "kind", "memory_gb", "memory_bandwidth_gbs", "source_kind")),
    _schema("speed_benchmark_qwen25.csv", [
        *_typed(TEXT, "model_id", "quantization", "framework", "gpu", "gpu_id"),
        *_typed(INT, "gpu_num", "batch_size", "input_length", "output_length"),
        *_typed(FLOAT, "tokens_per_s", "peak_memory_gib"),
        *_typed(TEXT, "speed_definition", "memory_definition", "note", "source"),
    ], key=("model_id", "quantization", "framework", "gpu_num", "batch_size", "input_length"),
       filled=("model_id", "quantization", "framework")),
    _schema("speed_benchmark_generations.csv", [
        *_typed(TEXT, "table", "model_id", "quantization", "framework", "framework_version", "gpu", "gpu_id"),
        *_typed(INT, "gpu_num", "batch_size", "input_length", "output_length"), ("tokens_per_s", FLOAT),
        *_typed(TEXT, "speed_definition", "note", "source"),
    ], key=("table", "model_id", "quantization", "framework", "gpu_num", "input_length"),
       filled=("table", "model_id", "quantization", "framework", "gpu_id", "tokens_per_s", "speed_definition",
               "source")),
    _schema("speed_constants.csv", [
        *_typed(TEXT, "runtime", "constant", "quantization"), ("value", FLOAT), *_typed(TEXT, "unit", "fitted_on",
                                                                                       "source"),
    ], key=("runtime", "constant", "quantization"), filled=("runtime", "constant", "value", "unit", "fitted_on")),
    _schema("llama_cpp_speed.csv", [
        *_typed(TEXT, "role", "model", "quantization", "engine_version", "cpu"), ("threads", INT),
        ("bandwidth_gbs", FLOAT), *_typed(INT, "prompt_tokens", "generate_tokens"),
        *_typed(FLOAT, "decode_tokens_per_s", "prompt_tokens_per_s", "load_average"),
        *_typed(TEXT, "measured_on", "source"),
    ], key=("role", "model", "quantization", "threads"),
       filled=("role", "model", "quantization", "engine_version", "bandwidth_gbs", "decode_tokens_per_s")),
    _schema("special_tokens.csv", [
        *_typed(TEXT, "vocabulary", "token"), ("id", INT), *_typed(TEXT, "purpose", "listed_since", "source", "source_kind"),
    ], key=("vocabulary", "token"), filled=("vocabulary", "token", "id", "purpose", "source_kind")),
    _schema("vocabularies.csv", [
        *_typed(TEXT, "vocabulary", "bpe_file", "pre_tokenizer"), *_typed(INT, "regular_tokens", "embedding_rows"),
        *_typed(TEXT, "used_by", "source", "source_kind", "notes"),
    ], key=("vocabulary",), filled=("vocabulary", "bpe_file", "pre_tokenizer", "regular_tokens", "used_by", "source_kind")),
    _schema("memory_measurements.csv", [
        *_typed(TEXT, "table", "model_id", "quantization", "gpu"),
        *_typed(INT, "gpu_num", "batch_size", "input_length", "output_length"), ("peak_memory_gib", FLOAT),
        *_typed(TEXT, "transformers_version", "attention", "environment", "memory_definition", "note", "source"),
    ], key=("table", "model_id", "quantization", "gpu_num", "batch_size", "input_length"),
       filled=("table", "model_id", "quantization", "input_length", "peak_memory_gib")),
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
    ], key=("generation",), filled=("generation", "name", "image_input", "patch_size")),
    _schema("vision_pixel_budgets.csv", [
        *_typed(TEXT, "budget", "label", "applies_to"), *_typed(INT, "min_tokens", "max_tokens", "min_pixels", "max_pixels"),
        *_typed(TEXT, "rules", "source", "notes"),
    ], key=("budget",), filled=("budget", "label", "applies_to", "rules")),
    _schema("vision_samples.csv", [("file", TEXT), *_typed(INT, "height", "width"), *_typed(TEXT, "description", "source")],
            key=("file",), filled=("file", "height", "width")),
    _schema("vision_reference_resizes.csv", [
        *_typed(TEXT, "implementation", "budget"),
        ("factor", INT), *_typed(FLOAT, "min_pixels", "max_pixels"),  # a budget scaled by a ratio is fractional
        *_typed(INT, "height", "width", "resized_height", "resized_width"),
        ("source", TEXT),
    ], key=("implementation", "budget", "factor", "min_pixels", "max_pixels", "height", "width"),
       filled=("implementation", "height", "width", "resized_height", "resized_width")),
    _schema("audio_generations.csv", [
        *_typed(TEXT, "generation", "name"), *_typed(INT, "sampling_rate", "hop_length", "max_samples", "min_samples"),
        ("frame_rule", TEXT), *_typed(INT, "window_frames", "ceil_halvings", "floor_halvings", "wrapper_tokens",
                                      "video_audio_wrapper_tokens"),
        *_typed(NULLABLE_FLOAT, "position_ids_per_second", "seconds_per_chunk"),
        *_typed(TEXT, "interleave", "processor", "source", "notes"),
    ], key=("generation",), filled=("generation", "name", "sampling_rate", "hop_length", "frame_rule", "ceil_halvings",
                                    "floor_halvings", "wrapper_tokens", "processor"),
       ranges={"sampling_rate": (1, 1_000_000), "hop_length": (1, 100_000), "window_frames": (1, 100_000),
               "ceil_halvings": (0, 8), "floor_halvings": (0, 8)}),
    _schema("transformers_versions.csv", [
        ("version", TEXT), ("current", BOOL), *_typed(TEXT, "truncating_audio", "source", "notes"),
    ], key=("version",), filled=("version", "current")),
    _schema("audio_reference_counts.csv", [
        *_typed(TEXT, "generation", "transformers_version"), *_typed(INT, "samples", "frames", "tokens"),
        ("source", TEXT),
    ], key=("generation", "transformers_version", "samples"),
       filled=("generation", "samples")),  # empty counts: the processor raised; empty version: not transformers
    _schema("audio_reference_interleave.csv", [
        ("generation", TEXT), *_typed(INT, "grid_t", "grid_h", "grid_w"), ("fps", FLOAT),
        *_typed(INT, "audio_tokens", "video_tokens", "wrapper_tokens"), *_typed(TEXT, "layout", "source"),
    ], key=("generation", "grid_t", "grid_h", "grid_w", "fps", "audio_tokens"),
       filled=("generation", "grid_t", "grid_h", "grid_w", "fps", "audio_tokens", "video_tokens", "layout")),
    _schema("vision_reference_frames.csv", [
        ("implementation", TEXT), ("total_frames", INT), *_typed(FLOAT, "video_fps", "fps"), ("nframes", INT),
        ("source", TEXT),
    ], key=("implementation", "total_frames", "video_fps", "fps"), filled=("implementation", "nframes")),
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
       filled=("model_id", "quantization", "publisher", "published_size", "unit")),
    _schema("local_downloads.csv", [
        *_typed(TEXT, "model_id", "engine", "quantization", "repo", "file", "source", "notes"),
    ], key=("model_id", "engine", "quantization"), filled=("model_id", "engine", "quantization", "repo", "source")),
    _schema("llama_cpp_measurements.csv", [
        *_typed(TEXT, "model_id", "quantization"), ("context_tokens", INT), ("kv_cache_dtype", TEXT),
        *_typed(FLOAT, "kv_buffer_mib", "compute_buffer_mib", "file_size_gib"), *_typed(TEXT, "gpu", "source", "notes"),
    ], key=("model_id", "quantization", "context_tokens", "kv_cache_dtype", "source"),
       filled=("model_id", "quantization", "context_tokens", "kv_cache_dtype")),
    _schema("vision_reference_video_resizes.csv", [
        *_typed(TEXT, "implementation", "budget"),
        *_typed(INT, "num_frames", "factor", "temporal_factor", "min_pixels", "max_pixels", "height", "width",
                "resized_height", "resized_width"),
        ("source", TEXT),
    ], key=("implementation", "budget", "num_frames", "height", "width"),
       filled=("implementation", "num_frames", "height", "width", "resized_height", "resized_width")),
)})


@checked
def schema(name: str) -> TableSchema:
    """The schema of one file in data/; ValueError naming the known files for any other name."""
    if name not in SCHEMAS:
        raise ValueError(f"no table schema for {name!r}; the tables are {sorted(SCHEMAS)}")
    return SCHEMAS[name]
