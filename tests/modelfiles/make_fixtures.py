"""Regenerate fixtures/modelfiles/ (tiny model directories of our own; a few KB each).

Run from the repository root: ``python -m tests.modelfiles.make_fixtures``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.modelfiles.tiny import QWEN_CONFIG, QWEN_PREPROCESSOR, write_model

ROOT = Path(__file__).resolve().parents[2] / "fixtures" / "modelfiles"
SMALL = {
    "visual.blocks.0.attn.qkv.weight": ("BF16", [8, 8]),
    "visual.merger.mlp.0.weight": ("BF16", [8, 16]),
    "model.embed_tokens.weight": ("BF16", [32, 16]),
    "model.layers.0.self_attn.q_proj.weight": ("BF16", [16, 16]),
    "lm_head.weight": ("BF16", [32, 16]),
}
CODE = {
    "configuration_acme.py": (
        '"""Config of a made-up remote-code VLM (a vlmdoctor test fixture)."""\n'
        "from transformers import PretrainedConfig\n\n\n"
        "class AcmeVLConfig(PretrainedConfig):\n"
        '    model_type = "acme_vl"\n'),
    "modeling_acme.py": (
        '"""Model of a made-up remote-code VLM (a vlmdoctor test fixture); never imported by '
        'vlmdoctor."""\n'
        "from transformers import PreTrainedModel\n\n"
        "from .configuration_acme import AcmeVLConfig\n\n\n"
        "class AcmeVLForCausalLM(PreTrainedModel):\n"
        "    config_class = AcmeVLConfig\n\n"
        "    def __init__(self, config):\n"
        "        super().__init__(config)\n"
        "        self.post_init()\n"),
}
# The same model as written for transformers 4: its class never calls post_init(), which
# transformers 5 needs (rule model-code-post-init-missing).
CODE_V4 = {
    **CODE,
    "modeling_acme.py": (
        '"""Model of a made-up remote-code VLM written for transformers 4 (a vlmdoctor test '
        'fixture); never imported by vlmdoctor."""\n'
        "from transformers import PreTrainedModel\n\n"
        "from .configuration_acme import AcmeVLConfig\n\n\n"
        "class AcmePreTrainedModel(PreTrainedModel):\n"
        "    config_class = AcmeVLConfig\n\n\n"
        "class AcmeVLForCausalLM(AcmePreTrainedModel):\n"
        "    def __init__(self, config):\n"
        "        super().__init__(config)\n"
        "        self.init_weights()\n"),
}


def main() -> None:
    shutil.rmtree(ROOT, ignore_errors=True)
    write_model(ROOT / "qwen-tiny", config=dict(QWEN_CONFIG), tensors=SMALL,
                preprocessor=QWEN_PREPROCESSOR)
    remote = {k: v for k, v in QWEN_CONFIG.items() if k != "torch_dtype"}
    remote.update({
        "model_type": "acme_vl", "architectures": ["AcmeVLForCausalLM"], "dtype": "bfloat16",
        "transformers_version": "5.0.0",
        "auto_map": {"AutoConfig": "configuration_acme.AcmeVLConfig",
                     "AutoModelForCausalLM": "modeling_acme.AcmeVLForCausalLM"}})
    write_model(ROOT / "remote-code", config=remote, tensors=SMALL, code=CODE, shards=2)
    write_model(ROOT / "remote-code-v4", config={**remote, "transformers_version": "4.57.6"},
                tensors=SMALL, code=CODE_V4)
    packed = {"model.layers.0.self_attn.q_proj.qweight": ("I32", [16, 2]),
              "model.layers.0.self_attn.q_proj.scales": ("F16", [1, 16]),
              "model.embed_tokens.weight": ("F16", [32, 16]),
              "lm_head.weight": ("F16", [32, 16])}
    write_model(ROOT / "awq-int4", tensors=packed, config={
        **QWEN_CONFIG, "torch_dtype": "float16",
        "quantization_config": {"quant_method": "awq", "bits": 4, "group_size": 128,
                                "version": "gemm", "zero_point": True}})
    write_model(ROOT / "bnb-8bit", tensors={"model.layers.0.mlp.weight": ("I8", [16, 16]),
                                            "lm_head.weight": ("F16", [32, 16])}, config={
        **QWEN_CONFIG, "torch_dtype": "float16",
        "quantization_config": {"quant_method": "bitsandbytes", "load_in_8bit": True,
                                "load_in_4bit": False}})
    write_model(ROOT / "fp8", tensors={"model.layers.0.mlp.weight": ("F8_E4M3", [16, 16]),
                                       "lm_head.weight": ("BF16", [32, 16])}, config={
        **QWEN_CONFIG,
        "quantization_config": {"quant_method": "fp8", "activation_scheme": "dynamic",
                                "fmt": "e4m3", "weight_block_size": [128, 128]}})
    incomplete = write_model(ROOT / "incomplete", config=dict(QWEN_CONFIG), tensors=SMALL,
                             shards=2)
    (incomplete / "model-00002-of-00002.safetensors").unlink()


if __name__ == "__main__":
    main()
