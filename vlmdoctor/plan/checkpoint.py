"""A pre-quantised checkpoint (config.json ``quantization_config``): what it is called and
what its weights weigh.

Its weights weigh what its safetensors headers store, byte for byte: the packed integer or
FP8 tensors, their scales and zero points, and the modules the method left 16-bit
(``ModelFacts.storage_bytes``; ``modelfiles.packing`` names each layout). Only without
headers are they estimated, from the method's bits and group size (``quantised_rate``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from vlmdoctor.modelfiles.facts import ModelFacts, Scalar
from vlmdoctor.modelfiles.packing import bits_of
from vlmdoctor.modelfiles.quant import needs, plan_dtype

# Per group of ``group_size`` input weights of one output column, AWQ GEMM and GPTQ store one
# fp16 scale (``scales`` [in / group, out], 2 bytes) and one zero point packed at ``bits``
# bits (``qzeros`` int32 [in / group, out * bits / 32]). GPTQ's ``g_idx`` (int32 per input
# row, 4 / out_features bytes a weight) is left out: under 0.1 % for out_features >= 4096.
# Sources: https://github.com/casper-hansen/AutoAWQ/blob/main/awq/modules/linear/gemm.py
# (WQLinear_GEMM buffers), https://github.com/ModelCloud/GPTQModel/blob/main/gptqmodel/
# nn_modules/qlinear/__init__.py (BaseQuantLinear buffers).
GROUP_SCALE_BYTES = 2
# Fine-grained FP8 keeps one fp32 ``weight_scale_inv`` per weight_block_size block (FP8Linear:
# ceil(out / rows) x ceil(in / cols)): https://github.com/huggingface/transformers/blob/main/
# src/transformers/integrations/finegrained_fp8.py
FP8_BLOCK_SCALE_BYTES = 4

_NAMES = {"awq": "AWQ", "gptq": "GPTQ", "fp8": "FP8", "bitsandbytes": "bitsandbytes",
          "compressed-tensors": "compressed-tensors"}


@dataclass(frozen=True)
class Checkpoint:
    """What the planner needs of a pre-quantised checkpoint."""

    method: str  # quant_method: awq | gptq | fp8 | compressed-tensors | bitsandbytes | ...
    dtype: str  # the plan precision its packing stores: int4 | int8
    bits: int
    group_size: int | None  # weights per scale; None when per channel or not stated
    label: str  # "AWQ 4-bit (group 128)", "FP8 (128x128 blocks)"
    stored: Mapping[str, int] = field(default_factory=dict)  # component -> header bytes
    not_converted: tuple[str, ...] = ()  # modules_to_not_convert / ignore
    min_cc: str | None = None  # its kernels' minimum compute capability (modelfiles.quant)
    why: str = ""
    # Below this compute capability transformers dequantises it to bf16 on load instead of
    # refusing: FP8 below 8.9 ("We will default to dequantizing the model to bf16",
    # https://github.com/huggingface/transformers/blob/main/src/transformers/quantizers/
    # quantizer_finegrained_fp8.py validate_environment). vLLM runs FP8 there weight-only.
    dequantised_below: str | None = None

    def dequantised_on(self, ccs: tuple[tuple[int, int] | None, ...]) -> bool:
        if not self.dequantised_below:
            return False
        major, _, minor = self.dequantised_below.partition(".")
        return any(cc is not None and cc < (int(major), int(minor or 0)) for cc in ccs)

    @property
    def parts(self) -> str:
        """What its stored weights are made of."""
        if self.method == "bitsandbytes":
            return f"the {self.bits}-bit weights with their quantisation state"
        if self.bits == 8 and self.label.startswith("FP8"):
            return "the FP8 weights with their scales"
        return f"the packed {self.bits}-bit weights with their scales and zero points"

    @property
    def name(self) -> str:
        """The method as its projects write it: AWQ, GPTQ, FP8, compressed-tensors."""
        return _NAMES.get(self.method, self.method)


def _int(value: Scalar) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _group(quant: Mapping[str, Scalar]) -> int | None:
    for key in ("group_size", "q_group_size"):
        value = _int(quant.get(key))
        if value is not None:
            return value if value > 0 else None
    block = quant.get("weight_block_size")
    if isinstance(block, str) and "x" in block:
        rows, _, cols = block.partition("x")
        if rows.isdigit() and cols.isdigit():
            return int(rows) * int(cols)
    return None


def _label(quant: Mapping[str, Scalar], method: str, bits: int, group: int | None) -> str:
    float8 = method == "fp8" or (method == "compressed-tensors" and bits == 8
                                 and quant.get("weights_type") == "float")
    if float8:
        block = quant.get("weight_block_size")
        text = "FP8" + (" (compressed-tensors)" if method != "fp8" else "")
        return text + (f" ({block} blocks)" if isinstance(block, str) else "")
    if method == "bitsandbytes":
        kind = quant.get("bnb_4bit_quant_type")
        return (f"bitsandbytes {str(kind).upper()} 4-bit" if bits == 4 and isinstance(kind, str)
                else f"bitsandbytes {bits}-bit")
    name = _NAMES.get(method, method)
    return f"{name} {bits}-bit" + (f" (group {group})" if group else "")


def checkpoint_of(facts: ModelFacts | None) -> Checkpoint | None:
    """The checkpoint's quantisation, or None when it is not pre-quantised (or its packing is
    one the planner does not know: then it is planned in its stored dtype, as before)."""
    quant = facts.quantization if facts is not None else None
    if not quant:
        return None
    method = str(quant.get("quant_method") or "unknown")
    dtype = plan_dtype(quant)
    if dtype is None and method in ("awq", "gptq", "compressed-tensors") and bits_of(quant) < 4:
        dtype = "int4"  # 2- and 3-bit packings: the plan's smallest precision, as stored
    if dtype is None:
        return None
    if method == "bitsandbytes":
        bits = 4 if dtype == "int4" else 8
    else:
        bits = 8 if method == "fp8" else bits_of(quant)
    group = _group(quant)
    need = needs(quant)
    kept = quant.get("not_converted")
    return Checkpoint(
        method=method, dtype=dtype, bits=bits, group_size=group,
        label=_label(quant, method, bits, group),
        stored=dict(facts.storage_bytes) if facts is not None else {},
        not_converted=tuple(kept.split(",")) if isinstance(kept, str) and kept else (),
        min_cc=need.min_cc if need else None, why=need.why if need else "",
        dequantised_below=need.min_cc if need and method == "fp8" else None)


def quantised_rate(ckpt: Checkpoint, in_features: int | None) -> float:
    """Bytes per quantised weight when no header says: ``bits / 8`` plus the group's scale
    and packed zero point spread over its weights (per channel: over ``in_features``)."""
    weight = ckpt.bits / 8
    if ckpt.method == "fp8":
        return weight + (FP8_BLOCK_SCALE_BYTES / ckpt.group_size if ckpt.group_size else 0.0)
    group = ckpt.group_size or in_features
    return weight + ((GROUP_SCALE_BYTES + weight) / group if group else 0.0)


# vLLM refuses a checkpoint whose method's kernels need a newer GPU, before loading anything,
# with this ValueError (vllm-project/vllm#1488: AWQ on a V100, "Minimum capability: 75").
# AWQ needs 7.5; FP8 runs from 7.5, weight-only (W8A16) through FP8 Marlin below 8.9
# (https://docs.vllm.ai/en/stable/features/quantization/fp8/).
VLLM_MIN_CC = {"awq": (7, 5), "fp8": (7, 5)}
VLLM_REFUSES = ("The quantization method {method} is not supported for the current GPU. "
                "Minimum capability: {need}. Current capability: {have}.")


def vllm_refusal(ckpt: Checkpoint | None, ccs: tuple[tuple[int, int] | None, ...]) -> str:
    """vLLM's start-up error for this checkpoint on GPUs of these capabilities, or ""."""
    need = VLLM_MIN_CC.get(ckpt.method) if ckpt is not None else None
    low = min((cc for cc in ccs if cc is not None), default=None)
    if ckpt is None or need is None or low is None or low >= need:
        return ""
    return VLLM_REFUSES.format(method=ckpt.method, need=need[0] * 10 + need[1],
                               have=low[0] * 10 + low[1])
