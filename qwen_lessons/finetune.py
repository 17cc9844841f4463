"""Lesson 4 (04_fine_tuning): fine-tuning memory, compute and time for real Qwen layer shapes, held against published numbers.

Conventions (bytes per parameter, with who uses which):

- ``full`` — mixed-precision AdamW: bf16 weights (2) + fp32 gradients (4) + fp32 master copy, Adam m and v
  (4 + 4 + 4) = 18 bytes per parameter, the EleutherAI cookbook split, which matches LLaMA-Factory's
  "18x GB" rule. The ZeRO paper counts 16 (fp16 gradients).
- ``full-bf16`` — everything in bf16: weights 2 + gradients 2 + Adam m, v 2 + 2 = 8 ("8x GB").
- ``freeze`` — only the last ``trainable_layers`` decoder layers train; trainable parameters are kept in fp32
  (weights 4 + gradients 4 + Adam 8), frozen ones in bf16 (2), as LLaMA-Factory upcasts trainable weights.
- ``lora`` — frozen bf16 base (2) plus low-rank adapters in fp32: adapter weights 4 + gradients 4 + Adam 8.
- ``qlora-4bit`` / ``qlora-8bit`` — as ``lora`` but the decoder's linear weights are stored in 4-bit NF4
  with double quantisation (4.127 bits, QLoRA paper) or int8 (8 bits); embeddings, output head, norms and
  biases stay bf16.

Activations (bf16, per token of a micro-batch): each decoder layer saves its norms (fp32 copy + bf16 output: 6 bytes
x width, twice), Q/K/V before and after rotary, the attention output and the four SwiGLU tensors. The loss adds, per
token and vocabulary entry, 14 bytes: bf16 logits (2), fp32 log-probabilities (4) and, during backward, their fp32
gradient and the fp32 gradient of the logits (4 + 4). Memory is per GPU; two fitted constants (below) stand for the
CUDA context and allocator slack, and for ZeRO-3's buffers; ZeRO-1/2's reduce bucket is sourced, not fitted. Each
setting is a stated term (its source in ``finetune_evidence.SETTING_TERMS``): ``optimizer``, ``checkpointing`` (none /
standard / offload), ``loss`` (standard / fused / chunked), ``attention`` (flash / sdpa / eager), the base's precision
(the method, ``double_quant``), ``zero_stage`` with ``offload``, and ``packing``.

Compute: forward = 2 x (matmul parameters) + attention per token; backward = 2 x forward when weights
train, about 1 x forward when they are frozen (LoRA still back-propagates through every frozen layer);
checkpointing adds one more forward. So LoRA saves roughly a third of the compute, not 99%.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field
from types import SimpleNamespace

import pandas as pd

from qwen_lessons import models
from qwen_lessons.catalog import context_limit
from qwen_lessons.data import read_table
from qwen_lessons.models import Checkpoint
from qwen_lessons.hardware import TRAINING_DEVICE, memory_gib
from qwen_lessons.units import GB, GIB
from qwen_lessons import validation
from qwen_lessons.validation import checked

METHODS = ("full", "full-bf16", "freeze", "lora", "qlora-4bit", "qlora-8bit")
METHOD_LABELS = {
    "full": "Full (mixed-precision AdamW)",
    "full-bf16": "Full (pure bf16)",
    "freeze": "Freeze (last layers train)",
    "lora": "LoRA",
    "qlora-4bit": "QLoRA 4-bit",
    "qlora-8bit": "QLoRA 8-bit",
}
ADAPTER_METHODS = ("lora", "qlora-4bit", "qlora-8bit")
# target_modules=None means PEFT's default for the checkpoint's decoder family (data/lora_default_targets.csv):
# LoraConfig(target_modules=None) looks the config's model_type up in PEFT's mapping (qwen2, qwen3 -> q_proj v_proj)
DEFAULT_TARGETS = None
DEFAULT_TARGETS_FILE = "lora_default_targets.csv"
ALL_LINEAR = "all-linear"
PARTS = ("weights", "adapters", "gradients", "optimizer", "activations", "overhead")

BF16, FP32 = 2, 4
NF4_DOUBLE_QUANT_BITS = 4 + 8 / 64 + 32 / (64 * 256)  # 4-bit codes + 8-bit block scales + fp32 second level
INT8_BITS = 8
LOGITS_BYTES = BF16 + FP32 + FP32 + FP32
# The two fitted constants, per GPU. finetune_evidence.fit_constants() derives them from the Qwen-1 profile ONLY (every
# sample padded to the stated length, so each step's tokens are known); data/finetune_measurements.csv only judges.
# A test recomputes the fit and fails if these literals drift from it.
DEFAULT_OVERHEAD_GIB = 2.0  # CUDA context, allocator slack and kernels' workspaces: median residual, one-GPU rows
ZERO_BUFFER_GIB = 3.1  # DeepSpeed ZeRO-3's buffers on each GPU of a multi-GPU run: median residual (see below)
FIT_TABLE = "Qwen-1 finetune profile"  # the only publication the constants are fitted on
# ZeRO stages 1 and 2: SOURCED, not fitted, and added AFTER the judged errors had been seen (data/README.md says so; the
# judged rows no longer judge this term blind). ZeRO_BUFFER_GIB is fitted on the profile's ZeRO runs (six ZeRO-2 LoRA
# rows, nine ZeRO-3 rows) and now applies to stage 3 only. At stages 1 and 2 DeepSpeed allocates, on every backward, one
# contiguous reduce bucket of reduce_bucket_size elements in the optimizer's 16-bit dtype (two when overlap_comm):
# deepspeedai/DeepSpeed@edaa722 deepspeed/runtime/zero/stage_1_and_2.py setup_buckets. allgather_bucket_size allocates
# nothing: the updated partitions are gathered into the flat bf16 weights in place (runtime/utils.py
# all_gather_dp_groups: all_gather_into_tensor, or narrow() views of the partitions).
ZERO12_REDUCE_BUCKET_ELEMENTS = 200_000_000  # modelscope/ms-swift@3602360 swift/config/zero1.json, zero2.json: 2e8
ZERO12_REDUCE_BUCKETS = 1  # the same files: overlap_comm false, so no second (double) buffer
ZERO12_BUFFER_GIB = ZERO12_REDUCE_BUCKET_ELEMENTS * BF16 * ZERO12_REDUCE_BUCKETS / GIB  # 0.37 GiB
# Share of the GPU's dense bf16 peak a training run reaches, per framework: what training_hours assumes.
# transformers (Qwen-1's scripts: Trainer + PEFT + DeepSpeed, A100): fitted on the same profile as the memory constants,
# the median share its one-GPU s/it imply at >= 1,024 tokens, to one decimal (finetune_evidence.fit_utilisation; a test
# refits it). ms-swift trains through transformers' Trainer and is NOT fitted: it assumes the same share, and its
# published step times only judge it (finetune_evidence.compare_time).
UTILISATION_BY_FRAMEWORK = {"transformers": 0.4, "ms-swift": 0.4}
FRAMEWORKS = tuple(UTILISATION_BY_FRAMEWORK)
DEFAULT_UTILISATION = UTILISATION_BY_FRAMEWORK["transformers"]
SCENARIO_EXAMPLES = (5_000, 20_000, 50_000)

# ---- the settings people use, each a stated term (finetune_evidence.SETTING_TERMS names each source)
# the kinds live with their rules in the validation layer, which checks every public function's arguments
OPTIMIZERS = validation.FINETUNE_OPTIMIZERS
CHECKPOINTING = validation.FINETUNE_CHECKPOINTING
LOSSES = validation.FINETUNE_LOSSES
ATTENTIONS = validation.FINETUNE_ATTENTIONS
OFFLOADS = validation.FINETUNE_OFFLOADS
BNB_BLOCKSIZE = 256  # bitsandbytes 8-bit optimizer: one fp32 absmax per 256 states (blockwise quantisation)
NF4_BITS = 4 + 32 / 64  # NF4 without double quantisation: 4-bit codes + one fp32 absmax per 64 weights



# ---------------------------------------------------------------- layer shapes, from the one checkpoint description


@checked
def linear_layers(model_id) -> dict[str, tuple[int, int, int]]:
    """Each decoder layer's linear modules as PEFT names them: name -> (in_features, out_features, copies per layer)."""
    ckpt = models.resolve(model_id, memory_modelled=True)
    return {m.module: (m.in_features, m.out_features, m.copies) for m in ckpt.decoder_matrices}


