"""The last rung: load a VLM with ``from_pretrained(device_map=...)`` and generate.

Runs in the child. ``tiny_vlm`` builds the family's architecture with random weights,
saves it as safetensors and loads it back; ``real_weights`` loads the user's local
weights (no download). Both check the token count and that the logits are finite.
"""

from __future__ import annotations

import os
import re
import time
from typing import Any

from vlmdoctor.probe import tiny
from vlmdoctor.probe.context import CheckFailed, Context
from vlmdoctor.probe.placement import ModelLayout, balanced_device_map

_VISION = re.compile(r"vision|visual|vit\b|image")
_LAYER_LISTS = ("layers", "layer", "h", "blocks")


def model_layout(torch: Any, model: Any) -> ModelLayout:
    """Find the decoder's layer list and everything outside it that a map must cover."""
    best: tuple[str, int] | None = None
    for name, module in model.named_modules():
        if (isinstance(module, torch.nn.ModuleList) and name.rsplit(".", 1)[-1] in _LAYER_LISTS
                and not _VISION.search(name) and (best is None or len(module) > best[1])):
            best = (name, len(module))
    if best is None:
        raise CheckFailed("could not find the decoder layers to place on devices")
    others: list[str] = []
    node, path = model, ""
    for part in best[0].split("."):
        owned = [n for n, _ in node.named_children() if n != part]
        owned += [n for n, _ in node.named_parameters(recurse=False)]
        owned += [n for n, _ in node.named_buffers(recurse=False)]
        others += [f"{path}{n}" for n in owned]
        node, path = getattr(node, part), f"{path}{part}."
    config = model.config
    text = getattr(config, "text_config", None) or config
    tied = bool(getattr(config, "tie_word_embeddings", False)
                or getattr(text, "tie_word_embeddings", False))
    return ModelLayout(best[0], best[1], tuple(others), tied)


def _dtype_kwarg(tf: Any) -> str:
    """transformers renamed ``torch_dtype`` to ``dtype`` in 4.56; v5 warns on the old name."""
    return "dtype" if tiny.version(tf) >= (4, 56) else "torch_dtype"


def _reset_peaks(ctx: Context) -> None:
    if ctx.device == "cuda":
        for index in ctx.gpus:
            ctx.torch.cuda.reset_peak_memory_stats(index)


def _sane(torch: Any, values: Any, raw: bool) -> bool:
    bad = ~torch.isfinite(values) if raw else torch.isnan(values) | (values == float("inf"))
    return not bool(bad.any())


def _generate(ctx: Context, model: Any, inputs: dict[str, Any], **special: Any) -> str:
    """Generate exactly ``max_new_tokens`` (min_new_tokens holds EOS back) and check them."""
    torch, want = ctx.torch, ctx.max_new_tokens
    # Raw logits arrived in 4.38 (output_logits); before, the scores are checked for NaN/+inf
    # (min_new_tokens legitimately sets EOS to -inf there).
    raw = hasattr(ctx.transformers.GenerationConfig(), "output_logits")
    special["output_logits" if raw else "output_scores"] = True
    started = time.perf_counter()
    with torch.inference_mode():
        out = model.generate(**inputs, **special, max_new_tokens=want, min_new_tokens=want,
                             do_sample=False, return_dict_in_generate=True)
    ctx.synchronize()
    seconds = time.perf_counter() - started
    got = int(out.sequences.shape[-1] - inputs["input_ids"].shape[-1])
    ctx.generated_tokens = max(got, 0)
    ctx.tokens_per_second = round(got / seconds, 2) if seconds > 0 and got > 0 else None
    if ctx.device == "cuda":
        ctx.peak_memory = {i: int(torch.cuda.max_memory_allocated(i)) for i in ctx.gpus}
    if got != want:
        raise CheckFailed(f"generate returned {got} new tokens, expected {want}")
    logits = (getattr(out, "logits", None) if raw else out.scores) or ()
    if not logits or not all(_sane(torch, x.float(), raw) for x in logits):
        raise CheckFailed("generate produced non-finite logits (NaN or inf)")
    return f"generated {got}/{want} tokens in {seconds:.2f} s, logits finite"


def _where(device_map: dict[str, Any]) -> str:
    used = sorted({str(v) for v in device_map.values()})
    return f"{len(device_map)} modules over {', '.join(used)}"


def tiny_vlm(ctx: Context) -> str:
    tf = ctx.transformers
    model_type, note = tiny.resolve(tf, ctx.family, ctx.hf_model_type)
    config, model_class, make_inputs = tiny.BUILDERS[model_type](tf, max(2, len(ctx.gpus)))
    ctx.torch.manual_seed(0)
    return f"{note} ({toy_run(ctx, model_class(config), model_class, make_inputs)}"


