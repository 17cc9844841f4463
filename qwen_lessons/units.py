"""Units and the one formula every lesson shares: bytes of weights from parameters and bits."""

from __future__ import annotations
from qwen_lessons.validation import checked

GIB = 2**30  # bytes in a GiB; Qwen's published memory tables use GiB
GB = 10**9  # bytes in a GB, as GPU vendors quote memory

@checked
def weights_gib(params_billion: float, bits_per_param: float) -> float:
    """Memory for the weights alone, in GiB: parameters x bits / 8."""
    if not params_billion > 0:
        raise ValueError(f"params_billion must be > 0, got {params_billion!r}")
    if not 1 <= bits_per_param <= 32:
        raise ValueError(f"bits_per_param must be between 1 and 32, got {bits_per_param!r}")
    return params_billion * 1e9 * bits_per_param / 8 / GIB
