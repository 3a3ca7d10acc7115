"""The image token budget from ``preprocessor_config.json`` (and the model config).

Qwen2-VL / Qwen2.5-VL processors carry ``min_pixels`` / ``max_pixels`` (newer releases
also ``size: {shortest_edge, longest_edge}`` in pixels), ``patch_size`` and
``merge_size``: one visual token per (patch_size x merge_size)^2 pixels
(https://github.com/huggingface/transformers/blob/main/src/transformers/models/qwen2_vl/image_processing_qwen2_vl.py).
Fixed-resolution processors (CLIP/SigLIP: ``crop_size`` / ``size``) give ``image_size``.
"""

from __future__ import annotations

from typing import Any, Mapping

from vlmdoctor.modelfiles.facts import Scalar


def _int(value: Any) -> int | None:
    ok = isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2 ** 53
    return value if ok else None


def _edge(value: Any) -> int | None:
    if isinstance(value, Mapping):
        return _int(value.get("height")) or _int(value.get("shortest_edge"))
    return _int(value)


def image_budget(pre: Mapping[str, Any], cfg: Mapping[str, Any]) -> dict[str, Scalar]:
    size: Mapping[str, Any] = pre["size"] if isinstance(pre.get("size"), Mapping) else {}
    vision: Mapping[str, Any] = (cfg["vision_config"]
                                 if isinstance(cfg.get("vision_config"), Mapping) else {})
    out: dict[str, Scalar] = {
        "min_pixels": _int(pre.get("min_pixels")) or _int(size.get("shortest_edge")
                                                          if "longest_edge" in size else None),
        "max_pixels": _int(pre.get("max_pixels")) or _int(size.get("longest_edge")),
        "patch_size": _int(pre.get("patch_size")) or _int(vision.get("patch_size")),
        "merge_size": _int(pre.get("merge_size")) or _int(vision.get("spatial_merge_size")),
        "image_size": _edge(pre.get("crop_size")) or _edge(pre.get("size"))
        or _int(vision.get("image_size")),
        "image_seq_length": _int(pre.get("image_seq_length")) or _int(cfg.get("image_seq_length")),
        "num_crops": _int(pre.get("num_crops")),
        "max_dynamic_patch": _int(cfg.get("max_dynamic_patch")),
    }
    return {k: v for k, v in out.items() if v is not None}
