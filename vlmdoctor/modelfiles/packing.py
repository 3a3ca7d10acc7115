"""Logical parameter counts of quantised checkpoints, from tensor names, dtypes and shapes.

A packed tensor stores several weights per element, and quantisation adds companion
tensors (scales, zero points, index maps) that are not parameters of the model. Per layout:

- AWQ GEMM (AutoAWQ ``WQLinear_GEMM``): ``qweight`` int32 ``[in, out / (32 / bits)]`` packs
  along the output dim; ``qzeros`` int32 and ``scales`` fp16 per group are companions
  (https://github.com/casper-hansen/AutoAWQ/blob/main/awq/modules/linear/gemm.py).
- GPTQ (AutoGPTQ / GPT-QModel ``QuantLinear``): ``qweight`` int32 ``[in / (32 / bits), out]``
  packs along the input dim; ``qzeros``, ``scales`` and ``g_idx`` are companions
  (https://github.com/ModelCloud/GPTQModel/blob/main/gptqmodel/nn_modules/qlinear/__init__.py).
  Either way a ``qweight`` element holds ``32 / bits`` weights.
- bitsandbytes 4-bit (``Params4bit``): ``weight`` uint8 ``[ceil(n / 2), 1]`` holds two 4-bit
  weights per byte, with ``weight.absmax``, ``weight.quant_map``, ``weight.nested_*`` and
  ``weight.quant_state.bitsandbytes__nf4|fp4`` companions; 8-bit (``Int8Params``) keeps
  ``weight`` int8 at full shape with ``SCB`` / ``weight_format`` companions
  (https://github.com/bitsandbytes-foundation/bitsandbytes/blob/main/bitsandbytes/nn/modules.py).
- FP8 (fine-grained / compressed-tensors float8): ``weight`` float8 at full shape, one byte a
  weight, with ``weight_scale`` / ``weight_scale_inv`` / ``input_scale`` companions.
- compressed-tensors pack-quantized: ``weight_packed`` int32 packs ``32 / num_bits``
  weights, with ``weight_scale``, ``weight_zero_point``, ``weight_shape``, ``weight_g_idx``
  (https://github.com/neuralmagic/compressed-tensors/blob/main/src/compressed_tensors/compressors/quantized_compressors/pack_quantized.py).
"""

from __future__ import annotations

from typing import Iterable, Mapping

from vlmdoctor.modelfiles.facts import Scalar
from vlmdoctor.modelfiles.safetensors import TensorInfo

PACKED_SUFFIXES = (".qweight", ".weight_packed")
# Names (last segment) that only ever hold quantisation state next to a packed weight.
COMPANIONS = frozenset({"qzeros", "scales", "g_idx", "SCB", "weight_format", "weight_scale",
                        "weight_scale_inv", "input_scale", "weight_zero_point", "weight_shape",
                        "weight_g_idx", "output_scale", "k_scale", "v_scale"})
BNB_COMPANIONS = ("absmax", "quant_map", "nested_absmax", "nested_quant_map")
INT32_BITS = {"I32": 32, "U32": 32, "I64": 64}


def bits_of(quant: Mapping[str, Scalar]) -> int:
    for key in ("bits", "w_bit", "num_bits", "wbits"):
        value = quant.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value in (2, 3, 4, 8):
            return value
    return 4


def logical_counts(tensors: Iterable[TensorInfo],
                   quant: Mapping[str, Scalar]) -> dict[str, int]:
    """Tensor name -> the number of model parameters it holds (companions left out).

    Without a quantisation config every tensor counts as stored."""
    items = list(tensors)
    if not quant:
        return {t.name: t.count for t in items}
    names = {t.name for t in items}
    bits = bits_of(quant)
    bnb4 = {t.name.split(".quant_state.")[0] for t in items if ".quant_state." in t.name}
    bnb4 |= {t.name.rsplit(".", 1)[0] for t in items
             if t.name.rsplit(".", 1)[-1] in ("absmax", "quant_map")}
    out: dict[str, int] = {}
    for t in items:
        prefix, _, last = t.name.rpartition(".")
        if ".quant_state." in t.name or (last in BNB_COMPANIONS and prefix in bnb4):
            continue
        if last in COMPANIONS and _has_quantised_sibling(prefix, names):
            continue
        if t.name.endswith(PACKED_SUFFIXES) and t.dtype in INT32_BITS:
            out[t.name] = t.count * (INT32_BITS[t.dtype] // bits)
        elif t.name in bnb4 and t.dtype == "U8":
            out[t.name] = t.count * 2
        else:
            out[t.name] = t.count
    return out


def _has_quantised_sibling(prefix: str, names: set[str]) -> bool:
    return any(prefix + s in names for s in (".qweight", ".weight", ".weight_packed"))
