"""Type checks on a model's config before it is interpreted: a confused section is an
input error naming the field, never a guess or a crash further on.

Only the sections and strings the readers interpret are checked (wherever they sit: top
level or a nested ``*_config``); unknown keys are the model's business, and numbers are
judged where they are read (modelfiles.config and images: absurd sizes are input errors,
values of another shape are unknown).
"""

from __future__ import annotations

from typing import Any

from vlmdoctor.errors import InputError
from vlmdoctor.snapshot import MAX_VERSION

SECTIONS = frozenset({
    "text_config", "vision_config", "quantization_config", "auto_map", "llm_config",
    "language_config", "text_model_config", "vision_encoder_config", "vision_tower_config",
    "compression_config"})
STRINGS = frozenset({"model_type", "torch_dtype", "dtype", "quant_method",
                     "transformers_version", "_name_or_path"})


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
    return None
