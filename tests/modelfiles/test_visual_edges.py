"""Visual tokens and the component split at their edges (issue 19 §6): a tile count that is
not a whole multiple, and a second (auxiliary) vision tower and its projectors."""

from __future__ import annotations

from pathlib import Path

from tests.modelfiles import layouts as L
from tests.modelfiles.test_visual import tokens
from vlmdoctor.modelfiles.locate import locate
from vlmdoctor.modelfiles.read import read_model


def test_idefics3_counts_a_partial_tile_as_a_whole_one(tmp_path: Path) -> None:
    # Idefics3's processor splits the resized image into ceil(edge / max_image_size) tiles per
    # side (transformers models/idefics3/image_processing_idefics3.py, split_image): a
    # 1000-px longest edge over 364-px tiles is 3 x 3 tiles + the global image.
    config = {"model_type": "idefics3", "transformers_version": "4.46.0.dev0",
              "scale_factor": 2, "vision_config": {"model_type": "idefics3",
                                                    "image_size": 364, "patch_size": 14}}
    pre = {"do_image_splitting": True, "max_image_size": {"longest_edge": 364},
           "size": {"longest_edge": 1000}}
    assert tokens(tmp_path, config, pre, {"image_seq_len": 169}) == ("slices", 10 * 169)


def test_minigemini_aux_tower_and_uni_projectors_are_not_language(tmp_path: Path) -> None:
    # Mini-Gemini (dvlab-research/MGM, mgm_arch.py) and its descendants: a second
    # `vision_tower_aux*` beside the CLIP tower, and `vlm_uni_*_projector` modules between
    # the towers and the language model.
    layout = {"model.vision_tower.vision_tower.embeddings.patch_embedding.weight":
              ("BF16", [1024, 3, 14, 14]),
              # an auxiliary tower named by no other vision segment (a RADIO image tower)
              "model.vision_tower_aux.image_tower.radio_model.blocks.0.attn.qkv.weight":
              ("BF16", [192, 3, 4, 4]),
              "model.vlm_uni_aux_projector.0.weight": ("BF16", [1024, 1536]),
              "model.mm_projector.0.weight": ("BF16", [4096, 1024]),
              "model.layers.0.self_attn.q_proj.weight": ("BF16", [4096, 4096]),
              "lm_head.weight": ("BF16", [32000, 4096])}
    root = L.write_dir(tmp_path / "mgm", {"model_type": "mgm", "auto_map": {"AutoModel": "m.M"}},
                       layout)
    facts = read_model(locate(str(root)))  # type: ignore[arg-type]
    assert dict(facts.params) == {"vision": 1024 * 3 * 14 * 14 + 192 * 3 * 4 * 4,
                                  "projector": 1024 * 1536 + 4096 * 1024,
                                  "language": 4096 * 4096 + 32000 * 4096,
                                  "total": 1024 * 3 * 14 * 14 + 192 * 3 * 4 * 4
                                  + 1024 * 1536 + 4096 * 1024 + 4096 * 4096 + 32000 * 4096}
