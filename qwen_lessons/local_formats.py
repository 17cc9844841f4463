"""Lesson 8 (08_local_inference): the file formats a learner runs on a laptop: GGUF (llama.cpp, Ollama, LM Studio) and MLX.

A GGUF file's size is computed tensor by tensor from the checkpoint's one description (qwen_lessons.models):
every decoder layer's matrices get the ggml type llama.cpp's quantizer gives them (llama-quant.cpp,
llama_tensor_get_type: the _M mixes keep attn_v and ffn_down of some layers at a higher type, the output
tensor at Q6_K, norms and other 1-D tensors in F32; a row width the block size does not divide falls back to
another type), and each type's bytes come from its block layout (data/gguf_types.csv, from ggml-common.h).
The tokenizer strings and merges in the file's metadata are counted from the vocabulary the package ships.
An MLX file keeps each linear and embedding weight in 4 or 8 bits with a 16-bit scale and bias per 64 inputs
(mlx-lm's quantize_model). The format names are rows of data/local_formats.csv.
"""

from __future__ import annotations

from functools import lru_cache
from types import MappingProxyType

import pandas as pd

from qwen_lessons import models, vocabulary
from qwen_lessons.data import cached, read_table
from qwen_lessons.models import Checkpoint
from qwen_lessons.validation import checked, flag, key, one_of_listed, optional

TYPES_FILE = "gguf_types.csv"
FORMATS_FILE = "local_formats.csv"
PUBLISHED_FILE = "gguf_published_sizes.csv"
UNIT_BYTES = MappingProxyType({"bytes": 1, "GB": 1e9, "GiB": 2**30, "MB": 1e6, "MiB": 2**20})
MLX_SCALE_BYTES = 2  # the scale and the bias of a group are kept in the model's 16-bit dtype
MLX_ROUTER_BITS = 8  # mlx-lm's Qwen MoE models quantize the router (mlp.gate) at 8 bits (quant_predicate)
GGUF_KV_OVERHEAD = 8 + 4 + 4 + 8  # a metadata array: key length, value type, element type, element count
GGUF_TENSOR_INFO = 8 + 40 + 4 + 4 * 8 + 4 + 8  # name length, name (about 40 bytes), dims, shape, type, offset

# Checkpoint matrix name -> GGUF tensor name (llama.cpp's convert_hf_to_gguf tensor map); experts get _exps.
GGUF_NAMES = MappingProxyType({
    "q_proj": "attn_q", "k_proj": "attn_k", "v_proj": "attn_v", "o_proj": "attn_output",
    "c_attn": "attn_qkv", "attn.c_proj": "attn_output",
    "gate_proj": "ffn_gate", "up_proj": "ffn_up", "down_proj": "ffn_down",
    "w1": "ffn_up", "w2": "ffn_gate", "mlp.c_proj": "ffn_down",
    "shared_expert.gate_proj": "ffn_gate_shexp", "shared_expert.up_proj": "ffn_up_shexp",
    "shared_expert.down_proj": "ffn_down_shexp",
    "in_proj_qkvz": "ssm_in", "in_proj_ba": "ssm_ba", "out_proj": "ssm_out",
    "in_proj_qkv": "attn_qkv", "in_proj_z": "attn_gate", "in_proj_b": "ssm_beta", "in_proj_a": "ssm_alpha",
})
_CATEGORIES = (  # tensor_get_category: the first name fragment found decides
    ("attn_qkv", "attn_v"), ("attn_v.", "attn_v"), ("attn_k.", "attn_k"), ("attn_q.", "attn_q"),
    ("attn_output", "attn_output"), ("ffn_up", "ffn_up"), ("ffn_gate", "ffn_gate"), ("ffn_down", "ffn_down"),
)
_FALLBACK = MappingProxyType({"IQ4_XS": "IQ4_NL", "Q2_K": "Q4_0", "Q3_K": "Q4_0", "Q4_K": "Q5_0",
                              "Q5_K": "Q5_1", "Q6_K": "Q8_0"})  # tensor_type_fallback