@checked
def default_targets(model_id) -> tuple[str, ...]:
    """The modules LoRA adapts when target_modules is not given: PEFT's default for the checkpoint's decoder family,
    or, where PEFT has none and would ask for target_modules, the course's stated choice (its `basis` column)."""
    ckpt = models.resolve(model_id, memory_modelled=True)
    table = read_table(DEFAULT_TARGETS_FILE).set_index("architecture")
    if ckpt["architecture"] in table.index:
        return tuple(table.at[ckpt["architecture"], "target_modules"].split())
    # a family added to architectures.csv only: the course's rule for families PEFT has no entry for (the `course`
    # rows state it), so a new row reaches every calculator with no code change
    names = {name.split(".")[-1] for name in linear_layers(ckpt)}
    if {"q_proj", "v_proj"} <= names:
        return ("q_proj", "v_proj")
    raise ValueError(f"{ckpt.model_id} ({ckpt['architecture']}) has no default LoRA targets in "
                     f"data/{DEFAULT_TARGETS_FILE} and no q_proj/v_proj; pass target_modules, e.g. '{ALL_LINEAR}'")


def _matched_layers(ckpt: Checkpoint, target_modules) -> dict[str, tuple[int, int, int]]:
    """The linear modules a LoRA target list selects, matched like PEFT: by the last name component."""
    layers = linear_layers(ckpt)
    model_id = ckpt.model_id
    if target_modules is None:
        target_modules = default_targets(ckpt)
    if isinstance(target_modules, str):
        target_modules = (target_modules,)
    if not isinstance(target_modules, list | tuple) or not all(isinstance(t, str) for t in target_modules):
        raise ValueError(f"target_modules must be a module name, a list of names or '{ALL_LINEAR}', got "
                         f"{target_modules!r}")
    targets = tuple(target_modules)
    if not targets:
        raise ValueError("target_modules must name at least one linear module (or be 'all-linear')")
    if ALL_LINEAR in targets:
        return layers
    valid = sorted({name.split(".")[-1] for name in layers})
    unknown = [t for t in targets if t not in valid]
    if unknown:
        raise ValueError(f"target_modules {unknown} do not exist in {model_id}; valid names: {', '.join(valid)} "
                         f"or '{ALL_LINEAR}'")
    return {name: shape for name, shape in layers.items() if name.split(".")[-1] in targets}


