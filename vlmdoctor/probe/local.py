"""The last rung for a local model: its own architecture, from its own files, at toy size.

Runs in the child. The model's ``config.json`` is read with ``AutoConfig`` from the local
directory only (``local_files_only``), shrunk by ``shrink``, built with the model's own
class and random weights, then saved, loaded back with a device map and run with
``generate`` by the same code as the tiny stand-ins. The directory's own Python (an
``auto_map``) runs only with the user's ``--trust-remote-code`` and only from the directory
itself; without it (see ``consent``) transformers' own class for the ``model_type`` stands
in, or the tiny stand-in of the architecture, and the detail says what was not run. Known architectures get an image prompt (their
image geometry comes from the matching tiny recipe); others get a text-only prompt.

When the toy-size build fails, the model is built at full size on the meta device (its
``__init__`` runs, no memory is used) and the step says what was and was not exercised.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from vlmdoctor.probe import consent, generate, shrink, tiny
from vlmdoctor.probe.context import CheckFailed, Context
from vlmdoctor.probe.frames import model_frame
from vlmdoctor.probe.protocol import META_ONLY

# Image geometry a tiny recipe's inputs depend on, copied over the shrunk config.
GEOMETRY = frozenset({
    "image_size", "patch_size", "spatial_merge_size", "temporal_patch_size", "image_seq_length",
    "image_token_id", "image_token_index", "video_token_id", "vision_start_token_id",
    "vision_end_token_id", "downsample_ratio", "scale_factor", "image_grid_pinpoints",
    "window_size", "fullatt_block_indexes", "vision_feature_select_strategy"})
_LOADERS = ("AutoModelForImageTextToText", "AutoModelForVision2Seq", "AutoModelForCausalLM",
            "AutoModel")


def code_files(path: str) -> frozenset[str]:
    """The model directory's own Python files (what a remote-code frame may point at)."""
    try:
        return frozenset(n for n in os.listdir(path) if n.endswith(".py"))
    except OSError:
        return frozenset()


def raw_config(path: str) -> dict[str, Any]:
    with open(os.path.join(path, "config.json"), encoding="utf-8") as handle:
        raw = json.load(handle)
    if not isinstance(raw, dict):
        raise CheckFailed(f"{path}/config.json is not a JSON object")
    return raw


def _remote(raw: dict[str, Any]) -> bool:
    """Whether the config names remote code; only the directory's own files are allowed."""
    refs = consent.remote_refs(raw)
    foreign = [r for r in refs if "--" in r]
    if foreign:
        raise CheckFailed(f"auto_map points at code in another repository ({foreign[0]}); "
                          "the probe runs only the model directory's own code")
    return bool(refs)


def _model_class(tf: Any, config: Any, path: str, remote: bool) -> Any:
    auto_map = getattr(config, "auto_map", None) or {}
    if remote:
        from transformers.dynamic_module_utils import get_class_from_dynamic_module

        key = next((k for k in _LOADERS if k in auto_map), None)
        if key is None:
            raise CheckFailed(f"auto_map has no model class ({', '.join(_LOADERS)})")
        return get_class_from_dynamic_module(auto_map[key], path, local_files_only=True)
    for name in getattr(config, "architectures", None) or ():
        if isinstance(name, str) and isinstance(getattr(tf, name, None), type):
            return getattr(tf, name)
    for name in _LOADERS:
        mapping = getattr(getattr(tf, name, None), "_model_mapping", None)
        if mapping is not None and type(config) in mapping:
            return mapping[type(config)]
    raise CheckFailed(f"no transformers class builds model_type "
                      f"{getattr(config, 'model_type', '?')!r} (architectures "
                      f"{getattr(config, 'architectures', None)})")


def _rope_defaults(model_class: Any) -> dict[str, Any]:
    """What the model's modeling file assumes for rope settings a config leaves out (read
    as text from the already imported module's file)."""
    module = sys.modules.get(str(getattr(model_class, "__module__", "")))
    path = getattr(module, "__file__", None)
    try:
        with open(str(path), encoding="utf-8") as handle:
            return shrink.rope_defaults_in(handle.read(8 << 20))
    except (OSError, UnicodeDecodeError):
        return {}


def _text_prompt(torch: Any, device: Any, dtype: Any) -> dict[str, Any]:
    ids = torch.tensor([[tiny.BOS, 5, 6, 7, 8]], device=device)
    return {"input_ids": ids, "attention_mask": torch.ones_like(ids)}


def _meta_only(ctx: Context, model_class: Any, config: Any, why: BaseException) -> str:
    """Build the model at full size on the meta device; raises what its __init__ raises."""
    try:
        from accelerate import init_empty_weights

        empty: Any = init_empty_weights()
    except ImportError:
        empty = ctx.torch.device("meta")
    with empty:
        model = model_class(config)
    count = sum(p.numel() for p in model.parameters())
    where = model_frame(why.__traceback__, code_files(str(ctx.model_path)))
    reason = f"{type(why).__name__}: {str(why).splitlines()[0] if str(why) else ''}"
    return (f"{META_ONLY}: {model_class.__name__}.__init__ ran at full size "
            f"({count / 1e9:.2f} B parameters) on the meta device; the toy-size build failed "
            f"({reason}{f' at {where}' if where else ''}); not exercised: weights, device "
            "map, forward, generate")


def local_model(ctx: Context) -> str:
    tf, path = ctx.transformers, str(ctx.model_path)
    raw = raw_config(path)
    if consent.has_remote_code(raw) and not ctx.trust_remote_code:
        return _without_code(ctx, raw)
    remote = _remote(raw)
    config = tf.AutoConfig.from_pretrained(path, local_files_only=True,
                                           trust_remote_code=remote and ctx.trust_remote_code)
    return _toy(ctx, config, _model_class(tf, config, path, remote), remote)


def _without_code(ctx: Context, raw: dict[str, Any]) -> str:
    """The model names its own code and the user did not trust it: build transformers'
    class for its model_type when there is one, else the architecture's tiny stand-in."""
    refused = consent.refused_note(sorted(code_files(str(ctx.model_path))))
    config = consent.native_config(ctx.transformers, raw)
    if config is None:
        return f"{refused}; ran instead: {generate.tiny_vlm(ctx)}"
    model_class = _model_class(ctx.transformers, config, str(ctx.model_path), False)
    return f"{refused}; ran instead: {_toy(ctx, config, model_class, False)}"


def _toy(ctx: Context, config: Any, model_class: Any, remote: bool) -> str:
    tf = ctx.transformers
    layers = max(2, len(ctx.gpus))
    model_type = str(getattr(config, "model_type", "?"))
    recipe = (tiny.BUILDERS[model_type](tf, layers) if not remote and model_type in tiny.BUILDERS
              and hasattr(tf, tiny.CLASSES[model_type]) else None)
    try:
        small, changed = shrink.shrink(config.to_dict(), layers, _rope_defaults(model_class))
        if recipe is not None:
            shrink.overlay(small, recipe[0].to_dict(), GEOMETRY)
        ctx.torch.manual_seed(0)
        model = model_class(type(config).from_dict(small))
    except Exception as exc:  # the shrunk config is not buildable: run __init__ at full size
        return _meta_only(ctx, model_class, config, exc)
    prompt = "image prompt" if recipe is not None else (
        "text-only prompt: the vision part is built and loaded, not run")
    origin = "remote code from the model directory" if remote else f"transformers {model_type}"
    note = f"{model_type} ({origin}) at toy size, {changed} config values shrunk, {prompt}"
    return f"{note} ({generate.toy_run(ctx, model, model_class, recipe[2] if recipe else _text_prompt)}"
