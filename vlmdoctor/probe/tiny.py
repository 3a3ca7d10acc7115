"""Tiny VLMs with the real architecture of each family transformers ships (runs in the child).

Each builder scales the family's config down to a few MB and returns the config, the
model class and the inputs a processor would have made for one synthetic image: the
right number of image tokens for that image size, plus a few text tokens. No tokenizer,
no processor, no download.
"""

from __future__ import annotations

import re
from typing import Any, Callable

VOCAB, BOS, EOS, PAD = 1024, 1, 2, 0
IMAGE, VIDEO, VISION_START, VISION_END = 1000, 1001, 1002, 1003

# Card family id -> transformers model_type whose architecture the family really uses.
FAMILY_MODEL_TYPES = {
    "llava": "llava", "llava-1.5": "llava", "llava-next": "llava_next",
    "llava-1.6": "llava_next", "qwen2-vl": "qwen2_vl", "qwen2.5-vl": "qwen2_5_vl",
    "qwen2_5-vl": "qwen2_5_vl", "idefics": "idefics3", "idefics3": "idefics3",
    "internvl": "internvl", "internvl2": "internvl", "internvl3": "internvl",
}

Inputs = Callable[[Any, Any, Any], dict[str, Any]]  # (torch, device, dtype) -> generate kwargs
Built = tuple[Any, Any, Inputs]


def version(tf: Any) -> tuple[int, int]:
    found = re.match(r"(\d+)\.(\d+)", str(getattr(tf, "__version__", "")))
    return (int(found.group(1)), int(found.group(2))) if found else (0, 0)


def _image_tokens(tf: Any, count: int) -> list[int]:
    """LLaVA before transformers 4.45 expands one image token itself (legacy merge); from
    then on the processor expands it and the model takes ``image_seq_length`` tokens."""
    return [IMAGE] * (1 if version(tf) < (4, 45) else count)


def _text(layers: int, model_type: str | None = "llama") -> dict[str, Any]:
    out: dict[str, Any] = dict(
        vocab_size=VOCAB, hidden_size=128, intermediate_size=256, num_hidden_layers=layers,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
        bos_token_id=BOS, eos_token_id=EOS, pad_token_id=PAD, tie_word_embeddings=False)
    if model_type:
        out["model_type"] = model_type
    return out


def _vision(**extra: Any) -> dict[str, Any]:
    return dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                num_attention_heads=2, **extra)


def _ids(torch: Any, device: Any, middle: list[int]) -> dict[str, Any]:
    ids = torch.tensor([[BOS, 5, 6, *middle, 7, 8]], device=device)
    return {"input_ids": ids, "attention_mask": torch.ones_like(ids)}


def _image(torch: Any, shape: tuple[int, ...], device: Any, dtype: Any) -> Any:
    """A deterministic synthetic image (a gradient), already normalised to [-1, 1]."""
    count = 1
    for n in shape:
        count *= n
    return torch.linspace(-1.0, 1.0, count).reshape(shape).to(device=device, dtype=dtype)


def llava(tf: Any, layers: int) -> Built:
    clip = dict(model_type="clip_vision_model", image_size=56, patch_size=14,
                projection_dim=32, **_vision())
    cfg = tf.LlavaConfig(vision_config=clip, text_config=_text(layers),
                         image_token_index=IMAGE, image_seq_length=16)
    def inputs(torch: Any, device: Any, dtype: Any) -> dict[str, Any]:
        # (56/14)^2 = 16 patches; the 'default' feature strategy drops CLS: 16 image tokens.
        return {**_ids(torch, device, _image_tokens(tf, 16)),
                "pixel_values": _image(torch, (1, 3, 56, 56), device, dtype)}
    return cfg, tf.LlavaForConditionalGeneration, inputs


def llava_next(tf: Any, layers: int) -> Built:
    clip = dict(model_type="clip_vision_model", image_size=28, patch_size=14,
                projection_dim=32, **_vision())
    cfg = tf.LlavaNextConfig(vision_config=clip, text_config=_text(layers), image_seq_length=10,
                             image_token_index=IMAGE, image_grid_pinpoints=[[28, 28]])
    def inputs(torch: Any, device: Any, dtype: Any) -> dict[str, Any]:
        # anyres with one 28x28 pinpoint: base 2x2 + one 2x2 tile with a newline per row.
        return {**_ids(torch, device, _image_tokens(tf, 10)),
                "pixel_values": _image(torch, (1, 2, 3, 28, 28), device, dtype),
                "image_sizes": torch.tensor([[28, 28]], device=device)}
    return cfg, tf.LlavaNextForConditionalGeneration, inputs


