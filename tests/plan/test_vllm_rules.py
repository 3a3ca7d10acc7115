"""plan --engine vllm against vLLM's own rules, computed by hand in the test (issue 19 §1/§6).

The independent oracle is vLLM's public source:
- a KV cache block holds ``block_size`` tokens, 16 by default on CUDA (``CacheConfig.block_size``,
  https://github.com/vllm-project/vllm/blob/main/vllm/config/cache.py);
- one layer's block takes ``block_size x num_kv_heads x (head_size + head_size_v) x dtype
  bytes`` (``AttentionSpec.real_page_size_bytes``) and one request of ``max_model_len`` tokens
  needs ``cdiv(max_model_len, block_size)`` blocks of every layer
  (``FullAttentionSpec.max_memory_usage_bytes``,
  https://github.com/vllm-project/vllm/blob/main/vllm/v1/kv_cache_interface.py);
- the engine refuses to start when that exceeds the KV cache memory, and names the largest
  ``max_model_len`` that fits (``_check_enough_kv_cache_memory``,
  https://github.com/vllm-project/vllm/blob/main/vllm/v1/core/kv_cache_utils.py).
"""

from __future__ import annotations

import pytest

from vlmdoctor.errors import InputError
from vlmdoctor.knowledge import load_knowledge
from vlmdoctor.plan import GpuSpec, PlanRequest, parse_gpus
from vlmdoctor.plan.vllm import VllmOptions, vllm_plan

CATALOGUE = load_knowledge(None).catalogue
GIB = 2**30


def card(name: str):  # type: ignore[no-untyped-def]
    return CATALOGUE.resolve(name)


def change(record, **values):  # type: ignore[no-untyped-def]
    return type(record)(**{**vars(record), **values})


def vplan(model: str, gpus, images: int | None = None, **options):  # type: ignore[no-untyped-def]
    gpus = parse_gpus(gpus) if isinstance(gpus, str) else gpus
    request = PlanRequest(card=card(model), gpus=gpus)
    if images is not None:
        request = PlanRequest(card=card(model), gpus=gpus, images=images)
    return vllm_plan(request, VllmOptions(**options))


# Qwen2.5-VL-7B-Instruct's config.json: 28 layers, hidden 3584 over 28 heads (head_size 128),
# 4 KV heads, bf16.
LAYERS, KV_HEADS, HEAD, DTYPE_BYTES, BLOCK = 28, 4, 3584 // 28, 2, 16
PAGE = BLOCK * KV_HEADS * (HEAD + HEAD) * DTYPE_BYTES  # one layer, one block: 32 KiB