@checked
def lora_trainable_params(model_id, rank: int, target_modules=DEFAULT_TARGETS) -> int:
    """Exact LoRA parameter count: sum over the targeted matrices of rank x (in + out) x copies x layers holding it.

    target_modules=None adapts what PEFT adapts by default for the checkpoint's family (`default_targets`)."""
    if isinstance(rank, bool) or not isinstance(rank, int) or rank < 1:
        raise ValueError(f"rank must be a positive integer, got {rank!r}")
    ckpt = models.resolve(model_id, memory_modelled=True)
    matched = _matched_layers(ckpt, target_modules)
    name, (fan_in, fan_out, _) = min(matched.items(), key=lambda item: min(item[1][:2]))
    if rank > min(fan_in, fan_out):
        raise ValueError(f"rank {rank} is larger than the layer it adapts: {name} is {fan_in} x {fan_out}, "
                         f"so rank must be at most {min(fan_in, fan_out)}")
    # each matrix counts in the layers that hold it: a hybrid's q_proj sits only in its softmax-attention layers
    return sum(rank * (m.in_features + m.out_features) * m.copies * m.layers
               for m in ckpt.decoder_matrices if m.module in matched)


@checked
def matmul_params(model_id) -> int:
    """Parameters each token multiplies through: decoder linears (active experts only) plus the output head."""
    ckpt = models.resolve(model_id, memory_modelled=True)
    return sum(m.active_weights for m in ckpt.decoder_matrices) + ckpt["vocab_size"] * ckpt["hidden_size"]