def _qwen(tf: Any, layers: int, config: str, model: str, vision: dict[str, Any]) -> Built:
    text = _text(layers, model_type=None)
    text.update(rope_theta=10000.0, rope_scaling={"type": "mrope", "mrope_section": [4, 6, 6]})
    cfg = getattr(tf, config)(vision_config=vision, image_token_id=IMAGE, video_token_id=VIDEO,
                              vision_start_token_id=VISION_START,
                              vision_end_token_id=VISION_END, **text)
    def inputs(torch: Any, device: Any, dtype: Any) -> dict[str, Any]:
        # A 56x56 image: a 4x4 grid of 14-px patches, merged 2x2 into 4 image tokens.
        return {**_ids(torch, device, [VISION_START, *[IMAGE] * 4, VISION_END]),
                "pixel_values": _image(torch, (16, 3 * 2 * 14 * 14), device, dtype),
                "image_grid_thw": torch.tensor([[1, 4, 4]], device=device)}
    return cfg, getattr(tf, model), inputs


def qwen2_vl(tf: Any, layers: int) -> Built:
    vision = dict(depth=2, embed_dim=32, hidden_size=128, num_heads=2, mlp_ratio=2,
                  patch_size=14, spatial_merge_size=2, temporal_patch_size=2)
    return _qwen(tf, layers, "Qwen2VLConfig", "Qwen2VLForConditionalGeneration", vision)


def qwen2_5_vl(tf: Any, layers: int) -> Built:
    vision = dict(depth=2, hidden_size=32, intermediate_size=64, out_hidden_size=128,
                  num_heads=2, patch_size=14, spatial_merge_size=2, temporal_patch_size=2,
                  window_size=112, fullatt_block_indexes=[1])
    return _qwen(tf, layers, "Qwen2_5_VLConfig", "Qwen2_5_VLForConditionalGeneration", vision)


def idefics3(tf: Any, layers: int) -> Built:
    cfg = tf.Idefics3Config(vision_config=_vision(image_size=56, patch_size=14),
                            text_config=_text(layers), image_token_id=IMAGE, scale_factor=2)
    def inputs(torch: Any, device: Any, dtype: Any) -> dict[str, Any]:
        # 16 patches, pixel-shuffled by scale_factor 2: 4 image tokens.
        return {**_ids(torch, device, [IMAGE] * 4),
                "pixel_values": _image(torch, (1, 1, 3, 56, 56), device, dtype)}
    return cfg, tf.Idefics3ForConditionalGeneration, inputs


def internvl(tf: Any, layers: int) -> Built:
    vision = _vision(image_size=[56, 56], patch_size=[14, 14])
    cfg = tf.InternVLConfig(vision_config=vision, text_config=_text(layers, "qwen2"),
                            image_token_id=IMAGE, image_seq_length=4, downsample_ratio=0.5)
    def inputs(torch: Any, device: Any, dtype: Any) -> dict[str, Any]:
        # 16 patches, pixel-shuffled by downsample_ratio 0.5: 4 image tokens.
        return {**_ids(torch, device, [IMAGE] * 4),
                "pixel_values": _image(torch, (1, 3, 56, 56), device, dtype)}
    return cfg, tf.InternVLForConditionalGeneration, inputs


BUILDERS: dict[str, Callable[[Any, int], Built]] = {
    "llava": llava, "llava_next": llava_next, "qwen2_vl": qwen2_vl, "qwen2_5_vl": qwen2_5_vl,
    "idefics3": idefics3, "internvl": internvl,
}
CLASSES = {"llava": "LlavaConfig", "llava_next": "LlavaNextConfig", "qwen2_vl": "Qwen2VLConfig",
           "qwen2_5_vl": "Qwen2_5_VLConfig", "idefics3": "Idefics3Config",
           "internvl": "InternVLConfig"}


def resolve(tf: Any, family: str | None, hf_model_type: str | None) -> tuple[str, str]:
    """(model_type to build, a note for the step detail)."""
    wanted = next((t for t in (hf_model_type, FAMILY_MODEL_TYPES.get(family or ""))
                   if t in BUILDERS), None)
    if wanted is not None and hasattr(tf, CLASSES[wanted]):
        return wanted, f"{wanted} architecture"
    target = hf_model_type or family or "no model given"
    if wanted is not None:
        return "llava", (f"LLaVA-style stand-in: transformers {tf.__version__} does not ship "
                         f"{CLASSES[wanted]}")
    return "llava", f"LLaVA-style stand-in for {target} (transformers ships no such architecture)"
