"""Type checks on a model's config before it is interpreted: a confused section is an
input error naming the field, never a guess or a crash further on.

Only keys the readers interpret are checked (wherever they sit: top level or a nested
``*_config``); unknown keys are the model's business. Numbers are bounded so that sizes
computed from them stay real (no 10**60 hidden size, no 1e308 layers).
"""

from __future__ import annotations

import math
from typing import Any

from vlmdoctor.errors import InputError
from vlmdoctor.snapshot import MAX_VERSION

MAX_DIMENSION = 1 << 40
SECTIONS = frozenset({
    "text_config", "vision_config", "quantization_config", "auto_map", "llm_config",
    "language_config", "text_model_config", "vision_encoder_config", "vision_tower_config",
    "compression_config"})
STRINGS = frozenset({"model_type", "torch_dtype", "dtype", "quant_method",
                     "transformers_version", "_name_or_path"})
NUMBERS = frozenset({
    "d_model", "depth", "embed_dim", "ffn_dim", "head_dim", "hidden_size", "image_seq_length",
    "image_size", "intermediate_size", "lm_layers", "max_position_embeddings", "merge_size",
    "multi_query_group_num", "n_embd", "n_head", "n_layer", "n_routed_experts",
    "num_attention_heads", "num_crops", "num_experts", "num_heads", "num_hidden_layers",
    "num_key_value_heads", "num_kv_heads", "num_layers", "num_local_experts", "patch_size",
    "seq_length", "spatial_merge_size", "vision_heads", "vision_hidden_size", "vision_layers",
    "vocab_size", "max_dynamic_patch", "max_pixels", "min_pixels", "longest_edge",
    "shortest_edge", "height", "width"})


def check_config(data: dict[str, Any], shown: str) -> None:
    """Raise ``InputError`` naming the first field whose type the readers cannot use."""
    stack: list[tuple[dict[str, Any], str]] = [(data, "")]
    while stack:
        obj, where = stack.pop()
        for key, value in obj.items():
            name = f"{where}.{key}" if where else key
            problem = _problem(key, value)
            if problem:
                raise InputError(f"{shown}: {name}: expected {problem}")
            if isinstance(value, dict):
                stack.append((value, name))


def _problem(key: str, value: Any) -> str | None:
    if value is None:
        return None
    if key in SECTIONS and not isinstance(value, dict):
        return "an object"
    if key == "architectures" and not (
            isinstance(value, list) and all(isinstance(v, str) for v in value)):
        return "a list of class names"
    if key in STRINGS and not isinstance(value, str):
        return "a string"
    if key == "transformers_version" and len(value) > MAX_VERSION:
        return f"a version of at most {MAX_VERSION} characters"
    if key in NUMBERS and not _numbers(value):
        return f"a number from 0 to {MAX_DIMENSION} (or a list or object of them)"
    return None


def _numbers(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return math.isfinite(value) and 0 <= value <= MAX_DIMENSION
    if isinstance(value, list):
        return all(_numbers(v) for v in value[:16]) and len(value) <= 16
    if isinstance(value, dict):
        return all(_numbers(v) for v in list(value.values())[:16]) and len(value) <= 16
    return False
