"""What a pre-quantised checkpoint (``quantization_config.quant_method``) needs to load.

``packages``: groups of distributions, one of each group must be installed (the first is
the one to install). ``min_cc``: the lowest compute capability its kernels run on. Each
entry cites where that is stated.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from vlmdoctor.modelfiles.facts import Scalar


@dataclass(frozen=True)
class QuantNeeds:
    method: str
    packages: tuple[tuple[str, ...], ...]
    min_cc: str | None
    why: str
    references: tuple[str, ...]


_BNB_DOC = ("https://github.com/bitsandbytes-foundation/bitsandbytes/blob/main/docs/source/"
            "installation.mdx")
_TF_QUANT = "https://github.com/huggingface/transformers/blob/main/src/transformers/quantizers/"


def needs(quant: Mapping[str, Scalar]) -> QuantNeeds | None:
    method = quant.get("quant_method")
    if method == "bitsandbytes":
        eight = bool(quant.get("load_in_8bit"))
        return QuantNeeds(
            "bitsandbytes", (("bitsandbytes",),), "7.5" if eight else "6.0",
            "bitsandbytes LLM.int8() inference needs compute capability 7.5 (Turing) or newer; "
            "its 4-bit NF4/FP4 kernels need 6.0." if eight else
            "bitsandbytes 4-bit (NF4/FP4) kernels need compute capability 6.0 or newer.",
            (_BNB_DOC, _TF_QUANT + "quantizer_bnb_4bit.py"))
    if method == "awq":
        return QuantNeeds(
            "awq", (("autoawq", "gptqmodel"),), "7.5",
            "AWQ checkpoints load through AutoAWQ's kernels (transformers 4.x) or GPT-QModel's "
            "(transformers 5.x); AutoAWQ states compute capability 7.5 (Turing) or newer.",
            ("https://pypi.org/project/autoawq/", _TF_QUANT + "quantizer_awq.py"))
    if method == "gptq":
        return QuantNeeds(
            "gptq", (("optimum",), ("gptqmodel", "auto-gptq")), None,
            "transformers loads GPTQ checkpoints through optimum and GPT-QModel "
            "(AutoGPTQ in older releases) and refuses without them.",
            ("https://huggingface.co/docs/transformers/main/en/quantization/gptq",
             _TF_QUANT + "quantizer_gptq.py"))
    if method == "fp8":
        return QuantNeeds(
            "fp8", (), "8.9",
            "FP8 matmuls need compute capability 8.9 (Ada, Hopper) or newer; below that "
            "transformers dequantises the checkpoint to bf16 (twice the weight memory, and "
            "no native bf16 below 8.0).",
            (_TF_QUANT + "quantizer_finegrained_fp8.py", "https://developer.nvidia.com/cuda-gpus"))
    if method == "compressed-tensors":
        return QuantNeeds(
            "compressed-tensors", (("compressed-tensors",),), None,
            "transformers reads compressed-tensors checkpoints (llm-compressor output) only "
            "with the compressed-tensors package installed.",
            ("https://huggingface.co/docs/transformers/main/en/quantization/compressed_tensors",
             _TF_QUANT + "quantizer_compressed_tensors.py"))
    return None


def plan_dtype(quant: Mapping[str, Scalar]) -> str | None:
    """The planner's weight precision for a pre-quantised checkpoint's linear layers:
    ``int4`` for 4-bit packings (AWQ, GPTQ, bitsandbytes NF4/FP4), ``int8`` for 8-bit ones
    and FP8 (one byte a weight); None when the layout is not known (plan as stored dtype)."""
    method = quant.get("quant_method")
    if method == "bitsandbytes":
        return "int4" if quant.get("load_in_4bit") else "int8" if quant.get("load_in_8bit") \
            else None
    if method in ("awq", "gptq"):
        bits = quant.get("bits", quant.get("w_bit", 4))
        return {4: "int4", 8: "int8"}.get(bits) if isinstance(bits, int) else None
    if method == "fp8":
        return "int8"
    if method == "compressed-tensors":  # W4A16 / W8A8 / FP8 schemes of llm-compressor
        bits = quant.get("num_bits")
        return {4: "int4", 8: "int8"}.get(bits) if isinstance(bits, int) else None
    return None

