"""Every number the planner assumes, each with its source (see docs/planner.md)."""

from __future__ import annotations

MIB = 1 << 20
GIB = 1 << 30

# Plan dtypes. fp32/fp16/bf16 store weights at 4/2/2 bytes; accelerate's
# `estimate-memory` uses exactly these ratios (facts G.1; accelerate
# docs/source/usage_guides/model_size_estimator.md).
DTYPES = ("bf16", "fp16", "fp32", "int8", "int4")
FLOAT_BYTES = {"fp32": 4.0, "fp16": 2.0, "bf16": 2.0}

# bitsandbytes LLM.int8(): int8 weight plus one fp32 scale per output row, so
# 1 + 4/in_features bytes per parameter (facts G.1; bitsandbytes nn/modules.py).
INT8_BYTES = 1.0
INT8_ROW_SCALE_BYTES = 4
# bitsandbytes 4-bit (NF4/FP4): 0.5 byte per weight plus an fp32 absmax per block
# of 64 (Params4bit blocksize=64): 0.5 + 4/64 = 0.5625 B/param. transformers'
# BitsAndBytesConfig leaves double quantisation off by default (facts G.1, B.6).
INT4_BYTES = 0.5 + 4 / 64

# bitsandbytes needs compute capability >= 7.5 for LLM.int8() inference and
# >= 6.0 for 4-bit (facts B.6; bitsandbytes docs/source/installation.mdx).
MIN_CC_INT8 = (7, 5)
MIN_CC_INT4 = (6, 0)
# bf16 is native from sm_80 (facts B.4).
MIN_CC_BF16 = (8, 0)

# CUDA context per GPU a process initialises. With lazy module loading (default
# since torch 1.13 / CUDA 11.7) PyTorch measured 274 MiB; a maintainer quotes
# 300-400 MB; eager loading is ~636 MiB (facts G.4; pytorch PR #86509, issues
# #107667, #109888). We take the top of the lazy range.
CUDA_CONTEXT_BYTES = 400 * MIB

# Caching-allocator slack on top of what tensors occupy: block rounding and
# fragmentation make reserved memory exceed allocated memory. No published
# figure exists; 5% of the GPU's allocated bytes is vlmdoctor's own choice,
# kept under the 10% buffer transformers/accelerate hold back for activations
# (accelerate utils/modeling.py get_balanced_memory: "max_memory[key] *= 0.9").
ALLOCATOR_MARGIN = 0.05

# Less than this fraction of a GPU left free is "low headroom" (plan-low-headroom):
# the same 10% transformers/accelerate reserve by default (see above).
LOW_HEADROOM = 0.10

# Logits during prefill: HF causal-LM heads of the transformers 4.3x-4.4x era
# (the versions these VLMs pin) compute logits for every prompt position and then
# call `logits.float()`, so each prompt token holds vocab x (dtype bytes + 4) bytes.
# This reproduces the Qwen2-VL README's memory slope (~0.9 MB per prompt token for
# a 152k vocabulary); see docs/planner.md "Activations". Newer transformers keep
# only the last position (`logits_to_keep`), so for them this term is an upper bound.
LOGITS_UPCAST_BYTES = 4

# Live activations inside one decoder layer per token, in units of elements:
# residual + normed input (2 x hidden) + the SwiGLU MLP's gate, up and gate*up
# (3 x intermediate). Attention is assumed memory-efficient (SDPA/flash); eager
# attention adds heads x T^2 (noted, not counted).
DECODER_HIDDEN_COPIES = 2
DECODER_MLP_COPIES = 3
# One ViT block per patch: residual + LN output (2 x width) + fc1 output and its
# activation (2 x 4 x width, the ViT MLP ratio 4 of CLIP ViT-L, InternViT-6B and
# Qwen2-VL's ViT).
VIT_HIDDEN_COPIES = 2
VIT_MLP_RATIO = 4
VIT_MLP_COPIES = 2

# Pixels per ViT patch (14 x 14) for the patch-14 towers of every family here
# (CLIP ViT-L/14, InternViT-6B/14, Qwen2-VL patch_size 14).
PATCH_PIXELS = 14 * 14

# Defaults the CLI uses when the user does not say.
DEFAULT_CONTEXT = 4096
DEFAULT_IMAGES = 1