@checked
def load_local_formats() -> pd.DataFrame:
    """data/local_formats.csv: one row per local format name ('q4_k_m', 'mlx-4bit', ...)."""
    return read_table(FORMATS_FILE)


@cached
def _formats() -> MappingProxyType:
    return MappingProxyType({row["quantization"]: MappingProxyType(row)
                             for row in load_local_formats().to_dict("records")})


@checked
def kv_cache_types() -> tuple[str, ...]:
    """The llama.cpp KV-cache types lesson 8 offers (--cache-type-k/-v), lower case, in data/gguf_types.csv's order."""
    table = read_table(TYPES_FILE)
    return tuple(table.loc[table["kv_cache"].fillna(False).astype(bool), "ggml_type"].str.lower())


# the rule of a llama.cpp cache type (--cache-type-k/-v): one of the table's kv_cache types
KV_CACHE_TYPE = one_of_listed(kv_cache_types)


@checked(engine=key)
def laptop_ladder(engine: str = "llama.cpp") -> tuple[str, ...]:
    """The formats of one engine the laptop answer tries, most faithful first (data/local_formats.csv's
    laptop_advice, in table order)."""
    local_quantizations(engine)  # refuses an unknown engine, naming the known ones
    table = load_local_formats()
    advised = (table["engine"] == engine) & table["laptop_advice"].fillna(False).astype(bool)
    return tuple(table.loc[advised, "quantization"])


@checked(engine=optional(key))
def local_quantizations(engine: str | None = None) -> list[str]:
    """The local format names in table order; engine='llama.cpp' or 'mlx' keeps one engine's."""
    names = [name for name, row in _formats().items() if engine is None or row["engine"] == engine]
    if engine is not None and not names:
        raise ValueError(f"engine must be one of {sorted({r['engine'] for r in _formats().values()})}, got {engine!r}")
    return names


@checked
def local_format(quantization: str) -> dict:
    """One row of data/local_formats.csv; ValueError lists the names."""
    rows = _formats()
    key = quantization.strip().lower() if isinstance(quantization, str) else quantization
    if key not in rows:
        raise ValueError(f"quantization must be one of {list(rows)}, got {quantization!r}")
    return dict(rows[key])


@cached
def _type_sizes() -> MappingProxyType:
    table = read_table(TYPES_FILE)
    return MappingProxyType({row.ggml_type: (int(row.block_weights), int(row.block_bytes))
                             for row in table.itertuples(index=False)})


@checked
def gguf_type_table() -> pd.DataFrame:
    """The ggml block types with their bits per weight, scales included (data/gguf_types.csv)."""
    table = read_table(TYPES_FILE)
    table["bits_per_weight"] = table["block_bytes"] * 8 / table["block_weights"]
    return table


def _tensor_bytes(sizes: MappingProxyType, ggml_type: str, weights: int) -> int:
    block, size = sizes[ggml_type]
    return weights // block * size


# ---------------------------------------------------------------------------------------------------------------
# llama.cpp's mix rules (llama-quant.cpp, llama_tensor_get_type_impl), for the file types of local_formats.csv
# ---------------------------------------------------------------------------------------------------------------


def _use_more_bits(i: int, n: int) -> bool:
    return i < n // 8 or i >= 7 * n // 8 or (i - n // 8) % 3 == 2


@lru_cache(maxsize=256)  # a function of the name alone (_CATEGORIES is fixed): thousands of tensors, a few names
def _category(name: str) -> str:
    if name == "output":
        return "output"
    if name == "token_embd":
        return "token_embd"
    for fragment, category in _CATEGORIES:
        if fragment in name + ".":
            return category
    return "other"


