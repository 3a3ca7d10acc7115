from __future__ import annotations

from vlmdoctor.probe.placement import ModelLayout, balanced_device_map, split_layers

LLAVA = ModelLayout(
    layers_prefix="model.language_model.layers", num_layers=5,
    others=("model.vision_tower", "model.multi_modal_projector",
            "model.language_model.embed_tokens", "model.language_model.norm",
            "model.language_model.rotary_emb", "lm_head"))


def test_split_layers_is_contiguous_and_even() -> None:
    assert split_layers(5, 2) == [0, 0, 0, 1, 1]
    assert split_layers(4, 4) == [0, 1, 2, 3]
    assert split_layers(2, 4) == [0, 1]
    assert split_layers(3, 1) == [0, 0, 0]


def test_vision_projector_embeddings_on_gpu0_head_with_last_layers() -> None:
    assert balanced_device_map(LLAVA, [0, 1]) == {
        "model.vision_tower": 0, "model.multi_modal_projector": 0,
        "model.language_model.embed_tokens": 0, "model.language_model.rotary_emb": 0,
        "model.language_model.norm": 1, "lm_head": 1,
        "model.language_model.layers.0": 0, "model.language_model.layers.1": 0,
        "model.language_model.layers.2": 0, "model.language_model.layers.3": 1,
        "model.language_model.layers.4": 1,
    }


def test_tied_head_stays_with_the_embeddings() -> None:
    tied = ModelLayout(LLAVA.layers_prefix, 2, LLAVA.others, tied_embeddings=True)
    placed = balanced_device_map(tied, [0, 1])
    assert (placed["lm_head"], placed["model.language_model.norm"]) == (0, 1)


def test_more_gpus_than_layers_puts_the_head_after_the_last_layer() -> None:
    placed = balanced_device_map(ModelLayout("layers", 2, ("embed", "norm", "lm_head")),
                                 [0, 1, 2, 3])
    assert placed == {"embed": 0, "norm": 1, "lm_head": 1, "layers.0": 0, "layers.1": 1}


def test_cpu() -> None:
    placed = balanced_device_map(LLAVA, ["cpu"])
    assert set(placed.values()) == {"cpu"} and len(placed) == 11