def needed(max_model_len: int) -> int:
    return -(-max_model_len // BLOCK) * PAGE * LAYERS


def test_largest_max_model_len_is_whole_blocks_of_sixteen_tokens() -> None:
    # gpu_memory_utilization 0.8 on a 24 GiB card leaves an odd number of 16-token blocks,
    # so the answer differs from any other block size.
    plan = vplan("qwen2.5-vl-7b-instruct", "1xRTX4090", gpu_memory_utilization=0.8)
    assert plan.per_rank["kv_bytes_per_token"] * BLOCK == PAGE * LAYERS
    available = plan.per_rank["kv_available_bytes"]
    blocks = available // (PAGE * LAYERS)
    assert blocks % 2 == 1
    largest = blocks * BLOCK
    assert needed(largest) <= available < needed(largest + 1)
    assert plan.starts is False and plan.largest_max_model_len == largest
    assert plan.fixes[0] == f"--max-model-len {largest}"
    assert f"the estimated maximum model length is {largest}. " in plan.message


@pytest.mark.parametrize("extra", [-15, 0, 1, 16])
def test_a_max_model_len_starts_only_when_its_blocks_fit(extra: int) -> None:
    base = vplan("qwen2.5-vl-7b-instruct", "1xRTX4090", gpu_memory_utilization=0.8)
    available = base.per_rank["kv_available_bytes"]
    length = (available // (PAGE * LAYERS)) * BLOCK + extra  # around the last whole block
    plan = vplan("qwen2.5-vl-7b-instruct", "1xRTX4090", gpu_memory_utilization=0.8,
                 max_model_len=length)
    assert plan.starts is (needed(length) <= available)
    assert plan.starts is (extra <= 0)


def test_length_one_token_past_the_blocks_is_refused_with_vllms_message() -> None:
    base = vplan("qwen2.5-vl-7b-instruct", "1xRTX4090", gpu_memory_utilization=0.8)
    largest = base.largest_max_model_len
    plan = vplan("qwen2.5-vl-7b-instruct", "1xRTX4090", gpu_memory_utilization=0.8,
                 max_model_len=largest + 1)
    assert plan.starts is False
    assert plan.message.startswith(
        f"To serve at least one request with the model's max seq len ({largest + 1}), "
        f"({needed(largest + 1) / GIB:.2f} GiB KV cache is needed")


def test_the_utilization_fix_for_a_busy_gpu_clears_the_refusal() -> None:
    # 83.8 % of the card is free: vLLM's check wants utilization x total <= free, so the
    # suggested value must round down (0.83), never to 0.84 (which vLLM refuses again).
    gpu = GpuSpec(0, "NVIDIA GeForce RTX 4090", 24 * GIB, int(24 * GIB * 0.838), "8.9")
    plan = vplan("qwen2.5-vl-3b-instruct", (gpu,), max_model_len=8192)
    assert plan.starts is False and plan.message.startswith("Free memory on device cuda:0")
    assert plan.fixes == ("--gpu-memory-utilization 0.83",)
    again = vplan("qwen2.5-vl-3b-instruct", (gpu,), max_model_len=8192,
                  gpu_memory_utilization=0.83)
    assert not again.message.startswith("Free memory")


def test_tensor_parallel_budget_is_the_smallest_gpus() -> None:
    plan = vplan("qwen2.5-vl-7b-instruct", "RTX4090,T4", tensor_parallel_size=2,
                 max_model_len=4096)
    assert plan.per_rank["budget_bytes"] == int(16 * GIB * 0.9)  # the T4's 16 GiB, not 24


def test_out_of_memory_fixes_offer_more_gpus_only_when_there_are_more() -> None:
    one = vplan("qwen2.5-vl-72b-instruct", "1xRTX4090", max_model_len=4096)
    assert one.starts is False
    assert one.fixes == ("--enforce-eager", "--gpu-memory-utilization 0.95",
                         "--mm-processor-kwargs '{\"max_pixels\": 1003520}'")
    two = vplan("qwen2.5-vl-72b-instruct", "2xRTX4090", max_model_len=4096)
    assert two.fixes[0] == "--tensor-parallel-size 2"


@pytest.mark.parametrize("value", [1.0, 0.5])
def test_utilization_up_to_one_is_accepted(value: float) -> None:
    plan = vplan("qwen2.5-vl-3b-instruct", "1xA100-80GB", gpu_memory_utilization=value,
                 max_model_len=8192)
    assert plan.starts is True


@pytest.mark.parametrize("value", [0.0, 1.01])
def test_utilization_outside_zero_to_one_is_an_input_error(value: float) -> None:
    with pytest.raises(InputError, match=rf"--gpu-memory-utilization {value}: must be more "
                                         "than 0 and at most 1"):
        vplan("qwen2.5-vl-3b-instruct", "1xA100-80GB", gpu_memory_utilization=value)


def test_fewer_sequences_leave_more_kv_cache_without_images() -> None:
    # vLLM's sampler warm-up computes fp32 logits for max_num_seqs sequences.
    many = vplan("qwen2.5-vl-7b-instruct", "1xA100-80GB", images=0)
    few = vplan("qwen2.5-vl-7b-instruct", "1xA100-80GB", images=0, max_num_seqs=1)
    gained = few.per_rank["kv_available_bytes"] - many.per_rank["kv_available_bytes"]
    assert gained == 255 * 152064 * 4  # 255 fewer rows of the 152,064-token vocabulary


def test_heads_not_divisible_suggest_the_largest_size_that_divides_even_one() -> None:
    base = card("qwen2.5-vl-7b-instruct")
    odd = change(base, architecture=change(base.architecture, num_attention_heads=7))
    plan = vllm_plan(PlanRequest(card=odd, gpus=parse_gpus("2xRTX4090")),
                     VllmOptions(tensor_parallel_size=2))
    assert plan.starts is False
    assert plan.message == ("Total number of attention heads (7) must be divisible by tensor "
                            "parallel size (2).")
    assert plan.fixes == ("--tensor-parallel-size 1",)