# ---------------------------------------------------------------- memory


@dataclass(frozen=True)
class TrainingMemory:
    """Training memory per GPU in bytes, by part; ``total_gib`` is what each GPU must hold."""

    model_id: str
    method: str
    weights: float
    adapters: float
    gradients: float
    optimizer: float
    activations: float
    overhead: float
    total_params: int
    trainable_params: int
    n_gpus: int = 1
    settings: dict = field(default_factory=dict)

    @property
    def total_bytes(self) -> float:
        """Sum of all parts on one GPU, in bytes."""
        return sum(getattr(self, part) for part in PARTS)

    @property
    def total_gib(self) -> float:
        """Memory one GPU needs, in GiB."""
        return self.total_bytes / GIB

    @property
    def total_gb(self) -> float:
        """Memory one GPU needs, in GB (10^9 bytes)."""
        return self.total_bytes / GB

    @property
    def all_gpus_gib(self) -> float:
        """Memory summed over all GPUs, in GiB (how Qwen's profile table reports multi-GPU runs)."""
        return self.total_gib * self.n_gpus

    def parts_gib(self) -> dict[str, float]:
        """Each part on one GPU, in GiB, in a fixed order."""
        return {part: getattr(self, part) / GIB for part in PARTS}


@checked
def layer_activation_bytes(model_id) -> int:
    """Bytes one decoder layer saves for backward per token (bf16, FlashAttention, no dropout); for a hybrid model
    (softmax and linear attention), the mean over its layers."""
    a = models.resolve(model_id, memory_modelled=True)
    h, hd = a["hidden_size"], a["head_dim"]
    q, kv = a["num_attention_heads"] * hd, a["num_key_value_heads"] * hd
    norms = 2 * (FP32 + BF16) * h
    attention = BF16 * (q + 2 * kv) + BF16 * (q + kv) + BF16 * q  # projections, rotary outputs, attention output
    if a["qk_norm"]:
        attention += (FP32 + BF16) * (q + kv)
    if a["attention_output_gate"]:
        attention += 2 * BF16 * q  # the gate's projection and its sigmoid
    if a["num_experts"]:
        mlp = 4 * BF16 * a["num_experts_per_tok"] * a["moe_intermediate_size"] + FP32 * a["num_experts"]
        mlp += 4 * BF16 * a["shared_expert_intermediate_size"]
    else:
        mlp = 4 * BF16 * a["intermediate_size"]  # gate, up, activation(gate), product
    if not a.linear_layers:
        return norms + attention + mlp
    # Gated DeltaNet layers save their projections, the convolution's output (16-bit and the fp32 copy the delta
    # rule uses) and the gated norm's input; the mean over the layers is what one layer saves on average
    key_dim = a["linear_num_key_heads"] * a["linear_key_head_dim"]
    value_dim = a["linear_num_value_heads"] * a["linear_value_head_dim"]
    linear = (BF16 * (2 * key_dim + 2 * value_dim + 2 * a["linear_num_value_heads"])
              + (BF16 + FP32) * (2 * key_dim + value_dim) + (FP32 + BF16) * value_dim + BF16 * value_dim)
    mixers = (a.kv_layers * attention + a.linear_layers * linear) // a["num_hidden_layers"]
    return norms + mixers + mlp


@checked
def checkpointing_kind(checkpointing) -> str:
    """'none', 'standard' or 'offload' from a kind or today's True / False (True is 'standard')."""
    if isinstance(checkpointing, bool):
        return "standard" if checkpointing else "none"
    return checkpointing


