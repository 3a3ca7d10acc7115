"""``plan --engine vllm``: will ``vllm serve`` start, and with which flags.

How vLLM (V1) sizes memory, from its code and docs:
- each worker takes ``gpu_memory_utilization`` (default 0.9) x the GPU's *total* memory, and
  refuses to start when less than that is free ("Free memory on device ... on startup is less
  than desired GPU memory utilization", vllm/v1/worker/gpu_worker.py);
- it loads its shard of the weights (tensor parallelism splits the layers' weights and the
  KV heads across ``--tensor-parallel-size`` GPUs), then runs a profiling forward pass with
  ``max_num_batched_tokens`` tokens and dummy multimodal inputs at the processor's largest
  size (``--limit-mm-per-prompt`` items; ``--mm-processor-kwargs`` shrink them), and
  captures CUDA graphs (none with ``--enforce-eager``);
- what is left of the budget becomes the KV cache, in blocks of 16 tokens, which must hold one
  request of ``max_model_len`` tokens, else it stops with the messages of
  ``_check_enough_kv_cache_memory`` (vllm/v1/core/kv_cache_utils.py).
Sources: https://docs.vllm.ai/en/latest/configuration/conserving_memory/ and the files above.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from vlmdoctor.errors import InputError
from vlmdoctor.plan.checkpoint import vllm_refusal
from vlmdoctor.plan.constants import CUDA_CONTEXT_BYTES, GIB
from vlmdoctor.plan.memory import head_dim
from vlmdoctor.plan.request import PlanRequest
from vlmdoctor.plan.stored import as_stored, request_weights
from vlmdoctor.plan.tokens import image_load
from vlmdoctor.plan.weights import components, float_dtype

DEFAULT_UTILIZATION = 0.9  # vllm/config/cache.py gpu_memory_utilization
BLOCK_SIZE = 16  # vllm/config/cache.py block_size default on CUDA
DEFAULT_BATCHED_TOKENS = 8192  # `vllm serve` default max_num_batched_tokens on GPUs (V1)
DEFAULT_MAX_SEQS = 256  # max_num_seqs default: the sampler's dummy run uses this many logits
# CUDA graphs: vLLM measures them at start-up ("Estimated CUDA graph memory"); no formula is
# published, so vlmdoctor reserves 1 GiB (its own estimate), nothing with --enforce-eager.
CUDA_GRAPH_BYTES = 1 * GIB
TOO_SMALL = ("To serve at least one request with the model's max seq len ({length}), "
             "({needed:.2f} GiB KV cache is needed, which is larger than the available KV cache "
             "memory ({available:.2f} GiB). {estimate}Try increasing `gpu_memory_utilization` "
             "or decreasing `max_model_len` when initializing the engine.")
NO_MEMORY = ("No available memory for the cache blocks. Try increasing "
             "`gpu_memory_utilization` when initializing the engine.")
FREE = ("Free memory on device cuda:{index} ({free:.2f}/{total:.2f} GiB) on startup is less "
        "than desired GPU memory utilization ({util}, {want:.2f} GiB). Decrease GPU memory "
        "utilization or reduce GPU memory used by other processes.")


@dataclass(frozen=True)
class VllmOptions:
    tensor_parallel_size: int = 1
    max_model_len: int | None = None  # None: the model's own context length
    gpu_memory_utilization: float = DEFAULT_UTILIZATION
    max_num_batched_tokens: int = DEFAULT_BATCHED_TOKENS
    max_num_seqs: int = DEFAULT_MAX_SEQS
    enforce_eager: bool = False


@dataclass(frozen=True)
class VllmPlan:
    starts: bool | None  # None: cannot tell (a number is missing)
    message: str  # what vLLM prints when it does not start ("" when it starts)
    max_model_len: int | None
    largest_max_model_len: int | None
    per_rank: dict[str, int]
    fixes: tuple[str, ...]
    notes: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"engine": "vllm", "starts": self.starts, "message": self.message,
                "max_model_len": self.max_model_len,
                "largest_max_model_len": self.largest_max_model_len,
                "per_rank": dict(self.per_rank), "fixes": list(self.fixes),
                "notes": list(self.notes)}


def validate(options: VllmOptions, gpus: int) -> None:
    tp = options.tensor_parallel_size
    if tp < 1 or tp > max(gpus, 1):
        raise InputError(f"--tensor-parallel-size {tp}: must be between 1 and the {gpus} GPU(s)")
    if not 0 < options.gpu_memory_utilization <= 1:
        raise InputError(f"--gpu-memory-utilization {options.gpu_memory_utilization}: must be "
                         "more than 0 and at most 1")
    for name, value in (("--max-model-len", options.max_model_len),
                        ("--max-num-batched-tokens", options.max_num_batched_tokens),
                        ("--max-num-seqs", options.max_num_seqs)):
        if value is not None and not 1 <= value <= 1 << 31:
            raise InputError(f"{name} {value}: must be between 1 and {1 << 31}")


def _unknown(notes: list[str], why: str) -> VllmPlan:
    return VllmPlan(None, "", None, None, {}, (), (*notes, f"not sized: {why}"))


def vllm_plan(request: PlanRequest, options: VllmOptions) -> VllmPlan:
    """One rank's budget; all ranks are alike under tensor parallelism."""
    validate(options, len(request.gpus))
    if request.checkpoint is not None:  # vLLM runs FP8 weight-only (Marlin) below 8.9
        request = replace(request, checkpoint=replace(request.checkpoint,
                                                      dequantised_below=None))
    card, a, tp = request.card, request.card.architecture, options.tensor_parallel_size
    notes = [f"gpu_memory_utilization {options.gpu_memory_utilization}, tensor parallel {tp}, "
             f"max_num_batched_tokens {options.max_num_batched_tokens}, KV blocks of "
             f"{BLOCK_SIZE} tokens"]
    if tp > 1:
        notes.append("the vision tower is counted sharded like the language model "
                     "(--mm-encoder-tp-mode data replicates it on every rank instead)")
    comp = components(card)
    if comp is None or not request.gpus:
        return _unknown(notes, "no parameter count" if comp is None else "no GPU to plan on")
    if a.num_attention_heads and a.num_attention_heads % tp:
        message = (f"Total number of attention heads ({a.num_attention_heads}) must be "
                   f"divisible by tensor parallel size ({tp}).")
        divisors = tuple(f"--tensor-parallel-size {t}" for t in range(tp - 1, 0, -1)
                         if a.num_attention_heads % t == 0)[:1]
        return VllmPlan(False, message, None, None, {}, divisors, tuple(notes))
    refused = vllm_refusal(request.checkpoint, tuple(g.cc for g in request.gpus[:tp]))
    if refused:
        return VllmPlan(False, refused, None, None, {}, (), tuple(notes))
    dtype = request.resolved_dtype
    b = int({"fp32": 4}.get(float_dtype(dtype, card.native_dtype), 2))
    w = request_weights(request, comp)
    ckpt = as_stored(request)
    if ckpt is not None:
        notes.append(f"weights: the {ckpt.label} checkpoint as stored "
                     f"({w.total(comp.layers):,} bytes before tensor parallelism)")
    weights = w.total(comp.layers) // tp
    hd = head_dim(card)
    if not (a.num_kv_heads and hd and comp.layers):
        return _unknown(notes, "KV cache (num_kv_heads/head_dim/lm_layers unknown)")
    per_token = 2 * comp.layers * max(1, a.num_kv_heads // tp) * hd * b
    tokens = options.max_num_batched_tokens
    width = a.intermediate_size or 4 * (a.hidden_size or 0)
    lm_peak = tokens * ((a.hidden_size or 0) * 2 + 3 * width // tp) * b
    sampler = options.max_num_seqs * (a.vocab_size or 0) * 4 // tp
    image = image_load(card.images, request.max_pixels) if request.images else None
    vision_peak = 0
    if image is not None and a.vision_hidden_size:
        vision_peak = request.images * image.patches * 10 * a.vision_hidden_size * b // tp
        notes.append(f"profiling run with {request.images} image(s) at the largest size: "
                     f"{image.note}")
    peak = max(lm_peak + sampler, vision_peak)
    graphs = 0 if options.enforce_eager else CUDA_GRAPH_BYTES
    gpu = min(request.gpus[:tp], key=lambda g: g.memory_total_bytes)
    budget = int(gpu.memory_total_bytes * options.gpu_memory_utilization)
    available = budget - weights - peak - graphs - CUDA_CONTEXT_BYTES
    length = options.max_model_len or a.max_context
    per_rank = {"budget_bytes": budget, "weights_bytes": weights, "activation_peak_bytes": peak,
                "cuda_graph_bytes": graphs, "non_torch_bytes": CUDA_CONTEXT_BYTES,
                "kv_available_bytes": max(available, 0), "kv_bytes_per_token": per_token}
    block = BLOCK_SIZE * per_token
    largest = (available // block) * BLOCK_SIZE if available > 0 else 0
    if a.max_context:  # vLLM refuses a max_model_len above the model's own context length
        largest = min(largest, a.max_context)
    fixes: list[str] = []
    free = gpu.memory_free_bytes
    if free is not None and free < budget:
        util = round(free / gpu.memory_total_bytes - 0.005, 2)
        return VllmPlan(False, FREE.format(index=gpu.index, free=free / GIB,
                                           total=gpu.memory_total_bytes / GIB,
                                           util=options.gpu_memory_utilization,
                                           want=budget / GIB),
                        length, None, per_rank, (f"--gpu-memory-utilization {util}",), tuple(notes))
    if available <= 0:
        fixes = _more_room(request, options, card.images is not None)
        return VllmPlan(False, NO_MEMORY, length, 0, per_rank, tuple(fixes), tuple(notes))
    if not length:
        notes.append("not sized: the model's context length is unknown; pass --max-model-len")
        return VllmPlan(None, "", None, largest, per_rank, (), tuple(notes))
    needed = -(-length // BLOCK_SIZE) * block
    if needed <= available:
        return VllmPlan(True, "", length, largest, per_rank, (), tuple(notes))
    estimate = (f"Based on the available memory, the estimated maximum model length is "
                f"{largest}. " if largest > 0 else "")
    message = TOO_SMALL.format(length=length, needed=needed / GIB, available=available / GIB,
                               estimate=estimate)
    if largest > 0:
        fixes.append(f"--max-model-len {largest}")
    fixes.extend(_more_room(request, options, card.images is not None))
    return VllmPlan(False, message, length, largest, per_rank, tuple(fixes), tuple(notes))


def _more_room(request: PlanRequest, options: VllmOptions, images: bool) -> list[str]:
    out = []
    if options.tensor_parallel_size < len(request.gpus):
        out.append(f"--tensor-parallel-size {len(request.gpus)}")
    if not options.enforce_eager:
        out.append("--enforce-eager")
    if options.gpu_memory_utilization < 0.95:
        out.append("--gpu-memory-utilization 0.95")
    card_images = request.card.images
    if images and card_images is not None and card_images.kind == "qwen-pixels" \
            and card_images.pixels_per_token:  # the Qwen2-VL README's suggested 1280 tokens
        pixels = 1280 * card_images.pixels_per_token
        out.append(f"--mm-processor-kwargs '{{\"max_pixels\": {pixels}}}'")
    return out


def with_images(request: PlanRequest, limit: int | None, max_pixels: int | None) -> PlanRequest:
    """The request as vLLM profiles it: ``limit`` items per prompt at the processor's size."""
    return replace(request, images=request.images if limit is None else limit,
                   max_pixels=max_pixels if max_pixels is not None else request.max_pixels)
