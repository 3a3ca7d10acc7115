"""Family device maps, module by module (facts C.2, C.3)."""

from __future__ import annotations

from vlmdoctor.plan.devicemap import balanced_layers, internvl_layers, xcomposer_layers

# split_model pins these to GPU 0 (InternLM2 names and Llama names, so one card serves both
# LMs); rules/models/internvl.yaml placement.first_gpu, in its order.
IVL_PINNED = ["vision_model", "mlp1", "language_model.model.tok_embeddings",
              "language_model.model.embed_tokens", "language_model.output",
              "language_model.model.norm", "language_model.lm_head",
              "language_model.model.rotary_emb"]


def layers_of(device_map, prefix):
    return {int(k[len(prefix) + 1:]): v for k, v in device_map.items() if k.startswith(prefix + ".")}


def spans(layer_map):
    out: dict[int, list[int]] = {}
    for layer, gpu in sorted(layer_map.items()):
        out.setdefault(gpu, []).append(layer)
    return out


def test_internvl_76b_on_4_gpus_matches_split_model(plan_for):
    plan = plan_for("internvl2-76b", "4xA100-80GB")
    device_map = dict(plan.device_map)
    assert list(device_map)[:8] == IVL_PINNED
    assert all(device_map[m] == 0 for m in IVL_PINNED)
    by_gpu = spans(layers_of(device_map, "language_model.model.layers"))
    # per_gpu = ceil(80 / 3.5) = 23; GPU 0 takes ceil(23 x 0.5) = 12 plus the last layer 79
    assert by_gpu == {0: [*range(0, 12), 79], 1: list(range(12, 35)),
                      2: list(range(35, 58)), 3: list(range(58, 79))}
    assert len(device_map) == 8 + 80  # no phantom layers.80


def test_internvl_76b_on_2_gpus(plan_for):
    by_gpu = spans(layers_of(dict(plan_for("internvl2-76b", "2xH100").device_map),
                             "language_model.model.layers"))
    # per_gpu = ceil(80 / 1.5) = 54; GPU 0 takes ceil(54 x 0.5) = 27 plus layer 79
    assert by_gpu == {0: [*range(0, 27), 79], 1: list(range(27, 79))}


def test_internvl_rule_weights_gpus_by_capacity():
    assert internvl_layers(80, [1] * 4, 0.5) == [0] * 12 + [1] * 23 + [2] * 23 + [3] * 21 + [0]
    # GPU 1 with half the memory of the others takes half the layers
    split = internvl_layers(80, [80, 40, 80, 80], 0.5)
    assert [split.count(g) for g in range(4)] == [15, 14, 27, 24]
    assert internvl_layers(24, [80], 0.5) == [0] * 24


def test_xcomposer_on_2_and_4_gpus(plan_for):
    # auto_configure_device_map: per_gpu_layers = 38 / n, GPU 0 starts at used = 3.
    # 2 GPUs: 19 units: GPU 0 takes 16 layers (3 + 16 = 19), GPU 1 the other 16.
    # 4 GPUs: 9.5 units: GPU 0 takes 7 (3 + 7 >= 9.5), GPUs 1 and 2 take 10, GPU 3 the last 5.
    for gpus, expected in (("2xRTX4090", {0: range(0, 16), 1: range(16, 32)}),
                           ("4xRTX4090", {0: range(0, 7), 1: range(7, 17), 2: range(17, 27),
                                          3: range(27, 32)})):
        device_map = dict(plan_for("ixc2.5", gpus).device_map)
        last = len(expected) - 1
        for name in ("vit", "vision_proj", "plora_glb_GN", "plora_sub_GN", "model.tok_embeddings"):
            assert device_map[name] == 0
        assert device_map["model.norm"] == last and device_map["output"] == last
        assert spans(layers_of(device_map, "model.layers")) == {
            g: list(r) for g, r in expected.items()}


def test_xcomposer_rule_weighted():
    assert xcomposer_layers(32, [1, 1]) == [0] * 16 + [1] * 16
    assert xcomposer_layers(32, [48, 24]).count(0) == 23  # 38*2/3 = 25.3 units, 3 used by the ViT


def test_contiguous_keeps_vision_projector_embeddings_together(plan_for):
    plan = plan_for("llava-1.5-7b-hf", "2xT4", dtype="fp16", context=2048)
    device_map = dict(plan.device_map)
    assert [device_map[m] for m in ("model.vision_tower", "model.multi_modal_projector",
                                    "model.language_model.embed_tokens")] == [0, 0, 0]
    by_gpu = spans(layers_of(device_map, "model.language_model.layers"))
    # The card's floor, transformers 4.36.0, runs llava with eager attention: every GPU's
    # largest transient is one layer's scores, 32 heads x 2624^2 x (2 + 4) B = 1.32 GB (more
    # than the 0.50 GB prefill logits on GPU 1). GPU 0 also holds vision + projector
    # (2 x 324,487,168 B) beside the embeddings, where GPU 1 holds the equal-sized head:
    # 0.65 GB x 1.05 = 0.68 GB more. One layer with its KV is
    # (2 x 202,383,360 + 2 x 32 x 128 x 2 x 2624) x 1.05 = 0.47 GB. 16/16 leaves GPU 0
    # 0.68 GB fuller; 15/17 leaves GPU 1 2 x 0.47 - 0.68 = 0.26 GB fuller: the more even.
    assert by_gpu == {0: list(range(0, 15)), 1: list(range(15, 32))}
    assert device_map["model.language_model.norm"] == 1 and device_map["lm_head"] == 1
    assert list(device_map)[-2:] == ["model.language_model.norm", "lm_head"]


def test_contiguous_tied_head_stays_with_embeddings(plan_for):
    device_map = dict(plan_for("qwen2-vl-2b-instruct", "2xT4", dtype="fp16",
                               max_pixels=200704).device_map)
    assert device_map["lm_head"] == device_map["model.language_model.embed_tokens"] == 0
    assert device_map["model.language_model.norm"] == 1
    # The tied head computes the prefill logits on GPU 0: (4096 + 256 image) tokens x vocab
    # 151936 x (2 + 4 upcast, the card's floor 4.45.0) = 3.97 GB there, beside vision +
    # projector (2 x 665,271,296) and the embeddings (2 x 151936 x 1536): GPU 0 starts
    # 5.78 GB x 1.05 fuller than GPU 1, 56 layers' worth ((2 x 46,797,824 + 4352 x 1 KiB KV)
    # x 1.05 = 0.10 GB each), so it keeps the one layer a GPU always gets.
    by_gpu = spans(layers_of(device_map, "model.language_model.layers"))
    assert by_gpu == {0: [0], 1: list(range(1, 28))}


def test_balanced_layers_equalise_fill():
    assert balanced_layers(10, [100, 100], [0, 0], 10) == [0] * 5 + [1] * 5
    assert balanced_layers(10, [100, 100], [40, 0], 10) == [0] * 3 + [1] * 7
    # GPU 0 is already too full, yet it keeps one layer: a map never leaves a GPU empty
    assert balanced_layers(4, [100, 100], [500, 0], 10) == [0] + [1] * 3


def test_single_gpu_and_no_gpu(plan_for):
    assert set(plan_for("llava-1.5-7b", "1xA100-80GB").device_map.values()) == {0}
    empty = plan_for("llava-1.5-7b", "1xT4")  # sized plan; no-GPU case below
    assert empty.per_gpu