def _mix(file_type: str, default: str, category: str, i: int, n: int, ctx: MappingProxyType) -> str:
    """The type one quantizable tensor gets: category, its index i of n (layer, or attn_v-like tensor)."""
    if category == "output" or (ctx["tied"] and category == "token_embd"):
        if ctx["hidden"] % ctx["sizes"][default][0]:
            return "Q8_0"
        return default if default == "Q8_0" else "Q6_K"
    if category == "token_embd":
        return default
    gqa, imatrix = ctx["n_gqa"], ctx["imatrix"]
    if category == "attn_v":
        if file_type == "Q2_K":
            return "Q4_K" if gqa >= 4 else "Q3_K"
        if file_type == "Q3_K_M":
            return "Q5_K" if i < 2 else "Q4_K"
        if file_type == "IQ4_XS" and gqa >= 4:
            return "Q5_K"
        if file_type in ("Q4_K_M", "Q5_K_M") and _use_more_bits(i, n):
            return "Q6_K"
        return default
    if category == "ffn_down":
        if file_type == "Q2_K":
            return "Q3_K"
        if file_type == "Q3_K_M":
            return "Q5_K" if i < n // 16 else "Q4_K"
        if file_type in ("Q4_K_M", "Q5_K_M") and _use_more_bits(i, n):
            return "Q6_K"
        if file_type == "IQ4_XS" and i < n // 8 and not imatrix:
            return "Q5_K"
        if file_type == "Q4_0" and imatrix and i < n // 8:
            return "Q4_1"
        return default
    if category == "attn_output":
        return {"Q2_K": "Q3_K", "Q3_K_M": "Q4_K"}.get(file_type, default)
    return default


def _fallback(sizes: MappingProxyType, ggml_type: str, row_width: int) -> str:
    """tensor_type_fallback: a row width the block size does not divide takes another type (F16 as the last)."""
    if row_width % sizes[ggml_type][0] == 0:
        return ggml_type
    other = _FALLBACK.get(ggml_type, "F16")
    return other if row_width % sizes[other][0] == 0 else "F16"


@lru_cache(maxsize=64)
def _layer_matrices(ckpt: Checkpoint, kind: str) -> tuple[models.Matrix, ...]:
    return tuple(models.LAYER_KINDS[kind].build(ckpt.config, 1)[0])


GGUF_TENSOR_COLUMNS = ("layer", "tensor", "category", "row_width", "rows", "copies", "tensors", "ggml_type", "bytes")
_LAYER, _TYPE, _BYTES = (GGUF_TENSOR_COLUMNS.index(column) for column in ("layer", "ggml_type", "bytes"))


