"""Write tiny Hugging Face model directories for tests: configs of our own, and
safetensors files of a few KB (header plus zero bytes), never any downloaded model."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

ITEM = {"F32": 4, "F16": 2, "BF16": 2, "I32": 4, "U8": 1, "I8": 1, "F8_E4M3": 1}


def write_safetensors(path: Path, tensors: dict[str, tuple[str, list[int]]]) -> None:
    header: dict[str, Any] = {"__metadata__": {"format": "pt"}}
    offset = 0
    for name, (dtype, shape) in tensors.items():
        size = ITEM[dtype]
        for dim in shape:
            size *= dim
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + size]}
        offset += size
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + b"\0" * offset)


QWEN_CONFIG: dict[str, Any] = {
    "architectures": ["Qwen2VLForConditionalGeneration"],
    "model_type": "qwen2_vl",
    "torch_dtype": "bfloat16",
    "transformers_version": "4.45.0",
    "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
    "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 320,
    "max_position_embeddings": 4096, "tie_word_embeddings": False,
    "vision_config": {"depth": 2, "embed_dim": 32, "num_heads": 2, "patch_size": 14,
                      "spatial_merge_size": 2, "model_type": "qwen2_vl"},
}
QWEN_PREPROCESSOR = {"min_pixels": 3136, "max_pixels": 12845056, "patch_size": 14,
                     "merge_size": 2, "temporal_patch_size": 2}
# vision: 2x(32x32) + 32 = 2080; projector: 64x128 = 8192;
# language: 320x64 (embed) + 2x(64x64) (layers) + 320x64 (head) = 49152
QWEN_TENSORS = {
    "visual.blocks.0.attn.qkv.weight": ("BF16", [32, 32]),
    "visual.blocks.1.attn.qkv.weight": ("BF16", [32, 32]),
    "visual.patch_embed.proj.bias": ("BF16", [32]),
    "visual.merger.mlp.0.weight": ("BF16", [64, 128]),
    "model.embed_tokens.weight": ("BF16", [320, 64]),
    "model.layers.0.self_attn.q_proj.weight": ("BF16", [64, 64]),
    "model.layers.1.self_attn.q_proj.weight": ("BF16", [64, 64]),
    "lm_head.weight": ("BF16", [320, 64]),
}

REMOTE_CODE = '''"""A remote-code model of our own, for vlmdoctor's tests (never imported by it)."""
from transformers import PreTrainedModel
from transformers.modeling_utils import SomeNameTransformersRemoved  # noqa: F401


class AcmeVLModel(PreTrainedModel):
    config_class = None
'''


def write_model(root: Path, config: dict[str, Any], tensors: dict[str, tuple[str, list[int]]],
                preprocessor: dict[str, Any] | None = None,
                code: dict[str, str] | None = None, shards: int = 1) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "config.json").write_text(json.dumps(config, indent=2))
    if preprocessor is not None:
        (root / "preprocessor_config.json").write_text(json.dumps(preprocessor, indent=2))
    for name, text in (code or {}).items():
        (root / name).write_text(text)
    if shards == 1:
        write_safetensors(root / "model.safetensors", tensors)
        return root
    names = list(tensors)
    weight_map = {}
    for i in range(shards):
        part = names[i::shards]
        file = f"model-{i + 1:05d}-of-{shards:05d}.safetensors"
        write_safetensors(root / file, {n: tensors[n] for n in part})
        weight_map.update({n: file for n in part})
    (root / "model.safetensors.index.json").write_text(
        json.dumps({"metadata": {}, "weight_map": weight_map}, indent=2))
    return root


def write_cache(cache: Path, repo_id: str, revision: str, **kw: Any) -> Path:
    """A repo laid out as huggingface_hub caches it (snapshot files, refs/main)."""
    repo = cache / ("models--" + repo_id.replace("/", "--"))
    (repo / "refs").mkdir(parents=True, exist_ok=True)
    (repo / "refs" / "main").write_text(revision)
    return write_model(repo / "snapshots" / revision, **kw)
