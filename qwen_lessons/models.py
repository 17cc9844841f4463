"""One description of a checkpoint, read by every calculator (lessons 1, 4 and 7).

``resolve(model_id)`` turns a model id (``"Qwen/Qwen2.5-7B"``, ``"qwen2.5-7b"``, ``"Qwen2.5-7B"``) into one frozen
``Checkpoint``: its config row from ``data/architectures.csv``, the kind of every decoder layer, and the list of
its weight matrices with their shapes and PEFT module names. Parameter counts (lesson 1), LoRA counts and
training memory (lesson 4), inference memory and speed bounds (lesson 7) all read that one list.

Adding a checkpoint whose layers are of a known kind is one row in ``data/architectures.csv``. A genuinely new
layer kind is one builder function below, registered in ``LAYER_KINDS``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType

import pandas as pd

from qwen_lessons.data import cached, read_table, row_as_dict
from qwen_lessons.schemas import BOOL, INT, SCHEMAS
from qwen_lessons import validation
from qwen_lessons.validation import checked

ARCHITECTURES_FILE = "architectures.csv"
CATALOG_FILE = "catalog.csv"  # read here only for the documented context of a checkpoint (longest_context)
ORG_PREFIX = "Qwen/"

SCHEMA = SCHEMAS[ARCHITECTURES_FILE]  # the table's columns and types live in qwen_lessons.schemas
INT_COLUMNS = SCHEMA.columns_of(INT)
BOOL_COLUMNS = SCHEMA.columns_of(BOOL)
# Columns every row needs before any calculator can read it.
REQUIRED_NUMBERS = ("num_hidden_layers", "hidden_size", "num_attention_heads", "num_key_value_heads", "head_dim",
                    "vocab_size")
# Qwen-1 checkpoints (Hugging Face model_type "qwen") fuse Q, K and V into one c_attn matrix and name the MLP
# w1 / w2 / c_proj; every later generation uses the separate projections of transformers' Qwen2 code.
FUSED_QKV_ARCHITECTURES = ("qwen",)
# Name parts of a post-trained (or already base) checkpoint: an id ending in one of them plus '-Base' is a near miss.
POST_TRAINED_SUFFIXES = frozenset({"instruct", "chat", "thinking", "base", "captioner", "int4", "int8", "awq", "gguf"})
# Qwen3.5 and Qwen3.6 (model_type qwen3_5 / qwen3_5_moe) split Qwen3-Next's fused Gated DeltaNet input projections
# (in_proj_qkvz, in_proj_ba) into in_proj_qkv, in_proj_z, in_proj_b and in_proj_a: same weights, other PEFT names.
SPLIT_PROJECTION_ARCHITECTURES = ("qwen3_5", "qwen3_5_moe")


# ---------------------------------------------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------------------------------------------


@checked
def load_architectures() -> pd.DataFrame:
    """Return data/architectures.csv: one row per model_id, integers as Int64, flags as nullable booleans."""
    return read_table(ARCHITECTURES_FILE, check=architecture_problems)


# The physical bounds of every number of a config: one schema for a row of architectures.csv and for a config a
# learner passes to describe(). Wide enough for any real checkpoint, tight enough that no count overflows or hangs.
CONFIG_RANGES = MappingProxyType({
    "num_hidden_layers": (1, 1_000), "hidden_size": (1, 100_000), "num_attention_heads": (1, 10_000),
    "num_key_value_heads": (1, 10_000), "head_dim": (1, 10_000), "vocab_size": (1, 10_000_000),
    "max_position_embeddings": (1, 10_000_000), "intermediate_size": (0, 1_000_000),
    "quantized_intermediate_size": (0, 1_000_000), "num_experts": (0, 10_000), "num_experts_per_tok": (0, 10_000),
    "moe_intermediate_size": (0, 1_000_000), "shared_expert_intermediate_size": (0, 1_000_000),
    "full_attention_interval": (0, 1_000), "linear_num_key_heads": (0, 10_000), "linear_num_value_heads": (0, 10_000),
    "linear_key_head_dim": (0, 10_000), "linear_value_head_dim": (0, 10_000), "linear_conv_kernel_dim": (0, 1_000),
})
_LINEAR_ATTENTION = ("linear_num_key_heads", "linear_num_value_heads", "linear_key_head_dim", "linear_value_head_dim",
                     "linear_conv_kernel_dim")


def _empty(value) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and value != value)


@checked(require_context=validation.flag)
def config_problems(config: Mapping, *, require_context: bool = True) -> list[str]:
    """Every rule a config breaks (empty list = a plausible checkpoint): known columns only, whole numbers in
    CONFIG_RANGES, flags as booleans, key/value heads dividing the query heads, head_dim within the width, at least
    as many experts as a token uses, the widths its layer kinds need. require_context: max_position_embeddings must
    be given (a table row may leave it to the catalog's documented context)."""
    unknown = sorted(set(config) - set(SCHEMA.dtypes), key=str)
    if unknown:
        return [f"has no column(s) {', '.join(map(repr, unknown[:5]))}; "
                f"{validation.choices(SCHEMA.dtypes, 'columns', 'models.SCHEMA.dtypes')}"]
    values, problems = {}, []
    required = (*REQUIRED_NUMBERS, "max_position_embeddings") if require_context else REQUIRED_NUMBERS
    for column, (low, high) in CONFIG_RANGES.items():
        value = config.get(column)
        if _empty(value) and column not in required:
            values[column] = 0
            continue
        try:
            values[column] = validation.integer(low, high)(column, value)
        except ValueError as error:
            problems.append(str(error))
    for column in BOOL_COLUMNS:
        if not _empty(config.get(column)):
            try:
                validation.flag(column, config[column])
            except ValueError as error:
                problems.append(str(error))
    for column in ("model_id", "architecture"):
        if not _empty(config.get(column)) and not isinstance(config[column], str):
            problems.append(f"{column} must be a string; got {type(config[column]).__name__}")
    if problems:
        return problems
    v = values
    if v["num_attention_heads"] % v["num_key_value_heads"]:
        problems.append("num_key_value_heads must divide num_attention_heads")
    if v["head_dim"] > v["hidden_size"]:
        problems.append("head_dim must be at most hidden_size")
    if v["num_experts"]:
        if not 1 <= v["num_experts_per_tok"] <= v["num_experts"]:
            problems.append("num_experts_per_tok must be from 1 to num_experts (a token uses at least one expert)")
        if not v["moe_intermediate_size"]:
            problems.append("a mixture-of-experts model needs moe_intermediate_size")
    elif v["num_experts_per_tok"]:
        problems.append("num_experts_per_tok exceeds num_experts")
    elif not v["intermediate_size"]:
        problems.append("a dense model needs intermediate_size")
    if v["full_attention_interval"] > v["num_hidden_layers"]:
        problems.append("full_attention_interval must be at most num_hidden_layers")
    if v["full_attention_interval"] > 1 and not all(v[column] for column in _LINEAR_ATTENTION):
        problems.append(f"linear attention (full_attention_interval above 1) needs {', '.join(_LINEAR_ATTENTION)}")
    return problems


def _plausible_config(name: str, value):
    """The rule of describe()'s config: a mapping config_problems finds nothing wrong with (first problem shown)."""
    if not isinstance(value, Mapping):
        raise ValueError(f"{name} must be a mapping of architecture columns (a row of architectures.csv); "
                         f"got {type(value).__name__}")
    problems = config_problems(value)
    if problems:
        raise ValueError(f"{name} {problems[0]}"[:validation.MAX_MESSAGE_CHARS])
    return value


@checked
def architecture_problems(table: pd.DataFrame) -> list[str]:
    """List every rule the architecture table breaks (empty list = valid); pure, so tests can feed bad tables."""
    problems: list[str] = []
    for row in table.to_dict("records"):  # the rules describe() applies to a learner's config, row by row
        problems += [f"{row.get('model_id')}: {problem}" for problem in config_problems(row, require_context=False)]
    duplicated = table["model_id"][table["model_id"].str.lower().duplicated()].tolist()
    if duplicated:
        problems.append(f"duplicate model_id(s) {duplicated}")
    return problems


# ---------------------------------------------------------------------------------------------------------------
# The description: matrices and layer kinds
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Matrix:
    """One weight matrix of a checkpoint, as many times as the model holds it.

    ``module`` is the name PEFT matches (by its last component, as ``target_modules`` does); ``copies`` is how
    many a layer holds (the experts of a MoE layer), ``active`` how many of them one token multiplies through,
    ``layers`` how many decoder layers hold it. ``decoder`` matrices are the linear layers that quantization
    formats compress and LoRA adapts; the embedding and the output head are not.
    """

    module: str
    part: str  # the component it belongs to, as lesson 1's breakdown names it
    in_features: int
    out_features: int
    layers: int = 1
    copies: int = 1
    active: int = 1
    bias: int = 0  # bias entries per copy
    decoder: bool = True

    @property
    def name(self) -> str:
        """The last component of the module name: what PEFT's target_modules match."""
        return self.module.split(".")[-1]

    @property
    def count(self) -> int:
        """How many of this matrix the model holds: layers x copies."""
        return self.layers * self.copies

    @property
    def weights(self) -> int:
        """Weight entries over the whole model (biases not included)."""
        return self.in_features * self.out_features * self.count

    @property
    def active_weights(self) -> int:
        """Weight entries one token multiplies through."""
        return self.in_features * self.out_features * self.layers * self.active

    @property
    def biases(self) -> int:
        """Bias entries over the whole model."""
        return self.bias * self.count


@dataclass(frozen=True)
class Vector:
    """Parameters that are not a matrix (norm weights, routers, convolution kernels), summed over the model."""

    what: str
    part: str
    count: int
    tensors: int = 1  # how many separate tensors hold them (a file stores each norm of each layer on its own)


@dataclass(frozen=True)
class LayerKind:
    """One kind of sub-layer: its builder, and whether the memory models know its activations and cache."""

    name: str
    describe: str
    build: Callable[[Mapping, int], tuple[list[Matrix], list[Vector]]]  # (config, layers of this kind)
    memory_modelled: bool = True


def _full_attention(c: Mapping, layers: int) -> tuple[list[Matrix], list[Vector]]:
    h, n_q, n_kv, d = c["hidden_size"], c["num_attention_heads"], c["num_key_value_heads"], c["head_dim"]
    gate = 2 if c["attention_output_gate"] else 1  # Qwen3-Next's output gate doubles q_proj
    bias = bool(c["attention_bias"])  # Qwen2/2.5: bias on q, k and v, not on o
    matrices = [
        Matrix("q_proj", "attention", h, n_q * d * gate, layers, bias=n_q * d if bias else 0),
        Matrix("k_proj", "attention", h, n_kv * d, layers, bias=n_kv * d if bias else 0),
        Matrix("v_proj", "attention", h, n_kv * d, layers, bias=n_kv * d if bias else 0),
        Matrix("o_proj", "attention", n_q * d, h, layers),
    ]
    vectors = [Vector("q_norm and k_norm", "attention", 2 * d * layers, 2 * layers)] if c["qk_norm"] else []
    return matrices, vectors


def _fused_attention(c: Mapping, layers: int) -> tuple[list[Matrix], list[Vector]]:
    h, n_q, d = c["hidden_size"], c["num_attention_heads"], c["head_dim"]
    bias = 3 * n_q * d if c["attention_bias"] else 0
    return [Matrix("c_attn", "attention", h, 3 * n_q * d, layers, bias=bias),
            Matrix("attn.c_proj", "attention", n_q * d, h, layers)], []


def _linear_attention(c: Mapping, layers: int) -> tuple[list[Matrix], list[Vector]]:
    """Qwen3-Next's Gated DeltaNet layer: fused projections, a depthwise convolution, a recurrent state."""
    h = c["hidden_size"]
    n_k, n_v = c["linear_num_key_heads"], c["linear_num_value_heads"]
    key_dim, value_dim = n_k * c["linear_key_head_dim"], n_v * c["linear_value_head_dim"]
    if c["architecture"] in SPLIT_PROJECTION_ARCHITECTURES:  # the same weights in four matrices, as PEFT sees them
        matrices = [Matrix("in_proj_qkv", "linear_attention", h, 2 * key_dim + value_dim, layers),
                    Matrix("in_proj_z", "linear_attention", h, value_dim, layers),
                    Matrix("in_proj_b", "linear_attention", h, n_v, layers),
                    Matrix("in_proj_a", "linear_attention", h, n_v, layers)]
    else:
        matrices = [Matrix("in_proj_qkvz", "linear_attention", h, 2 * key_dim + 2 * value_dim, layers),
                    Matrix("in_proj_ba", "linear_attention", h, 2 * n_v, layers)]
    matrices.append(Matrix("out_proj", "linear_attention", value_dim, h, layers))
    per_layer = ((2 * key_dim + value_dim) * c["linear_conv_kernel_dim"]  # depthwise conv, no bias
                 + 2 * n_v  # dt_bias and A_log
                 + c["linear_value_head_dim"])  # gated RMSNorm
    return matrices, [Vector("conv1d, dt_bias, A_log, norm", "linear_attention", per_layer * layers,
                             4 * layers)]


def _dense_mlp(c: Mapping, layers: int, width: int | None = None) -> tuple[list[Matrix], list[Vector]]:
    h, f = c["hidden_size"], width or c["intermediate_size"]
    return [Matrix("gate_proj", "mlp", h, f, layers), Matrix("up_proj", "mlp", h, f, layers),
            Matrix("down_proj", "mlp", f, h, layers)], []


def _fused_mlp(c: Mapping, layers: int, width: int | None = None) -> tuple[list[Matrix], list[Vector]]:
    h, f = c["hidden_size"], width or c["intermediate_size"]
    return [Matrix("w1", "mlp", h, f, layers), Matrix("w2", "mlp", h, f, layers),
            Matrix("mlp.c_proj", "mlp", f, h, layers)], []


def _moe(c: Mapping, layers: int) -> tuple[list[Matrix], list[Vector]]:
    h, experts, k, f = c["hidden_size"], c["num_experts"], c["num_experts_per_tok"], c["moe_intermediate_size"]
    matrices = [Matrix(name, "experts", fan_in, fan_out, layers, copies=experts, active=k)
                for name, fan_in, fan_out in (("gate_proj", h, f), ("up_proj", h, f), ("down_proj", f, h))]
    vectors = [Vector("router", "router", h * experts * layers, layers)]
    shared = c["shared_expert_intermediate_size"]
    if shared:
        matrices += [Matrix(f"shared_expert.{name}", "shared_expert", fan_in, fan_out, layers)
                     for name, fan_in, fan_out in (("gate_proj", h, shared), ("up_proj", h, shared),
                                                   ("down_proj", shared, h))]
        vectors.append(Vector("shared_expert_gate", "shared_expert", h * layers, layers))
    return matrices, vectors


LAYER_KINDS = MappingProxyType({
    "full_attention": LayerKind("full_attention", "softmax attention over every earlier token (KV cache)",
                                _full_attention),
    "fused_attention": LayerKind("fused_attention", "softmax attention with Q, K, V in one matrix (Qwen-1)",
                                 _fused_attention),
    "linear_attention": LayerKind("linear_attention", "Gated DeltaNet: a fixed-size recurrent state, no KV cache",
                                  _linear_attention),
    "dense_mlp": LayerKind("dense_mlp", "SwiGLU MLP: gate, up and down projections", _dense_mlp),
    "fused_mlp": LayerKind("fused_mlp", "SwiGLU MLP named w1, w2, c_proj (Qwen-1)", _fused_mlp),
    "moe": LayerKind("moe", "mixture of experts: a router picks num_experts_per_tok experts per token", _moe),
})
_MLP_WIDTH_KINDS = ("dense_mlp", "fused_mlp")
KV_CACHE_KINDS = ("full_attention", "fused_attention")  # softmax attention keeps K and V of every earlier token


@checked(config=_plausible_config)
def layer_kinds(config: Mapping) -> tuple[tuple[str, str], ...]:
    """(mixer kind, MLP kind) for every decoder layer, decided from the config row alone."""
    missing = [name for name in ("architecture", "full_attention_interval", "num_experts", "num_hidden_layers")
               if name not in config]
    if missing:
        raise ValueError(f"config must have the columns of architectures.csv; it lacks {missing}")
    fused = config["architecture"] in FUSED_QKV_ARCHITECTURES
    interval = config["full_attention_interval"] or 1
    mlp = "fused_mlp" if fused else ("moe" if config["num_experts"] else "dense_mlp")
    kinds = []
    for index in range(config["num_hidden_layers"]):
        if fused:
            mixer = "fused_attention"
        else:  # Qwen3-Next convention: layer i is full attention when (i + 1) is a multiple of the interval
            mixer = "full_attention" if (index + 1) % interval == 0 else "linear_attention"
        kinds.append((mixer, mlp))
    return tuple(kinds)


@dataclass(frozen=True)
class Checkpoint(Mapping):
    """A resolved checkpoint: read its config like a read-only dict (``ckpt["hidden_size"]``) and its structure
    from ``layers`` (kind per layer), ``matrices`` (every weight matrix) and ``vectors`` (the other parameters).

    ``quantized_matrices`` is the same list as Qwen's official quantized releases store it (some pad the MLP
    width; the row's ``quantized_intermediate_size`` says so).
    """

    model_id: str
    config: Mapping
    layers: tuple[tuple[str, str], ...]
    matrices: tuple[Matrix, ...]
    vectors: tuple[Vector, ...]
    quantized_matrices: tuple[Matrix, ...]
    memory_modelled: bool  # every layer kind is one the inference and training memory models know
    kv_layers: int  # layers that keep a KV cache (softmax attention)
    linear_layers: int = 0  # Gated DeltaNet layers: a fixed-size state per sequence instead of a KV cache

    def __getitem__(self, key: str):
        return self.config[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.config)

    def __len__(self) -> int:
        return len(self.config)

    def __hash__(self) -> int:
        return hash(self.model_id)

    def __eq__(self, other) -> bool:
        return isinstance(other, Checkpoint) and self.model_id == other.model_id and self.config == other.config

    def __repr__(self) -> str:
        return f"Checkpoint({self.model_id!r}, {self.config['architecture']}, {len(self.layers)} layers)"

    @property
    def is_moe(self) -> bool:
        """True when a router sends each token through a subset of experts."""
        return any(matrix.copies > matrix.active for matrix in self.matrices)

    @property
    def decoder_matrices(self) -> tuple[Matrix, ...]:
        """The decoder's linear layers: what quantization compresses and LoRA can adapt."""
        return tuple(matrix for matrix in self.matrices if matrix.decoder)


def _build(config: Mapping, mlp_width: int | None = None) -> tuple[tuple, tuple[Matrix, ...], tuple[Vector, ...]]:
    kinds = layer_kinds(config)
    h, vocab = config["hidden_size"], config["vocab_size"]
    matrices: list[Matrix] = [Matrix("embed_tokens", "embedding", vocab, h, decoder=False)]
    vectors: list[Vector] = []
    counts: dict[str, int] = {}
    for layer in kinds:
        for kind in layer:
            counts[kind] = counts.get(kind, 0) + 1
    for kind, layers in counts.items():
        if kind in _MLP_WIDTH_KINDS and mlp_width:
            built = LAYER_KINDS[kind].build(config, layers, mlp_width)
        else:
            built = LAYER_KINDS[kind].build(config, layers)
        matrices += built[0]
        vectors += built[1]
    if not config["tie_word_embeddings"]:
        matrices.append(Matrix("lm_head", "lm_head", h, vocab, decoder=False))
    vectors.append(Vector("RMSNorm weights (two per layer and the final one)", "norms",
                          2 * h * len(kinds) + h, 2 * len(kinds) + 1))
    return kinds, tuple(matrices), tuple(vectors)


def _complete(row: dict) -> dict:
    """A table row with empty optional cells read as 0 / False, so builders need no None checks."""
    missing = [key for key in REQUIRED_NUMBERS if not row.get(key)]
    if missing:
        raise ValueError(f"model_id {row.get('model_id')!r}: config lacks {missing}; cannot describe it")
    config = dict(row)
    for key in INT_COLUMNS:
        if key not in ("max_position_embeddings", "quantized_intermediate_size"):
            config[key] = config.get(key) or 0
    for key in BOOL_COLUMNS:
        config[key] = bool(config.get(key))
    return config


@checked(config=_plausible_config)
def describe(config: Mapping) -> Checkpoint:
    """Build a Checkpoint from a config mapping with the architecture table's columns (no table lookup); a config
    from outside is checked by the table's own rules (config_problems), max_position_embeddings required."""
    full = _complete({**{key: None for key in SCHEMA.dtypes}, "architecture": "", **dict(config)})
    kinds, matrices, vectors = _build(full)
    quantized = matrices
    if full.get("quantized_intermediate_size"):
        quantized = _build(full, full["quantized_intermediate_size"])[1]
    modelled = all(LAYER_KINDS[kind].memory_modelled for kind in {kind for layer in kinds for kind in layer})
    kv_layers = sum(mixer in KV_CACHE_KINDS for mixer, _ in kinds)
    linear_layers = sum(mixer == "linear_attention" for mixer, _ in kinds)
    return Checkpoint(str(full.get("model_id") or "custom"), MappingProxyType(full), kinds, matrices, vectors,
                      quantized, modelled, kv_layers, linear_layers)


# ---------------------------------------------------------------------------------------------------------------
# Resolving an id, once
# ---------------------------------------------------------------------------------------------------------------


@checked
def normalize_model_id(model_id) -> str:
    """'Qwen2.5-7B-Instruct' and ' Qwen/Qwen2.5-7B-Instruct ' both become 'Qwen/Qwen2.5-7B-Instruct' (case kept)."""
    if not isinstance(model_id, str) or not model_id.strip() or len(model_id) > 200:
        raise ValueError(f"model_id must be a model id such as 'Qwen/Qwen2.5-7B' (a non-empty string), got "
                         f"{model_id!r}")
    text = model_id.strip()
    return text if "/" in text else ORG_PREFIX + text


@cached(maxsize=4)
def _checkpoints() -> MappingProxyType:
    """Lower-cased id -> Checkpoint for every row of the current version of the table."""
    table = load_architectures()
    return MappingProxyType({row["model_id"].lower(): describe(row)
                             for row in (row_as_dict(r) for _, r in table.iterrows())})


@lru_cache(maxsize=256)
def _normalized(model_id: str) -> str:
    """normalize_model_id, once per text a learner typed (a checked call's relations resolve it before the call)."""
    return normalize_model_id(model_id)


@checked
def resolve(model_id, *, memory_modelled: bool = False) -> Checkpoint:
    """The Checkpoint for a model id (or the Checkpoint itself). Case and the 'Qwen/' prefix do not matter; a
    '-Base' id without a row of its own resolves to its post-trained sibling, which has the same dimensions.
    ValueError lists the valid ids. memory_modelled=True also refuses checkpoints with a layer kind the memory
    models do not know (Qwen3-Next's linear attention keeps a recurrent state they do not cover)."""
    if isinstance(model_id, Checkpoint):
        if memory_modelled and not model_id.memory_modelled:
            unknown = sorted({kind for layer in model_id.layers for kind in layer if not LAYER_KINDS[kind].memory_modelled})
            raise ValueError(f"model_id {model_id.model_id!r}: its layer kinds {unknown} are not covered by the memory "
                             f"models; choose {validation.choices(model_ids(memory_modelled=True), 'ids', 'models.model_ids(memory_modelled=True)')}")
        return model_id
    model_id = _normalized(model_id) if isinstance(model_id, str) else normalize_model_id(model_id)
    known = _checkpoints()
    key = model_id.lower()
    sibling = key.removesuffix("-base")
    # only a plain size name has a post-trained sibling: '-Instruct-Base' or '-Base-Base' name no checkpoint
    if key not in known and sibling != key and sibling in known and \
            not set(sibling.rsplit("/", 1)[-1].split("-")) & POST_TRAINED_SUFFIXES:
        key = sibling
    if key not in known:
        raise ValueError(f"model_id {model_id!r} has no architecture row; it must be "
                         f"{validation.choices(model_ids(), 'ids', 'models.model_ids()')}")
    return resolve(known[key], memory_modelled=memory_modelled)


@checked
def model_ids(*, memory_modelled: bool = False) -> list[str]:
    """Every id in the architecture table, in table order; memory_modelled=True keeps the ones whose every layer
    kind the memory models know (what the memory calculator and the fine-tuning planner offer)."""
    return [c.model_id for c in _checkpoints().values() if c.memory_modelled or not memory_modelled]


# ---------------------------------------------------------------------------------------------------------------
# Counting, from the one list
# ---------------------------------------------------------------------------------------------------------------

BREAKDOWN_PARTS = ("embedding", "lm_head", "attention", "linear_attention", "mlp", "router", "experts_total",
                   "experts_active", "shared_expert", "norms")


@lru_cache(maxsize=256)  # pure: a Checkpoint equals another only with the same config
def _breakdown(ckpt: Checkpoint) -> MappingProxyType:
    parts = dict.fromkeys(BREAKDOWN_PARTS, 0)
    for matrix in ckpt.matrices:
        if matrix.part == "experts":
            parts["experts_total"] += matrix.weights + matrix.biases
            parts["experts_active"] += matrix.active_weights + matrix.bias * matrix.layers * matrix.active
        else:
            parts[matrix.part] += matrix.weights + matrix.biases
    for vector in ckpt.vectors:
        parts[vector.part] += vector.count
    return MappingProxyType(parts)


@checked
def parameter_breakdown(model_id) -> dict[str, int]:
    """Parameters by component: embedding, lm_head, attention, linear_attention, mlp, router, experts_total,
    experts_active, shared_expert, norms (biases and norms counted as Qwen's implementations define them)."""
    return dict(_breakdown(resolve(model_id)))


@checked
def count_parameters(model_id) -> tuple[int, int]:
    """(total, active) parameters; active counts only the experts a token is routed to."""
    parts = _breakdown(resolve(model_id))
    total = sum(value for key, value in parts.items() if key != "experts_active")
    active = sum(value for key, value in parts.items() if key != "experts_total")
    return total, active


@checked
def parameter_groups(model_id) -> dict[str, int]:
    """Parameters by how they are stored: embedding, lm_head (0 if tied), decoder linear weights, and the small
    rest (norms, biases, routers), which every format here keeps in 16 bits."""
    return dict(_groups(resolve(model_id)))


@lru_cache(maxsize=256)  # pure, as _breakdown
def _groups(ckpt: Checkpoint) -> MappingProxyType:
    total = count_parameters(ckpt)[0]
    embedding = sum(m.weights for m in ckpt.matrices if m.part == "embedding")
    lm_head = sum(m.weights for m in ckpt.matrices if m.part == "lm_head")
    linear = sum(m.weights for m in ckpt.decoder_matrices)
    return MappingProxyType({"embedding": embedding, "lm_head": lm_head, "linear": linear,
                             "other": total - embedding - lm_head - linear})


# ---------------------------------------------------------------------------------------------------------------
# Physical sense across arguments: applied by @checked to every function with a model_id and these parameters
# ---------------------------------------------------------------------------------------------------------------

# Token counts that must fit in one context of the checkpoint (input_tokens and output_tokens together).
CONTEXT_ARGUMENTS = ("context_tokens", "seq_len", "tokens_per_example", "input_tokens")
LAYER_SPLIT_ARGUMENTS = ("num_gpus",)  # GPUs that each hold a share of the decoder layers


@cached(maxsize=4)
def _documented_contexts() -> MappingProxyType:
    """model id (lower case) -> the longest context its catalog row documents (extended if given, else native)."""
    table = read_table(CATALOG_FILE)
    longest = table["extended_context"].fillna(table["context_length"])
    return MappingProxyType(dict(zip(table["model_id"].str.lower(), longest, strict=True)))


@checked
def longest_context(model_id) -> int | None:
    """The longest context a checkpoint is documented for: the larger of its config's max_position_embeddings and
    the catalog's context (extended, e.g. with YaRN, when given); None when neither is known."""
    ckpt = resolve(model_id)
    documented = _documented_contexts().get(ckpt.model_id.lower())
    known = [int(value) for value in (ckpt["max_position_embeddings"], documented) if not _empty(value)]
    return max(known) if known else None


@validation.relation("model_id")
def _fits_the_checkpoint(arguments: dict) -> None:
    """A context no longer than the checkpoint's, and no more layer-split GPUs than it has layers."""
    tokens = {name: arguments[name] for name in CONTEXT_ARGUMENTS if isinstance(arguments.get(name), int)}
    gpus = {name: arguments[name] for name in LAYER_SPLIT_ARGUMENTS if isinstance(arguments.get(name), int)}
    if not tokens and not gpus:
        return
    try:
        ckpt = resolve(arguments["model_id"])
    except ValueError:  # the function refuses (or handles) an id without an architecture row itself
        return
    layers = ckpt["num_hidden_layers"]
    for name, count in gpus.items():
        if count > layers:
            raise ValueError(f"{name} must be from 1 to {layers} for {ckpt.model_id} (a layer split gives each GPU "
                             f"at least one of its {layers} layers); got {count}")
    if isinstance(arguments.get("output_tokens"), int) and "input_tokens" in tokens:
        tokens["input_tokens + output_tokens"] = tokens.pop("input_tokens") + arguments["output_tokens"]
    limit = longest_context(ckpt) if tokens else None
    for name, count in tokens.items():
        if limit is not None and count > limit:
            raise ValueError(f"{name} must be at most {limit:,} tokens, the longest context {ckpt.model_id} is "
                             f"documented for; got {count:,}")
