"""config.json shapes VLMs use (written here, in the layouts transformers documents)."""

from __future__ import annotations

from vlmdoctor.modelfiles import config


def test_nested_llm_config_with_remote_code() -> None:
    """InternVL-style: the language model under llm_config, remote code in auto_map."""
    cfg = {"model_type": "internvl_chat", "architectures": ["InternVLChatModel"],
           "auto_map": {"AutoModel": "modeling_internvl_chat.InternVLChatModel"},
           "torch_dtype": "bfloat16", "transformers_version": "4.37.2",
           "llm_config": {"model_type": "internlm2", "num_hidden_layers": 32, "hidden_size": 4096,
                          "num_attention_heads": 32, "num_key_value_heads": 8,
                          "intermediate_size": 14336, "vocab_size": 92553,
                          "max_position_embeddings": 32768},
           "vision_config": {"model_type": "intern_vit_6b", "num_hidden_layers": 24,
                             "hidden_size": 1024, "num_attention_heads": 16}}
    assert config.model_types(cfg) == ("internvl_chat", "internlm2", "intern_vit_6b")
    assert config.auto_map(cfg) == {"AutoModel": "modeling_internvl_chat.InternVLChatModel"}
    assert config.geometry(cfg) == {
        "lm_layers": 32, "hidden_size": 4096, "intermediate_size": 14336,
        "num_attention_heads": 32, "num_kv_heads": 8, "head_dim": 128, "vocab_size": 92553,
        "max_context": 32768, "vision_layers": 24, "vision_hidden_size": 1024,
        "vision_heads": 16}


def test_text_config_and_transformers_5_dtype_key() -> None:
    """LLaVA-hf style text_config; transformers 5 writes dtype, not torch_dtype; a missing
    field stays unknown (the curated card's value, if any, is kept)."""
    cfg = {"model_type": "llava", "dtype": "float16", "image_seq_length": 576,
           "text_config": {"model_type": "llama", "hidden_size": 4096, "num_attention_heads": 32,
                           "vocab_size": 32064, "tie_word_embeddings": False},
           "vision_config": {"model_type": "clip_vision_model", "image_size": 336,
                             "patch_size": 14, "num_hidden_layers": 24}}
    assert config.saved_dtype(cfg) == "float16"
    geometry = config.geometry(cfg)
    assert "lm_layers" not in geometry and geometry["num_kv_heads"] == 32
    assert geometry["tie_word_embeddings"] is False


def test_quantization_config_without_quant_method_and_odd_values() -> None:
    cfg = {"quantization_config": {"load_in_4bit": True, "bnb_4bit_quant_type": "nf4",
                                   "llm_int8_skip_modules": ["vision_tower"], "bad": 1e400}}
    assert config.quantization(cfg) == {"load_in_4bit": True, "bnb_4bit_quant_type": "nf4",
                                        "quant_method": "bitsandbytes"}
    assert config.quantization({"quantization_config": {"quant_method": "compressed_tensors"}}) \
        == {"quant_method": "compressed-tensors"}
    assert config.geometry({"num_hidden_layers": -3, "hidden_size": 2**60, "n_head": True}) == {}
