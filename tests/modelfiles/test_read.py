"""Reading a model's own files: directory, HF cache layout, shards, bad headers."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest

from tests.conftest import make_knowledge
from tests.modelfiles.tiny import (
    QWEN_CONFIG,
    QWEN_PREPROCESSOR,
    QWEN_TENSORS,
    REMOTE_CODE,
    write_cache,
    write_model,
)
from vlmdoctor.errors import InputError
from vlmdoctor.modelfiles.components import component
from vlmdoctor.modelfiles.facts import ModelFacts
from vlmdoctor.modelfiles.locate import hub_cache, locate
from vlmdoctor.modelfiles.read import read_model
from vlmdoctor.target import resolve


def qwen(tmp_path: Path, **kw: object) -> Path:
    return write_model(tmp_path / "ckpt", config=dict(QWEN_CONFIG), tensors=QWEN_TENSORS,
                       preprocessor=QWEN_PREPROCESSOR, **kw)  # type: ignore[arg-type]


def test_directory_facts_are_exact(tmp_path: Path) -> None:
    facts = read_model(locate(str(qwen(tmp_path))))  # type: ignore[arg-type]
    assert facts.model_type == "qwen2_vl"
    assert facts.model_types == ("qwen2_vl",)
    assert facts.architectures == ("Qwen2VLForConditionalGeneration",)
    assert facts.dtype == "bfloat16" and facts.transformers_version == "4.45.0"
    assert dict(facts.params) == {"vision": 2080, "projector": 8192, "language": 49152,
                                  "total": 59424}
    assert dict(facts.storage_dtypes) == {"vision": "BF16", "projector": "BF16",
                                          "language": "BF16"}
    assert facts.weight_bytes == 59424 * 2
    assert dict(facts.geometry) == {
        "lm_layers": 2, "hidden_size": 64, "intermediate_size": 128, "num_attention_heads": 4,
        "num_kv_heads": 2, "head_dim": 16, "vocab_size": 320, "max_context": 4096,
        "tie_word_embeddings": False, "vision_layers": 2, "vision_hidden_size": 32,
        "vision_heads": 2}
    assert dict(facts.images) == {"min_pixels": 3136, "max_pixels": 12845056, "patch_size": 14,
                                  "merge_size": 2, "kind": "qwen-pixels", "tokens_source":
                                  "min_pixels/max_pixels, patch_size, merge_size"}
    assert facts.auto_map == {} and facts.files == () and facts.quantization == {}


def test_shards_and_remote_code(tmp_path: Path) -> None:
    cfg = {**QWEN_CONFIG, "model_type": "acme_vl",
           "auto_map": {"AutoConfig": "configuration_acme.AcmeConfig",
                        "AutoModelForCausalLM": "modeling_acme.AcmeVLModel"}}
    root = write_model(tmp_path / "acme", config=cfg, tensors=QWEN_TENSORS, shards=3,
                       code={"modeling_acme.py": REMOTE_CODE, "configuration_acme.py": "X = 1\n"})
    facts = read_model(locate(str(root)))  # type: ignore[arg-type]
    assert facts.params["total"] == 59424
    assert facts.weight_files == ("model-00001-of-00003.safetensors",
                                  "model-00002-of-00003.safetensors",
                                  "model-00003-of-00003.safetensors")
    assert facts.files == ("configuration_acme.py", "modeling_acme.py")
    assert facts.trust_remote_code
    (root / "model-00002-of-00003.safetensors").unlink()
    assert read_model(locate(str(root))).missing_files == (  # type: ignore[arg-type]
        "model-00002-of-00003.safetensors",)


def test_hf_cache_layout_reads_refs_main(tmp_path: Path) -> None:
    cache = tmp_path / "hub"
    write_cache(cache, "acme/Tiny-VL", "0123abcd" * 5, config=dict(QWEN_CONFIG),
                tensors=QWEN_TENSORS, preprocessor=QWEN_PREPROCESSOR)
    (cache / "models--acme--Tiny-VL" / "snapshots" / "ffff0000").mkdir()  # an older snapshot
    source = locate("acme/Tiny-VL", {"HF_HUB_CACHE": str(cache)})
    assert source is not None and source.kind == "hf-cache"
    assert source.revision == "0123abcd" * 5 and source.repo_id == "acme/Tiny-VL"
    assert locate("acme/Other-VL", {"HF_HUB_CACHE": str(cache)}) is None
    assert locate("acme/Tiny-VL", {"HF_HOME": str(tmp_path)}) is not None  # HF_HOME/hub


def test_cache_location_follows_huggingface_hub() -> None:
    assert hub_cache({"HF_HUB_CACHE": "/x"}) == Path("/x")
    assert hub_cache({"HF_HOME": "/h"}) == Path("/h/hub")
    assert hub_cache({"XDG_CACHE_HOME": "/c"}) == Path("/c/huggingface/hub")
    assert hub_cache({}) == Path("~/.cache/huggingface/hub").expanduser()


def _bad(root: Path, payload: bytes) -> str:
    (root / "model.safetensors").write_bytes(payload)
    with pytest.raises(InputError) as exc:
        read_model(locate(str(root)))  # type: ignore[arg-type]
    return str(exc.value)


def test_bad_safetensors_headers_are_one_line_input_errors(tmp_path: Path) -> None:
    root = qwen(tmp_path)
    shown = locate(str(root)).path  # type: ignore[union-attr]
    assert _bad(root, b"abc") == (
        f"{shown}/model.safetensors: not a safetensors file (shorter than 8 bytes)")
    assert _bad(root, struct.pack("<Q", 2**60) + b"{}") == (
        f"{shown}/model.safetensors: not a safetensors file (header length {2**60} exceeds "
        "the file size 10 or the format's 100 MiB limit)")
    assert _bad(root, struct.pack("<Q", 4) + b"{no}") == (
        f"{shown}/model.safetensors: not a safetensors file (its header is not JSON)")
    header = json.dumps({"w": {"dtype": "F16", "shape": [-1]}}).encode()
    assert _bad(root, struct.pack("<Q", len(header)) + header) == (
        f"{shown}/model.safetensors: tensor 'w': expected a dtype string and a shape of "
        "non-negative integers")


def test_missing_config_is_an_input_error(tmp_path: Path) -> None:
    root = qwen(tmp_path)
    (root / "config.json").unlink()
    with pytest.raises(InputError, match=r"config.json: not found \(expected a Hugging Face "
                                         r"model directory with config.json\)"):
        resolve(make_knowledge().catalogue, str(root))


@pytest.mark.parametrize(("name", "part"), [
    ("visual.blocks.0.attn.qkv.weight", "vision"),
    ("visual.merger.mlp.0.weight", "projector"),
    ("model.visual.blocks.3.mlp.fc1.weight", "vision"),
    ("vision_model.encoder.layers.0.mlp.fc1.weight", "vision"),
    ("mlp1.1.weight", "projector"),
    ("multi_modal_projector.linear_1.weight", "projector"),
    ("model.mm_projector.0.weight", "projector"),
    ("model.vision_tower.vision_tower.vision_model.embeddings.patch_embedding.weight", "vision"),
    ("model.vision_embed_tokens.img_processor.vision_model.encoder.layers.0.mlp.fc1.weight",
     "vision"),
    ("model.vision_embed_tokens.img_projection.0.weight", "projector"),
    ("vit.vision_tower.vision_model.post_layernorm.weight", "vision"),
    ("vision_proj.0.weight", "projector"),
    ("language_model.model.layers.0.self_attn.q_proj.weight", "language"),
    ("model.language_model.layers.0.mlp.gate_proj.weight", "language"),
    ("lm_head.weight", "language"),
    ("model.revision_head.weight", "language"),
])
def test_component_classifier(name: str, part: str) -> None:
    assert component(name) == part


def test_model_facts_round_trip_json(tmp_path: Path) -> None:
    facts = read_model(locate(str(qwen(tmp_path))))  # type: ignore[arg-type]
    again = ModelFacts.from_dict(json.loads(json.dumps(facts.to_dict())))
    assert again == facts
    assert ModelFacts.from_dict({"future_key": 1}) == ModelFacts()
    with pytest.raises(InputError, match=r"^model_facts.params: expected integer values$"):
        ModelFacts.from_dict({"params": {"total": "many"}})


def test_cached_repo_without_config_is_not_the_model(tmp_path: Path) -> None:
    """Only a processor cached: the name falls back to the catalogue (or model-unknown)."""
    cache = tmp_path / "hub"
    snap = write_cache(cache, "Qwen/Qwen2-VL-2B-Instruct", "cd" * 20, config={},
                       tensors={}, preprocessor=QWEN_PREPROCESSOR)
    (snap / "config.json").unlink()
    (snap / "model.safetensors").unlink()
    assert locate("Qwen/Qwen2-VL-2B-Instruct", {"HF_HUB_CACHE": str(cache)}) is None


def test_header_length_cut_inside_the_header_is_described(tmp_path: Path) -> None:
    """A file truncated inside its JSON header: the stated length runs past the end."""
    root = qwen(tmp_path)
    shown = locate(str(root)).path  # type: ignore[union-attr]
    body = b'{"w": {"dtype": "F16", "shape": [2], "data_offsets": [0, 4]}}'
    assert _bad(root, struct.pack("<Q", len(body) + 3) + body) == (
        f"{shown}/model.safetensors: not a safetensors file (header length {len(body) + 3} "
        f"exceeds the file size {len(body) + 8} or the format's 100 MiB limit)")
    # exactly the file's length is a header with no tensor bytes after it: read, not refused
    (root / "model.safetensors").write_bytes(struct.pack("<Q", len(body)) + body)
    assert read_model(locate(str(root))).params == {"language": 2,  # type: ignore[arg-type]
                                                   "total": 2}


def test_fp8_and_int8_tensors_weigh_one_byte_each() -> None:
    root = Path(__file__).resolve().parents[2] / "fixtures" / "modelfiles"
    fp8 = read_model(locate(str(root / "fp8")))  # type: ignore[arg-type]
    assert fp8.weight_bytes == 16 * 16 * 1 + 32 * 16 * 2
    assert dict(fp8.storage_bytes) == {"language": 16 * 16 + 32 * 16 * 2}
    assert fp8.params["total"] == 16 * 16 + 32 * 16
    int8 = read_model(locate(str(root / "bnb-8bit")))  # type: ignore[arg-type]
    assert int8.weight_bytes == 16 * 16 + 32 * 16 * 2