@checked(tokens=validation.integer(1, 10**12, "tokens"))
def loss_chunk_tokens(model_id, tokens: int) -> int:
    """Tokens whose logits a fused/chunked loss holds at once: Liger's next_power_of_2(cdiv(tokens, cdiv(V, H)))."""
    a = models.resolve(model_id, memory_modelled=True)
    inc_factor = -(-a["vocab_size"] // a["hidden_size"])
    chunk = -(-tokens // inc_factor)
    return min(tokens, 1 << (chunk - 1).bit_length())


@checked
def activation_bytes(model_id, seq_len: int, micro_batch: int, checkpointing: bool | str,
                     fused_loss: bool = False, *, loss: str = "standard", attention: str = "flash") -> float:
    """Activation memory of one micro-batch, in bytes: saved layer tensors plus the loss's logits.

    checkpointing: 'none' (or False), 'standard' (or True), 'offload'; loss: 'standard', 'fused' or 'chunked'
    (fused_loss=True is 'fused'); attention: 'flash', 'sdpa' or 'eager' (see finetune_evidence.SETTING_TERMS)."""
    a = models.resolve(model_id, memory_modelled=True)
    tokens = seq_len * micro_batch
    kind = checkpointing_kind(checkpointing)
    # beyond the projections, a softmax-attention layer saves FlashAttention's (and SDPA's) fp32 log-sum-exp per
    # head, or, eager, the whole softmax per query: fp32 and its bf16 copy; averaged over a hybrid's layers
    per_head = FP32 if attention in ("flash", "sdpa") else (FP32 + BF16) * seq_len
    per_layer = (layer_activation_bytes(a)
                 + per_head * a["num_attention_heads"] * a.kv_layers / a["num_hidden_layers"])
    layer_input = BF16 * a["hidden_size"]
    if kind == "standard":
        layers = a["num_hidden_layers"] * layer_input + per_layer
    elif kind == "offload":
        layers = layer_input + per_layer  # the other layers' inputs wait in CPU RAM
    else:
        layers = a["num_hidden_layers"] * per_layer
    if ("fused" if fused_loss else loss) == "standard":
        logits = tokens * LOGITS_BYTES * a["vocab_size"]
    else:
        logits = loss_chunk_tokens(a, tokens) * BF16 * a["vocab_size"] + tokens * BF16 * a["hidden_size"]
    return tokens * layers + logits


def _optimizer_state_bytes(a: Checkpoint, method: str, optimizer: str, trainable: int, rank: int,
                           target_modules, train_embeddings: bool, trainable_layers: int) -> float:
    """Bytes of the optimizer's states (not the fp32 master copy) for the trainable parameters."""
    state = BF16 if method == "full-bf16" else FP32
    if optimizer == "adamw":
        return 2 * state * trainable
    if optimizer in ("adamw_8bit", "paged_adamw_8bit"):
        return trainable * 2 * (1 + FP32 / BNB_BLOCKSIZE)
    # Adafactor: fp32 row and column factors per matrix; vectors (norms, biases) keep a full second moment
    if method in ADAPTER_METHODS:
        matched = _matched_layers(a, target_modules)
        factors = sum((2 * rank + m.in_features + m.out_features) * m.copies * m.layers
                      for m in a.decoder_matrices if m.module in matched)
        if train_embeddings:
            factors += 2 * (a["vocab_size"] + a["hidden_size"])
        return FP32 * factors
    factors = sum((m.in_features + m.out_features) * m.copies * m.layers for m in a.decoder_matrices)
    groups = models.parameter_groups(a)
    if method == "freeze":  # the trainable layers' share of the factors; their norms and biases in full
        share = trainable_layers / a["num_hidden_layers"]
        return FP32 * (share * factors + max(trainable - share * groups["linear"], 0))
    factors += (a["vocab_size"] + a["hidden_size"]) * (2 if groups["lm_head"] else 1)
    return FP32 * (factors + groups["other"])


def _gathered_module_bytes(a: Checkpoint) -> float:
    """ZeRO-3's working set: the largest module it gathers whole, in bf16 (a decoder layer or the output head)."""
    groups = models.parameter_groups(a)
    layer = (groups["linear"] + groups["other"]) / a["num_hidden_layers"]
    head = groups["lm_head"] or groups["embedding"]
    return BF16 * max(layer, head)


def _zero_buffer_gib(zero_stage: int, n_gpus: int) -> float:
    """DeepSpeed's communication buffers per GPU: none on one GPU or without ZeRO, the sourced reduce bucket at stages
    1 and 2 (ZERO12_BUFFER_GIB), the fitted ZERO_BUFFER_GIB at stage 3."""
    if zero_stage == 0 or n_gpus == 1:
        return 0.0
    return ZERO_BUFFER_GIB if zero_stage == 3 else ZERO12_BUFFER_GIB


@checked
def training_memory(model_id, method: str, *, rank: int = 16, target_modules=DEFAULT_TARGETS,
                    seq_len: int = 1024, micro_batch: int = 1, checkpointing: bool | str = True,
                    train_embeddings: bool = False, trainable_layers: int = 2, n_gpus: int = 1,
                    zero_stage: int = 0, fused_loss: bool = False,
                    overhead_gib: float = DEFAULT_OVERHEAD_GIB, optimizer: str = "adamw", loss: str = "standard",
                    attention: str = "flash", offload: str = "none", packing: bool = False,
                    double_quant: bool = True) -> TrainingMemory:
    """GPU memory to fine-tune model_id with method, per GPU, as a breakdown (see the module conventions).

    optimizer: adamw, adamw_8bit, paged_adamw_8bit, adafactor; checkpointing: none/standard/offload (or
    False/True); loss: standard, fused, chunked (fused_loss=True is fused); attention: flash, sdpa, eager;
    offload: none, optimizer, optimizer+parameters (ZeRO stage 3 only); packing: recorded, no change to the
    peak; double_quant: NF4 with double quantisation (qlora-4bit). finetune_evidence.SETTING_TERMS: sources."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    a = models.resolve(model_id, memory_modelled=True)
    model_id = a.model_id
    validation.integer(1, a["num_hidden_layers"], "layers")("trainable_layers", trainable_layers)
    limit = context_limit(a)
    if limit is not None and seq_len > limit:
        raise ValueError(f"seq_len {seq_len} is longer than {model_id}'s context of {limit} tokens")
    if offload != "none" and zero_stage == 0:
        raise ValueError(f"offload {offload!r} needs DeepSpeed ZeRO: zero_stage must be 1, 2 or 3 to offload "
                         f"the optimizer (3 to offload the parameters too), got zero_stage=0")
    if offload == "optimizer+parameters" and zero_stage != 3:
        raise ValueError(f"offload 'optimizer+parameters' needs zero_stage=3 (DeepSpeed offloads parameters only "
                         f"at stage 3), got zero_stage={zero_stage}")

    loss = "fused" if fused_loss else loss  # today's flag asks for the fused kernel
    groups = models.parameter_groups(a)
    params = sum(groups.values())
    weights = adapters = gradients = master = 0.0
    if method == "full":
        trainable = params
        weights, gradients, master = BF16 * params, FP32 * params, FP32 * params
    elif method == "full-bf16":
        trainable = params
        weights, gradients = BF16 * params, BF16 * params
    elif method == "freeze":
        per_layer = (groups["linear"] + groups["other"] - a["hidden_size"]) // a["num_hidden_layers"]
        trainable = trainable_layers * per_layer
        weights = BF16 * (params - trainable) + FP32 * trainable
        gradients = FP32 * trainable
    else:
        trainable = lora_trainable_params(a, rank, target_modules)
        if train_embeddings:
            trainable += groups["embedding"] + groups["lm_head"]  # a trainable full-precision copy of each
        if method == "lora":
            weights = BF16 * params
        else:
            bits = (NF4_DOUBLE_QUANT_BITS if double_quant else NF4_BITS) if method == "qlora-4bit" else INT8_BITS
            weights = groups["linear"] * bits / 8 + BF16 * (params - groups["linear"])
        adapters, gradients = FP32 * trainable, FP32 * trainable
    optimizer_bytes = master + _optimizer_state_bytes(a, method, optimizer, trainable, rank, target_modules,
                                                      train_embeddings, trainable_layers)

    if zero_stage >= 1:
        optimizer_bytes /= n_gpus
    if zero_stage >= 2:
        gradients /= n_gpus
    if zero_stage >= 3:
        weights = weights / n_gpus + _gathered_module_bytes(a)
        adapters /= n_gpus
    if offload != "none":
        # ZeRO-Offload: states, fp32 master weights and the reduced gradients live in CPU RAM
        optimizer_bytes = gradients = 0.0
    if offload == "optimizer+parameters":
        weights = _gathered_module_bytes(a)
    settings = dict(rank=rank if method in ADAPTER_METHODS else None, seq_len=seq_len, micro_batch=micro_batch,
                    checkpointing=checkpointing_kind(checkpointing), zero_stage=zero_stage,
                    train_embeddings=train_embeddings, fused_loss=loss != "standard", optimizer=optimizer, loss=loss,
                    attention=attention, offload=offload, packing=packing,
                    double_quant=double_quant if method == "qlora-4bit" else None)
    return TrainingMemory(
        model_id=model_id, method=method, weights=weights, adapters=adapters, gradients=gradients,
        optimizer=optimizer_bytes,
        activations=activation_bytes(a, seq_len, micro_batch, checkpointing, fused_loss, loss=loss,
                                     attention=attention),
        overhead=(overhead_gib + _zero_buffer_gib(zero_stage, n_gpus)) * GIB,
        total_params=params, trainable_params=trainable, n_gpus=n_gpus, settings=settings)


# ---------------------------------------------------------------- compute and time


@checked(examples=validation.integer(1, 10**9, "examples"))
def training_tokens(examples: int, tokens_per_example: int, epochs: float = 1) -> int:
    """Tokens processed in training: examples x tokens per example x epochs."""
    if not (isinstance(epochs, int | float) and 0 < epochs <= 1000):
        raise ValueError(f"epochs must be > 0 and at most 1000, got {epochs!r}")
    return round(examples * tokens_per_example * epochs)


@checked
def chat_tokens(messages, template: str = "qwen2.5") -> dict:
    """Real Qwen token count of one training chat: all tokens, and the ones supervised fine-tuning learns."""
    from qwen_lessons.tokens import loss_mask

    mask = loss_mask(messages, template)
    return {"tokens": len(mask.ids), "learned": int(sum(mask.learn))}


@checked
def training_flops(model_id, method: str, tokens: float, *, seq_len: int = 1024,
                   checkpointing: bool | str = True, rank: int = 16, target_modules=DEFAULT_TARGETS) -> float:
    """Training FLOPs: matmuls (2 per parameter per token forward) and causal attention, with backward and recompute."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    if isinstance(tokens, bool) or not isinstance(tokens, numbers.Real) or not tokens > 0:
        raise ValueError(f"tokens must be a number > 0, got {tokens!r}")
    a = models.resolve(model_id, memory_modelled=True)
    recompute = 0 if checkpointing_kind(checkpointing) == "none" else 1  # offload recomputes as standard does
    matmul = 2 * matmul_params(a)
    # causal attention: QK^T and AV over an average of seq_len/2 earlier positions
    attention = 2 * 2 * a["num_hidden_layers"] * a["num_attention_heads"] * a["head_dim"] * seq_len / 2
    if method in ("full", "full-bf16"):
        weights_backward = 2.0
    elif method == "freeze":
        share = 2 / a["num_hidden_layers"]  # the trainable layers' weight gradients, roughly
        weights_backward = 1.0 + share
    else:
        weights_backward = 1.0
    adapter = 0.0
    if method in ADAPTER_METHODS:
        adapter = 2 * lora_trainable_params(a, rank, target_modules) * (3 + recompute)
    per_token = matmul * (1 + weights_backward + recompute) + attention * (3 + recompute) + adapter
    return per_token * tokens


@checked
def six_n_rule(model_id, tokens: float) -> float:
    """The classic estimate 6 x parameters x tokens (full fine-tuning, no recompute, attention ignored)."""
    if isinstance(tokens, bool) or not isinstance(tokens, numbers.Real) or not 0 < tokens < 1e18:
        raise ValueError(f"tokens must be a number > 0 and below 1e18, got {tokens!r}")
    return 6 * matmul_params(model_id) * tokens


@checked(gpu_id=TRAINING_DEVICE, framework=validation.optional(validation.one_of(*FRAMEWORKS)))
def training_hours(flops: float, gpu_id: str, *, n_gpus: int = 1,
                   utilisation: float = DEFAULT_UTILISATION, framework: str | None = None) -> float:
    """Wall-clock hours for flops on n_gpus of gpu_id at the given share of their dense bf16 peak.

    framework: 'transformers' or 'ms-swift' takes that framework's stated share from UTILISATION_BY_FRAMEWORK
    (give it or utilisation, not both); the default is transformers' share."""
    from qwen_lessons.hardware import get_gpu

    if isinstance(utilisation, bool) or not isinstance(utilisation, numbers.Real) or not 0 < utilisation <= 1:
        raise ValueError(f"utilisation must be a number in (0, 1], got {utilisation!r}")
    if framework is not None:
        if utilisation != DEFAULT_UTILISATION:
            raise ValueError(f"give framework or utilisation, not both: framework {framework!r} states "
                             f"{UTILISATION_BY_FRAMEWORK[framework]}, utilisation={utilisation!r}")
        utilisation = UTILISATION_BY_FRAMEWORK[framework]
    gpu = get_gpu(gpu_id)
    if not gpu.get("bf16_tflops"):
        raise ValueError(f"gpu_id {gpu_id!r} has no sourced bf16 throughput, so hours cannot be estimated; "
                         f"pick a GPU with a bf16_tflops value")
    return flops / (gpu["bf16_tflops"] * 1e12 * utilisation * n_gpus) / 3600


@checked(examples=validation.sequence(validation.integer(1, 10**9, "examples"), 100), gpu_id=TRAINING_DEVICE)
def data_scenarios(model_id: str, method: str, gpu_id: str, *, tokens_per_example: int = 512,
                   epochs: float = 3, examples=SCENARIO_EXAMPLES, seq_len: int = 1024, rank: int = 16,
                   checkpointing: bool | str = True, utilisation: float = DEFAULT_UTILISATION) -> pd.DataFrame:
    """Tokens, compute and hours for several dataset sizes (5k / 20k / 50k examples by default)."""
    rows = []
    for count in examples:
        tokens = training_tokens(count, tokens_per_example, epochs)
        flops = training_flops(model_id, method, tokens, seq_len=seq_len, checkpointing=checkpointing, rank=rank)
        rows.append({"examples": count, "tokens": tokens, "pflop": flops / 1e15,
                     "six_n_pflop": six_n_rule(model_id, tokens) / 1e15,
                     "hours": training_hours(flops, gpu_id, utilisation=utilisation)})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- published numbers


# ---------------------------------------------------------------- the planner's pure core


@checked(examples=validation.integer(1, 10**9, "examples"), gpu_id=TRAINING_DEVICE)
def plan(model_id, method: str, gpu_id: str, *, rank: int = 16, seq_len: int = 1024, micro_batch: int = 1,
         checkpointing: bool | str = True, examples: int = 20_000, tokens_per_example: int = 512, epochs: float = 3,
         utilisation: float = DEFAULT_UTILISATION, optimizer: str = "adamw", loss: str = "standard",
         attention: str = "flash", n_gpus: int = 1, zero_stage: int = 0, offload: str = "none",
         packing: bool = False) -> SimpleNamespace:
    """Memory breakdown, whether it fits the GPU, and hours for a dataset: the planner widget's pure core."""
    ckpt = models.resolve(model_id, memory_modelled=True)
    memory = training_memory(ckpt, method, target_modules=ALL_LINEAR, rank=rank, seq_len=seq_len, micro_batch=micro_batch,
                             checkpointing=checkpointing, optimizer=optimizer, loss=loss, attention=attention,
                             n_gpus=n_gpus, zero_stage=zero_stage,
                             offload=offload, packing=packing)
    capacity = memory_gib(gpu_id)
    tokens = training_tokens(examples, tokens_per_example, epochs)
    flops = training_flops(ckpt, method, tokens, seq_len=seq_len, checkpointing=checkpointing, rank=rank,
                           target_modules=ALL_LINEAR)
    try:
        hours = training_hours(flops, gpu_id, n_gpus=n_gpus, utilisation=utilisation)
    except ValueError:
        hours = None
    return SimpleNamespace(memory=memory, capacity_gib=capacity, fits=memory.total_gib <= capacity,
                           tokens=tokens, flops=flops, hours=hours, gpu_id=gpu_id, utilisation=utilisation)