def _balanced(ctx: Context, model: Any) -> dict[str, Any]:
    if ctx.device_map:
        return dict(ctx.device_map)
    try:
        return balanced_device_map(model_layout(ctx.torch, model), ctx.devices)
    except CheckFailed:  # no decoder layer list found: the whole model on the first device
        return {"": ctx.devices[0]}


def toy_run(ctx: Context, model: Any, model_class: Any, make_inputs: tiny.Inputs) -> str:
    """Save a randomly initialised ``model`` as safetensors, load it back with a device map
    and generate; the detail (without the leading note) says what ran where."""
    torch, tf = ctx.torch, ctx.transformers
    device_map = _balanced(ctx, model)
    path = os.path.join(ctx.workdir, "tiny-vlm")
    model.save_pretrained(path)
    size = sum(os.path.getsize(os.path.join(path, f)) for f in os.listdir(path)
               if f.endswith(".safetensors"))
    del model
    _reset_peaks(ctx)
    started = time.perf_counter()
    loaded = model_class.from_pretrained(path, device_map=device_map,
                                         **{_dtype_kwarg(tf): ctx.torch_dtype()})
    loaded.eval()
    load_seconds = time.perf_counter() - started
    first = ctx.devices[0]
    device = f"cuda:{first}" if ctx.device == "cuda" else "cpu"
    generated = _generate(ctx, loaded, make_inputs(torch, device, ctx.torch_dtype()),
                          pad_token_id=tiny.PAD, eos_token_id=tiny.EOS)
    return (f"{model_class.__name__}, {size / 1e6:.1f} MB safetensors, "
            f"{ctx.dtype}, {_where(device_map)}); loaded in {load_seconds:.2f} s; {generated}")


def _planned(ctx: Context, loader: Any, config: Any) -> Any:
    """The balanced map for the real model, from its skeleton on the meta device;
    accelerate's 'auto' when the skeleton cannot be built."""
    if ctx.device == "cpu":
        return {"": "cpu"}
    try:
        from accelerate import init_empty_weights

        with init_empty_weights():
            skeleton = loader.from_config(config, trust_remote_code=ctx.trust_remote_code)
        return balanced_device_map(model_layout(ctx.torch, skeleton), ctx.devices)
    except Exception:  # the real load below reports real problems
        return "auto"


def real_weights(ctx: Context) -> str:
    from vlmdoctor.probe import consent, local

    torch, tf = ctx.torch, ctx.transformers
    path = str(ctx.weights)
    common: dict[str, Any] = {"local_files_only": True, "trust_remote_code": ctx.trust_remote_code}
    raw = local.raw_config(path)
    refused = ""
    if consent.has_remote_code(raw) and not ctx.trust_remote_code:
        # the directory's code is not run: transformers' own class loads the weights, or
        # (none for this model_type) the architecture's tiny stand-in runs instead
        refused = consent.refused_note(sorted(local.code_files(path)))
        config = consent.native_config(tf, raw)
        if config is None:
            return f"{refused}; weights not loaded; ran instead: {tiny_vlm(ctx)}"
        common["config"] = config
        refused += "; ran instead: "
    else:
        config = tf.AutoConfig.from_pretrained(path, **common)
    auto_map = getattr(config, "auto_map", None) or {}
    names = ("AutoModelForImageTextToText", "AutoModelForVision2Seq", "AutoModelForCausalLM")
    loader = next((getattr(tf, n) for n in names if hasattr(tf, n) and (
        n in auto_map or type(config) in getattr(getattr(tf, n), "_model_mapping", {}))), None)
    if loader is None:
        raise CheckFailed(f"no transformers auto class loads model_type "
                          f"{getattr(config, 'model_type', '?')!r} from {path}")
    device_map = dict(ctx.device_map) if ctx.device_map else _planned(ctx, loader, config)
    _reset_peaks(ctx)
    started = time.perf_counter()
    model = loader.from_pretrained(path, device_map=device_map,
                                   **{_dtype_kwarg(tf): ctx.torch_dtype()}, **common)
    model.eval()
    load_seconds = time.perf_counter() - started
    where = getattr(model, "hf_device_map", None) or {"": "cpu"}
    first = next(iter(where.values()))
    device = f"cuda:{first}" if isinstance(first, int) else "cpu"
    ids = torch.tensor([[tiny.BOS, 5, 6, 7, 8]], device=device)
    generated = _generate(ctx, model, {"input_ids": ids, "attention_mask": torch.ones_like(ids)})
    return (f"{refused}{type(model).__name__} from {path} ({ctx.dtype}, {_where(where)}); "
            f"loaded in {load_seconds:.2f} s; text-only prompt; {generated}")