@cached(maxsize=1024, shared=True)  # a tuple of tuples of numbers and text: nothing a caller can change
def _gguf_rows(ckpt: Checkpoint, quant: str, imatrix: bool, output_copy: bool = False) -> tuple[tuple, ...]:
    """Every weight tensor of the GGUF file as a row of GGUF_TENSOR_COLUMNS. Plain tuples, not a DataFrame: the
    memory calculators sum them per layer for every checkpoint and format of the ladder, thousands of times."""
    fmt = local_format(quant)
    if fmt["engine"] != "llama.cpp":
        raise ValueError(f"quantization {quant!r} is not a GGUF file type; choose one of "
                         f"{local_quantizations('llama.cpp')}")
    file_type, default = fmt["file_type"], fmt["default_type"]
    h, n_layers = ckpt["hidden_size"], len(ckpt.layers)
    tied = bool(ckpt["tie_word_embeddings"]) and not output_copy
    sizes = _type_sizes()  # once: a file has thousands of tensors, and every cached lookup checks data/
    ctx = MappingProxyType({"tied": tied, "hidden": h, "imatrix": imatrix, "sizes": sizes,
                            "n_gqa": ckpt["num_attention_heads"] // ckpt["num_key_value_heads"]})
    layer_tensors = []  # (layer, gguf name, row width, rows, copies)
    for index, layer in enumerate(ckpt.layers):
        for kind in layer:
            for m in _layer_matrices(ckpt, kind):
                name = GGUF_NAMES.get(m.module, m.module) + ("_exps" if m.copies > 1 else "")
                layer_tensors.append((index, name, m.in_features, m.out_features, m.copies))
    n_wv = sum(_category(name) == "attn_v" for _, name, *_ in layer_tensors)
    rows, i_wv = [], 0
    vocab = ckpt["vocab_size"]
    whole = [(-1, "token_embd", h, vocab, 1)] + layer_tensors
    if not tied:
        whole.append((n_layers, "output", h, vocab, 1))
    for layer, name, width, out, copies in whole:
        category = _category(name)
        index = i_wv if category == "attn_v" else layer
        ggml_type = _fallback(sizes, _mix(file_type, default, category, index, n_wv if category == "attn_v" else n_layers,
                                   ctx), width)
        i_wv += category == "attn_v"
        weights = width * out * copies
        rows.append((layer, name, category, width, out, copies, 1, ggml_type, _tensor_bytes(sizes, ggml_type, weights)))
    # every other parameter (norms, biases, routers, convolution kernels, A_log, dt_bias) stays in F32, one row
    # for all of them; "tensors" says how many tensors of the file that row stands for (one bias per matrix)
    small = sum(v.count for v in ckpt.vectors) + sum(m.biases for m in ckpt.matrices)
    small_tensors = sum(v.tensors for v in ckpt.vectors) + sum(m.layers for m in ckpt.matrices if m.bias)
    rows.append((-1, "1-D and small tensors", "other", 1, small, 1, small_tensors, "F32", _tensor_bytes(sizes, "F32", small)))
    return tuple(rows)


@cached(maxsize=1024)
def _gguf_tensors(ckpt: Checkpoint, quant: str, imatrix: bool, output_copy: bool = False) -> pd.DataFrame:
    """_gguf_rows as a table."""
    return pd.DataFrame(_gguf_rows(ckpt, quant, imatrix, output_copy), columns=list(GGUF_TENSOR_COLUMNS))


@checked(imatrix=flag, output_copy=flag)
def gguf_tensor_types(model_id, quantization: str = "q4_k_m", imatrix: bool = False,
                      output_copy: bool = False) -> pd.DataFrame:
    """Every weight tensor of the GGUF file with its ggml type and bytes (layer -1 = outside the layers); the
    1-D and small F32 tensors share one row, whose "tensors" column counts them (1 on every other row).

    imatrix=True is a file quantized with an importance matrix: for Q4_0 and IQ4_XS it changes the type of the
    first eighth of the ffn_down tensors (llama_tensor_get_type_impl). output_copy=True is a file that stores
    output.weight even though the checkpoint ties it to the embedding (some of Qwen's own Qwen2.5 files)."""
    key = local_format(quantization)["quantization"]
    return _gguf_tensors(models.resolve(model_id), key, imatrix, output_copy).copy()


@checked
def gguf_layer_bytes(model_id, quantization: str = "q4_k_m") -> tuple[tuple[int, ...], int, int]:
    """The GGUF file's weight bytes by where llama.cpp's -ngl places them: (bytes of each decoder layer, of the output
    layer, outside the layers: the token embedding and the 1-D and small tensors). Summed from gguf_tensor_types'
    rows without building its table: the memory calculators ask for every checkpoint and format of a ladder."""
    ckpt = models.resolve(model_id)
    n = len(ckpt.layers)
    by_layer = [0] * (n + 2)  # layers 0..n-1, then the output layer (n), then outside the layers (-1: the last)
    for row in _gguf_rows(ckpt, local_format(quantization)["quantization"], False):
        by_layer[row[_LAYER]] += row[_BYTES]
    return tuple(by_layer[:n]), by_layer[n], by_layer[-1]


_ONE_BYTE_SPELLING = bytes(range(33, 127))  # the bytes GPT-2's byte-to-unicode map spells as themselves


@cached(maxsize=8)
def _metadata_bytes(vocab_size: int) -> int:
    """The tokenizer in the GGUF metadata: every token string, its type, and one merge per merged token.

    Token strings are stored in GPT-2's byte-to-unicode spelling: bytes 33-126 as one UTF-8 byte, every other
    byte as a two-byte character; a merge "a b" spells its token's bytes plus one space."""
    table = vocabulary.vocabularies()
    fitting = table[table["regular_tokens"] <= vocab_size].sort_values("regular_tokens")
    row = fitting.iloc[-1] if len(fitting) else table.sort_values("regular_tokens").iloc[0]
    regular, spelled, merges = _spelled_vocabulary(row["vocabulary"], row["bpe_file"], int(row["regular_tokens"]))
    added = {token_id: token for token, token_id, _ in vocabulary.added_tokens(row["vocabulary"])}
    extra = sum(len(added.get(i, f"[PAD{i}]").encode()) for i in range(regular, vocab_size))
    tokens = 8 * vocab_size + spelled + extra
    types = 4 * vocab_size
    return tokens + types + merges + 3 * GGUF_KV_OVERHEAD


@lru_cache(maxsize=8)  # a function of its arguments (the row of vocabularies.csv) and the installed ranks file
def _spelled_vocabulary(name: str, bpe_file: str, count: int) -> tuple[int, int, int]:
    """(regular tokens, bytes of their spelled strings, bytes of their merges) of one vocabulary: the row's ranks file
    with its count of tokens (a model's vocab_size only adds padding tokens to them)."""
    ranks = vocabulary.merge_ranks(name)
    if len(ranks) != count or vocabulary.vocabularies().set_index("vocabulary").at[name, "bpe_file"] != bpe_file:
        raise RuntimeError(f"vocabulary {name!r} changed while its spelling was counted; ask again")

    def spelled(strings: bytes) -> int:  # 1 byte for bytes 33-126, 2 for the rest
        return len(strings) + len(strings.translate(None, _ONE_BYTE_SPELLING))

    single = [token for token in ranks if len(token) == 1]  # the 256 byte tokens: no merge makes them
    every, of_singles = spelled(b"".join(ranks)), spelled(b"".join(single))
    merges = 9 * (len(ranks) - len(single)) + every - of_singles  # per merged token: 8-byte length, "a b" = + 1
    return len(ranks), every, merges


@checked
def gguf_metadata_bytes(model_id) -> int:
    """Bytes of the GGUF header that are not weights: tokenizer strings, token types, merges, tensor index.

    The chat template and the few scalar keys (a few kB) are not counted."""
    ckpt = models.resolve(model_id)
    n_tensors = len(_gguf_rows(ckpt, "q8_0", False)) + 2 * len(ckpt.layers) + 1
    return _metadata_bytes(ckpt["vocab_size"]) + n_tensors * GGUF_TENSOR_INFO


@checked(imatrix=flag, output_copy=flag)
def gguf_file_bytes(model_id, quantization: str = "q4_k_m", imatrix: bool = False,
                    output_copy: bool = False) -> dict[str, int]:
    """A GGUF file's size by part: weights in quantized types, F32 small tensors, metadata; and the total."""
    ckpt = models.resolve(model_id)
    rows = _gguf_rows(ckpt, local_format(quantization)["quantization"], imatrix, output_copy)
    small = sum(row[_BYTES] for row in rows if row[_TYPE] == "F32")
    quantized = sum(row[_BYTES] for row in rows) - small
    meta = gguf_metadata_bytes(ckpt)
    return {"weights": quantized, "f32_tensors": small, "metadata": meta, "total": quantized + small + meta}


@lru_cache(maxsize=512)
def _mlx_bytes(ckpt: Checkpoint, bits: int, group: int) -> MappingProxyType:
    out = {"quantized_weights": 0, "scales_and_biases": 0, "unquantized_16bit": 0}

    def add(rows: int, width: int, count: int, qbits: int) -> None:
        if width % group:  # quantize_model's predicate: the input width must be a multiple of the group size
            out["unquantized_16bit"] += rows * width * count * 2
            return
        out["quantized_weights"] += rows * width * count * qbits // 8
        out["scales_and_biases"] += rows * (width // group) * count * 2 * MLX_SCALE_BYTES

    for m in ckpt.matrices:
        # the embedding is an nn.Embedding (vocab rows of hidden width); every other matrix an nn.Linear
        rows, width = (m.in_features, m.out_features) if m.part == "embedding" else (m.out_features, m.in_features)
        add(rows, width, m.count, bits)
        out["unquantized_16bit"] += m.biases * 2
    for v in ckpt.vectors:
        if v.part == "router":
            add(ckpt["num_experts"], ckpt["hidden_size"], len(ckpt.layers), MLX_ROUTER_BITS)
        else:
            out["unquantized_16bit"] += v.count * 2
    return MappingProxyType(out)


@checked
def mlx_weights_bytes(model_id, quantization: str = "mlx-4bit") -> dict[str, int]:
    """An MLX checkpoint's weights by part: packed quantized weights, 16-bit scales and biases, 16-bit rest."""
    fmt = local_format(quantization)
    if fmt["engine"] != "mlx":
        raise ValueError(f"quantization {quantization!r} is not an MLX format; choose one of "
                         f"{local_quantizations('mlx')}")
    return dict(_mlx_bytes(models.resolve(model_id), int(fmt["bits"]), int(fmt["group_size"])))


@checked
def weights_parts(model_id, quantization: str) -> dict[str, float]:
    """Resident weight bytes of a local format, in the three parts memory.weights_bytes reports."""
    fmt = local_format(quantization)
    if fmt["engine"] == "mlx":
        return {key: float(value) for key, value in mlx_weights_bytes(model_id, quantization).items()}
    parts = gguf_file_bytes(model_id, quantization)
    return {"quantized_weights": float(parts["weights"]), "scales_and_biases": 0.0,
            "unquantized_16bit": float(parts["f32_tensors"])}


@checked(imatrix=flag, output_copy=flag)
def file_bytes(model_id, quantization: str, imatrix: bool = False, output_copy: bool = False) -> int:
    """The size on disk of a local-format checkpoint: GGUF tensors and metadata, or MLX weights."""
    if local_format(quantization)["engine"] == "mlx":
        return int(sum(mlx_weights_bytes(model_id, quantization).values()))
    return gguf_file_bytes(model_id, quantization, imatrix, output_copy)["total"]


# ---------------------------------------------------------------------------------------------------------------
# Held against the published file sizes
# ---------------------------------------------------------------------------------------------------------------


@checked
def load_published_sizes() -> pd.DataFrame:
    """data/gguf_published_sizes.csv: file sizes Qwen and GGUF publishers list for Qwen checkpoints."""
    return read_table(PUBLISHED_FILE)


@cached(maxsize=4)
def _size_comparison() -> pd.DataFrame:
    records = []
    for row in load_published_sizes().itertuples(index=False):
        imatrix = bool(row.imatrix) if not pd.isna(row.imatrix) else False
        copy = bool(row.output_copy) if not pd.isna(row.output_copy) else False
        computed = file_bytes(row.model_id, row.quantization, imatrix=imatrix, output_copy=copy)
        published = float(row.published_size) * UNIT_BYTES[row.unit]
        records.append({"model_id": row.model_id, "quantization": row.quantization, "publisher": row.publisher,
                        "published": f"{row.published_size:g} {row.unit}", "published_bytes": published,
                        "computed_bytes": computed, "error": computed / published - 1})
    return pd.DataFrame(records)


@checked
def size_comparison() -> pd.DataFrame:
    """Every published file size next to the computed one (error signed: computed / published - 1)."""
    return _size_comparison().copy()


@checked
def size_error_summary(comparison: pd.DataFrame | None = None) -> pd.DataFrame:
    """Median and worst absolute error per format family (GGUF, MLX) and over all rows."""
    table = size_comparison() if comparison is None else comparison
    engine = table["quantization"].map(lambda q: local_format(q)["engine"])
    table = table.assign(engine=engine, abs_error=table["error"].abs())
    rows = [("all", table)] + [(name, part) for name, part in table.groupby("engine", sort=False)]
    return pd.DataFrame([{"rows": label, "count": len(part), "median_abs_error": part["abs_error"].median(),
                          "worst_abs_error": part["abs_error"].max()} for label, part in rows])
