"""Real checkpoints' tensor layouts (names, dtypes, shapes), written as header-only model
directories: a safetensors header that names every tensor of the real checkpoint, with no
tensor bytes after it. The reader never looks past the header, so a 7B model costs a few
hundred KB. Shapes follow the modules of each model in transformers (or its remote code);
the configs are the checkpoints' own ``config.json`` values, including the fields they
leave to the config class's defaults.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

Layout = dict[str, tuple[str, list[int]]]


def write_header_only(path: Path, tensors: Layout) -> None:
    header: dict[str, Any] = {"__metadata__": {"format": "pt"}}
    for name, (dtype, shape) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [0, 0]}
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw)


def write_dir(root: Path, config: dict[str, Any], tensors: Layout,
              preprocessor: dict[str, Any] | None = None,
              processor: dict[str, Any] | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "config.json").write_text(json.dumps(config))
    if preprocessor is not None:
        (root / "preprocessor_config.json").write_text(json.dumps(preprocessor))
    if processor is not None:
        (root / "processor_config.json").write_text(json.dumps(processor))
    write_header_only(root / "model.safetensors", tensors)
    return root


def linear(out: Layout, name: str, n_out: int, n_in: int, bias: bool, dtype: str) -> None:
    out[f"{name}.weight"] = (dtype, [n_out, n_in])
    if bias:
        out[f"{name}.bias"] = (dtype, [n_out])


def norm(out: Layout, name: str, width: int, bias: bool, dtype: str) -> None:
    out[f"{name}.weight"] = (dtype, [width])
    if bias:
        out[f"{name}.bias"] = (dtype, [width])


def decoder(prefix: str, layers: int, hidden: int, heads: int, kv: int, head_dim: int,
            mlp: int, vocab: int, dtype: str, *, qkv_bias: bool = False, tied: bool = False,
            gemma3: bool = False, head: str = "lm_head") -> Layout:
    """A Llama/Qwen2/Gemma-style decoder: embeddings, layers, final norm, output head."""
    out: Layout = {f"{prefix}.embed_tokens.weight": (dtype, [vocab, hidden])}
    for i in range(layers):
        p = f"{prefix}.layers.{i}"
        linear(out, f"{p}.self_attn.q_proj", heads * head_dim, hidden, qkv_bias, dtype)
        linear(out, f"{p}.self_attn.k_proj", kv * head_dim, hidden, qkv_bias, dtype)
        linear(out, f"{p}.self_attn.v_proj", kv * head_dim, hidden, qkv_bias, dtype)
        linear(out, f"{p}.self_attn.o_proj", hidden, heads * head_dim, False, dtype)
        linear(out, f"{p}.mlp.gate_proj", mlp, hidden, False, dtype)
        linear(out, f"{p}.mlp.up_proj", mlp, hidden, False, dtype)
        linear(out, f"{p}.mlp.down_proj", hidden, mlp, False, dtype)
        norms = ["input_layernorm", "post_attention_layernorm"]
        if gemma3:
            norms += ["pre_feedforward_layernorm", "post_feedforward_layernorm"]
            norm(out, f"{p}.self_attn.q_norm", head_dim, False, dtype)
            norm(out, f"{p}.self_attn.k_norm", head_dim, False, dtype)
        for n in norms:
            norm(out, f"{p}.{n}", hidden, False, dtype)
    norm(out, f"{prefix}.norm", hidden, False, dtype)
    if not tied:
        out[f"{head}.weight"] = (dtype, [vocab, hidden])
    return out


def vit(prefix: str, layers: int, width: int, mlp: int, patch: int, positions: int,
        dtype: str, *, clip: bool = False, post_norm: bool = True) -> Layout:
    """A CLIP / SigLIP vision transformer (SigLIP: patch bias, no class token; no head)."""
    out: Layout = {}
    e = f"{prefix}.embeddings"
    if clip:
        out[f"{e}.class_embedding"] = (dtype, [width])
        out[f"{e}.patch_embedding.weight"] = (dtype, [width, 3, patch, patch])
        norm(out, f"{prefix}.pre_layrnorm", width, True, dtype)
    else:
        out[f"{e}.patch_embedding.weight"] = (dtype, [width, 3, patch, patch])
        out[f"{e}.patch_embedding.bias"] = (dtype, [width])
    out[f"{e}.position_embedding.weight"] = (dtype, [positions, width])
    for i in range(layers):
        p = f"{prefix}.encoder.layers.{i}"
        for n in ("q_proj", "k_proj", "v_proj", "out_proj"):
            linear(out, f"{p}.self_attn.{n}", width, width, True, dtype)
        linear(out, f"{p}.mlp.fc1", mlp, width, True, dtype)
        linear(out, f"{p}.mlp.fc2", width, mlp, True, dtype)
        norm(out, f"{p}.layer_norm1", width, True, dtype)
        norm(out, f"{p}.layer_norm2", width, True, dtype)
    if post_norm:
        norm(out, f"{prefix}.post_layernorm", width, True, dtype)
    return out


# --- google/gemma-3-4b-it (config.json as published; text geometry left to defaults) -------
GEMMA3_4B_CONFIG: dict[str, Any] = {
    "architectures": ["Gemma3ForConditionalGeneration"], "model_type": "gemma3",
    "boi_token_index": 255999, "eoi_token_index": 256000, "image_token_index": 262144,
    "mm_tokens_per_image": 256, "torch_dtype": "bfloat16", "transformers_version": "4.50.0.dev0",
    "text_config": {"hidden_size": 2560, "intermediate_size": 10240, "model_type": "gemma3_text",
                    "num_hidden_layers": 34, "rope_scaling": {"factor": 8.0, "rope_type": "linear"},
                    "sliding_window": 1024},
    "vision_config": {"hidden_size": 1152, "image_size": 896, "intermediate_size": 4304,
                      "model_type": "siglip_vision_model", "num_attention_heads": 16,
                      "num_hidden_layers": 27, "patch_size": 14, "vision_use_head": False},
}


def gemma3(layers: int = 34, hidden: int = 2560, heads: int = 8, kv: int = 4,
           head_dim: int = 256, mlp: int = 10240) -> Layout:
    out = vit("vision_tower.vision_model", 27, 1152, 4304, 14, 4096, "BF16")
    out["multi_modal_projector.mm_input_projection_weight"] = ("BF16", [1152, hidden])
    out["multi_modal_projector.mm_soft_emb_norm.weight"] = ("BF16", [1152])
    out.update(decoder("language_model.model", layers, hidden, heads, kv, head_dim, mlp,
                       262208, "BF16", tied=True, gemma3=True))
    return out


def gemma3_4b() -> Layout:
    return gemma3()


# google/gemma-3-27b-it (the architecture of google/medgemma-27b-it): text_config states
# heads, KV heads and head_dim; the vocab is Gemma3TextConfig's default.
GEMMA3_27B_CONFIG: dict[str, Any] = {
    **GEMMA3_4B_CONFIG,
    "text_config": {"head_dim": 128, "hidden_size": 5376, "intermediate_size": 21504,
                    "model_type": "gemma3_text", "num_attention_heads": 32,
                    "num_hidden_layers": 62, "num_key_value_heads": 16,
                    "query_pre_attn_scalar": 168, "sliding_window": 1024,
                    "rope_scaling": {"factor": 8.0, "rope_type": "linear"}},
}


def gemma3_27b() -> Layout:
    return gemma3(62, 5376, 32, 16, 128, 21504)


# --- llava-hf/llava-1.5-7b-hf (text_config leaves the Llama geometry to LlamaConfig) --------
LLAVA15_CONFIG: dict[str, Any] = {
    "architectures": ["LlavaForConditionalGeneration"], "model_type": "llava",
    "ignore_index": -100, "image_token_index": 32000, "pad_token_id": 32001,
    "projector_hidden_act": "gelu", "torch_dtype": "float16", "transformers_version": "4.36.0.dev0",
    "vision_feature_layer": -2, "vision_feature_select_strategy": "default", "vocab_size": 32064,
    "text_config": {"_name_or_path": "lmsys/vicuna-7b-v1.5", "architectures": ["LlamaForCausalLM"],
                    "max_position_embeddings": 4096, "model_type": "llama", "rms_norm_eps": 1e-05,
                    "torch_dtype": "float16", "vocab_size": 32064},
    "vision_config": {"hidden_size": 1024, "image_size": 336, "intermediate_size": 4096,
                      "model_type": "clip_vision_model", "num_attention_heads": 16,
                      "num_hidden_layers": 24, "patch_size": 14, "projection_dim": 768,
                      "vocab_size": 32000},
}
LLAVA15_PREPROCESSOR = {"crop_size": {"height": 336, "width": 336}, "do_center_crop": True,
                        "image_processor_type": "CLIPImageProcessor",
                        "size": {"shortest_edge": 336}}


def llava15_7b(dtype: str = "F16", quantise: Any = None) -> Layout:
    out = vit("vision_tower.vision_model", 24, 1024, 4096, 14, 577, dtype, clip=True)
    linear(out, "multi_modal_projector.linear_1", 4096, 1024, True, dtype)
    linear(out, "multi_modal_projector.linear_2", 4096, 4096, True, dtype)
    lm = decoder("language_model.model", 32, 4096, 32, 32, 128, 11008, 32064, dtype,
                 head="language_model.lm_head")
    if quantise is not None:
        lm = quantise(lm)
    out.update(lm)
    return out


# --- llava-hf/llava-onevision-qwen2-0.5b-ov-hf -------------------------------------------
ONEVISION_05B_CONFIG: dict[str, Any] = {
    "architectures": ["LlavaOnevisionForConditionalGeneration"], "model_type": "llava_onevision",
    "image_token_index": 151646, "torch_dtype": "float16", "transformers_version": "4.45.0.dev0",
    "vision_aspect_ratio": "anyres_max_9", "vision_feature_layer": -1,
    "vision_feature_select_strategy": "full", "tie_word_embeddings": True,
    "image_grid_pinpoints": [[384 * a, 384 * b] for a in range(1, 7) for b in range(1, 7)],
    "text_config": {"_name_or_path": "Qwen/Qwen2-0.5B-Instruct", "architectures": ["Qwen2ForCausalLM"],
                    "hidden_size": 896, "intermediate_size": 4864, "max_position_embeddings": 32768,
                    "max_window_layers": 24, "model_type": "qwen2", "num_attention_heads": 14,
                    "num_hidden_layers": 24, "num_key_value_heads": 2, "rope_theta": 1000000.0,
                    "tie_word_embeddings": True, "torch_dtype": "bfloat16", "vocab_size": 151647},
    "vision_config": {"hidden_size": 1152, "image_size": 384, "intermediate_size": 4304,
                      "model_type": "siglip_vision_model", "num_attention_heads": 16,
                      "num_hidden_layers": 26, "patch_size": 14, "vision_use_head": False},
}


def onevision_05b() -> Layout:
    out = vit("vision_tower.vision_model", 26, 1152, 4304, 14, 729, "F16")
    linear(out, "multi_modal_projector.linear_1", 896, 1152, True, "F16")
    linear(out, "multi_modal_projector.linear_2", 896, 896, True, "F16")
    out["image_newline"] = ("F16", [896])
    out.update(decoder("language_model.model", 24, 896, 14, 2, 64, 4864, 151647, "F16",
                       qkv_bias=True, tied=True))
    return out


# --- google/paligemma2-3b-pt-448 ---------------------------------------------------------
PALIGEMMA2_448_CONFIG: dict[str, Any] = {
    "architectures": ["PaliGemmaForConditionalGeneration"], "model_type": "paligemma",
    "bos_token_id": 2, "eos_token_id": 1, "hidden_size": 2048, "image_token_index": 257152,
    "pad_token_id": 0, "projection_dim": 2304, "torch_dtype": "bfloat16",
    "transformers_version": "4.47.0.dev0",
    "text_config": {"hidden_activation": "gelu_pytorch_tanh", "hidden_size": 2304,
                    "intermediate_size": 9216, "model_type": "gemma2", "num_attention_heads": 8,
                    "num_hidden_layers": 26, "num_image_tokens": 1024, "num_key_value_heads": 4,
                    "vocab_size": 257216},
    "vision_config": {"hidden_size": 1152, "image_size": 448, "intermediate_size": 4304,
                      "model_type": "siglip_vision_model", "num_attention_heads": 16,
                      "num_hidden_layers": 27, "num_image_tokens": 1024, "num_positions": 1024,
                      "patch_size": 14, "projection_dim": 2304, "vision_use_head": False},
}


def paligemma2_3b_448() -> Layout:
    out = vit("vision_tower.vision_model", 27, 1152, 4304, 14, 1024, "BF16")
    linear(out, "multi_modal_projector.linear", 2304, 1152, True, "BF16")
    lm = decoder("language_model.model", 26, 2304, 8, 4, 256, 9216, 257216, "BF16", tied=True,
                 gemma3=True)
    out.update({k: v for k, v in lm.items() if "_norm." not in k})  # Gemma 2: no q/k norms
    return out


# --- quantised layouts of the same decoder -------------------------------------------------
_LINEARS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


def _quantised(layout: Layout, each: Any) -> Layout:
    out: Layout = {}
    for name, (dtype, shape) in layout.items():
        module, _, last = name.rpartition(".")
        if last == "weight" and module.rsplit(".", 1)[-1] in _LINEARS:
            out.update(each(module, shape[0], shape[1]))
        else:
            out[name] = (dtype, shape)
    return out


def awq_gemm(layout: Layout, group: int = 128) -> Layout:
    """AutoAWQ WQLinear_GEMM, 4-bit: qweight [in, out/8], qzeros [in/g, out/8], scales [in/g, out]."""
    return _quantised(layout, lambda m, o, i: {
        f"{m}.qweight": ("I32", [i, o // 8]), f"{m}.qzeros": ("I32", [i // group, o // 8]),
        f"{m}.scales": ("F16", [i // group, o])})


def gptq(layout: Layout, group: int = 128) -> Layout:
    """GPTQ QuantLinear, 4-bit: qweight [in/8, out], qzeros [in/g, out/8], scales, g_idx [in]."""
    return _quantised(layout, lambda m, o, i: {
        f"{m}.qweight": ("I32", [i // 8, o]), f"{m}.qzeros": ("I32", [i // group, o // 8]),
        f"{m}.scales": ("F16", [i // group, o]), f"{m}.g_idx": ("I32", [i])})


def bnb_nf4(layout: Layout, block: int = 64) -> Layout:
    """bitsandbytes Params4bit (double quantisation): 2 weights a byte, plus its state."""
    def each(m: str, o: int, i: int) -> Layout:
        n = o * i
        return {f"{m}.weight": ("U8", [(n + 1) // 2, 1]),
                f"{m}.weight.absmax": ("U8", [n // block]),
                f"{m}.weight.quant_map": ("F32", [16]),
                f"{m}.weight.nested_absmax": ("F32", [n // block // 256]),
                f"{m}.weight.nested_quant_map": ("F32", [256]),
                f"{m}.weight.quant_state.bitsandbytes__nf4": ("U8", [140])}
    return _quantised(layout, each)


def fp8(layout: Layout) -> Layout:
    """Fine-grained FP8: one byte a weight, a float32 scale per 128x128 block."""
    return _quantised(layout, lambda m, o, i: {
        f"{m}.weight": ("F8_E4M3", [o, i]),
        f"{m}.weight_scale_inv": ("F32", [-(-o // 128), -(-i // 128)])})


def compressed_w4a16(layout: Layout, group: int = 128) -> Layout:
    """compressed-tensors pack-quantized (llm-compressor W4A16): weight_packed int32
    [out, in / 8], weight_scale [out, in / g], weight_shape int64 [2]."""
    return _quantised(layout, lambda m, o, i: {
        f"{m}.weight_packed": ("I32", [o, i // 8]),
        f"{m}.weight_scale": ("BF16", [o, i // group]),
        f"{m}.weight_shape": ("I64", [2])})


QUANT_CONFIGS: dict[str, dict[str, Any]] = {
    "w4a16": {"quant_method": "compressed-tensors", "format": "pack-quantized",
              "config_groups": {"group_0": {"targets": ["Linear"], "weights": {
                  "num_bits": 4, "type": "int", "symmetric": True, "strategy": "group",
                  "group_size": 128}}}, "ignore": ["lm_head"]},
    "awq": {"quant_method": "awq", "bits": 4, "group_size": 128, "version": "gemm",
            "zero_point": True},
    "gptq": {"quant_method": "gptq", "bits": 4, "group_size": 128, "desc_act": False,
             "sym": True},
    "nf4": {"quant_method": "bitsandbytes", "load_in_4bit": True, "load_in_8bit": False,
            "bnb_4bit_quant_type": "nf4", "bnb_4bit_use_double_quant": True,
            "bnb_4bit_compute_dtype": "float16"},
    "fp8": {"quant_method": "fp8", "activation_scheme": "dynamic", "fmt": "e4m3",
            "weight_block_size": [128, 128]},
}
QUANTISERS = {"awq": awq_gemm, "gptq": gptq, "nf4": bnb_nf4, "fp8": fp8,
              "w4a16": compressed_w4a16}


# --- Qwen/Qwen2.5-VL-7B-Instruct (a flat config: the language model at the top level) -----
QWEN25_VL_7B_CONFIG: dict[str, Any] = {
    "architectures": ["Qwen2_5_VLForConditionalGeneration"], "model_type": "qwen2_5_vl",
    "hidden_size": 3584, "intermediate_size": 18944, "max_position_embeddings": 128000,
    "num_attention_heads": 28, "num_hidden_layers": 28, "num_key_value_heads": 4,
    "rope_theta": 1000000.0, "tie_word_embeddings": False, "torch_dtype": "bfloat16",
    "transformers_version": "4.41.2", "vocab_size": 152064,
    "vision_config": {"depth": 32, "hidden_act": "silu", "hidden_size": 1280,
                      "intermediate_size": 3420, "num_heads": 16, "in_chans": 3,
                      "out_hidden_size": 3584, "patch_size": 14, "spatial_merge_size": 2,
                      "spatial_patch_size": 14, "window_size": 112,
                      "fullatt_block_indexes": [7, 15, 23, 31], "tokens_per_second": 2,
                      "temporal_patch_size": 2},
}
QWEN25_VL_PREPROCESSOR = {"min_pixels": 3136, "max_pixels": 12845056, "patch_size": 14,
                          "temporal_patch_size": 2, "merge_size": 2,
                          "image_processor_type": "Qwen2_5_VLImageProcessor"}


def qwen25_vl_7b(quantise: Any = None) -> Layout:
    out: Layout = {"visual.patch_embed.proj.weight": ("BF16", [1280, 3, 2, 14, 14])}
    for i in range(32):
        p = f"visual.blocks.{i}"
        norm(out, f"{p}.norm1", 1280, False, "BF16")
        norm(out, f"{p}.norm2", 1280, False, "BF16")
        linear(out, f"{p}.attn.qkv", 3840, 1280, True, "BF16")
        linear(out, f"{p}.attn.proj", 1280, 1280, True, "BF16")
        linear(out, f"{p}.mlp.gate_proj", 3420, 1280, True, "BF16")
        linear(out, f"{p}.mlp.up_proj", 3420, 1280, True, "BF16")
        linear(out, f"{p}.mlp.down_proj", 1280, 3420, True, "BF16")
    norm(out, "visual.merger.ln_q", 1280, False, "BF16")
    linear(out, "visual.merger.mlp.0", 5120, 5120, True, "BF16")
    linear(out, "visual.merger.mlp.2", 3584, 5120, True, "BF16")
    lm = decoder("model", 28, 3584, 28, 4, 128, 18944, 152064, "BF16", qkv_bias=True)
    out.update(quantise(lm) if quantise is not None else lm)
    return out
