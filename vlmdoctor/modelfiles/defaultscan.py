"""The defaults of transformers' config classes, read from ``configuration_*.py`` by ``ast``.

Maintainer-side only (``scripts/build_config_defaults.py``); never imported at run time.
A config class keeps its defaults in one of two shapes:

- transformers 4.x and early 5.x: keyword defaults of ``__init__``
  (``def __init__(self, vocab_size=32000, hidden_size=4096, ...)``);
- later 5.x: dataclass-style class attributes (``hidden_size: int = 4096``).

Sub-configs (``vision_config``, ``text_config``, ...) name the model type a missing or
type-less sub-config becomes, and the keyword arguments it is built with when absent:
``CONFIG_MAPPING["clip_vision_model"](image_size=336, ...)`` or ``SiglipVisionConfig()`` in
``__init__`` (4.x), ``sub_configs_defaults = {"vision_config": SubConfigSpec(model_type=...,
init_kwargs={...})}`` (5.x), or ``sub_configs = {"text_config": Gemma3TextConfig}``.
Only literal values are kept; a default computed at run time is simply not known.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any

# The fields the planner and the facts reader use (top-level and sub-configs).
WANTED = frozenset({
    "num_hidden_layers", "hidden_size", "num_attention_heads", "num_key_value_heads",
    "head_dim", "intermediate_size", "vocab_size", "max_position_embeddings",
    "tie_word_embeddings", "rope_theta", "rope_scaling", "rope_parameters", "sliding_window",
    "image_size", "patch_size", "spatial_merge_size", "temporal_patch_size", "merge_size",
    "depth", "embed_dim", "num_heads", "width", "layers", "hidden_dim", "out_hidden_size",
    "d_model", "n_layer", "n_head", "n_embd", "num_layers", "ffn_dim", "seq_length",
    "multi_query_group_num", "num_local_experts", "num_experts", "n_routed_experts",
    "mm_tokens_per_image", "image_seq_length", "num_image_tokens", "image_seq_len",
    "num_query_tokens", "query_num", "downsample_ratio", "scale_factor", "vision_use_head",
    "vision_feature_select_strategy", "vision_feature_layer", "max_num_tiles",
    "num_channels", "projection_dim", "encoder_layers", "decoder_layers",
    "encoder_attention_heads", "decoder_attention_heads", "encoder_ffn_dim", "decoder_ffn_dim",
    "image_token_count", "vision_feature_layers",
})
SUB_KEYS = ("text_config", "vision_config", "llm_config", "language_config",
            "audio_config", "vision_tower_config", "qformer_config", "projector_config")


@dataclass
class ClassFacts:
    name: str
    bases: tuple[str, ...]
    model_type: str | None
    defaults: dict[str, Any] = field(default_factory=dict)
    # sub key -> {"model_type": str | None, "class": str | None, "init": {...}}
    subs: dict[str, dict[str, Any]] = field(default_factory=dict)


def _literal(node: ast.AST | None) -> tuple[bool, Any]:
    if node is None:
        return False, None
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False, None
    return _plain(value), value


def _plain(value: Any) -> bool:
    if isinstance(value, (list, tuple)):
        return all(_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    return value is None or isinstance(value, (str, int, float, bool))


def _name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _kwargs(call: ast.Call) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kw in call.keywords:
        ok, value = _literal(kw.value)
        if kw.arg and ok:
            out[kw.arg] = value
    return out


def _sub_from_call(call: ast.Call) -> dict[str, Any] | None:
    """``CONFIG_MAPPING["x"](...)``, ``SomeConfig(...)``, ``SubConfigSpec(model_type=...)``."""
    func = call.func
    if isinstance(func, ast.Subscript) and _name(func.value) == "CONFIG_MAPPING":
        ok, key = _literal(func.slice)
        if ok and isinstance(key, str):
            return {"model_type": key, "class": None, "init": _kwargs(call)}
        return None
    name = _name(func)
    if name == "SubConfigSpec":
        kw = _kwargs(call)
        cls = next((_name(k.value) for k in call.keywords if k.arg == "config_class"), None)
        init = kw.get("init_kwargs") if isinstance(kw.get("init_kwargs"), dict) else {}
        return {"model_type": kw.get("model_type") if isinstance(kw.get("model_type"), str)
                else None, "class": None if cls == "AutoConfig" else cls, "init": init}
    if name and name.endswith("Config") and name not in ("AutoConfig", "PretrainedConfig",
                                                          "PreTrainedConfig"):
        if any(k.arg is None for k in call.keywords) or call.args:
            return {"model_type": None, "class": name, "init": {}}  # SomeConfig(**d)
        return {"model_type": None, "class": name, "init": _kwargs(call)}
    return None


def _sub_key(target: ast.AST) -> str | None:
    name = _name(target)
    return name if name in SUB_KEYS else None


def _scan_init(fn: ast.FunctionDef, facts: ClassFacts) -> None:
    args = fn.args
    positional = args.args[len(args.args) - len(args.defaults):]
    for arg, default in [*zip(positional, args.defaults),
                         *zip(args.kwonlyargs, args.kw_defaults)]:
        ok, value = _literal(default)
        if arg.arg in WANTED and ok:
            facts.defaults[arg.arg] = value
    for node in ast.walk(fn):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            keys = [k for k in (_sub_key(t) for t in node.targets) if k]
            sub = _sub_from_call(node.value)
            if keys and sub is not None:
                _merge_sub(facts, keys[0], sub)
        # text_config.get("model_type", "llama") / "model_type" in d else "llama"
        if isinstance(node, ast.Call) and _name(node.func) == "get" and len(node.args) == 2:
            owner = node.func.value if isinstance(node.func, ast.Attribute) else None
            ok, key = _literal(node.args[0])
            ok2, default = _literal(node.args[1])
            key_name = _name(owner) if owner is not None else None
            if ok and ok2 and key == "model_type" and isinstance(default, str) \
                    and key_name in SUB_KEYS:
                facts.subs.setdefault(key_name, {"model_type": None, "class": None, "init": {}})
                facts.subs[key_name].setdefault("fallback_type", default)
        if isinstance(node, ast.IfExp) and isinstance(node.orelse, ast.Constant) \
                and isinstance(node.orelse.value, str) and isinstance(node.test, ast.Compare):
            test = node.test
            owner_name = _name(test.comparators[0]) if test.comparators else None
            ok, key = _literal(test.left)
            if ok and key == "model_type" and owner_name in SUB_KEYS:
                facts.subs.setdefault(owner_name, {"model_type": None, "class": None, "init": {}})
                facts.subs[owner_name].setdefault("fallback_type", node.orelse.value)


def _merge_sub(facts: ClassFacts, key: str, sub: dict[str, Any]) -> None:
    have = facts.subs.setdefault(key, {"model_type": None, "class": None, "init": {}})
    # The call with literal keyword arguments is the one for a missing sub-config.
    if sub["model_type"] and not have.get("model_type"):
        have["model_type"] = sub["model_type"]
    if sub["class"] and not have.get("class"):
        have["class"] = sub["class"]
    if sub["init"] and not have["init"]:
        have["init"] = sub["init"]


def _scan_class(node: ast.ClassDef) -> ClassFacts:
    facts = ClassFacts(node.name, tuple(n for n in (_name(b) for b in node.bases) if n), None)
    for stmt in node.body:
        value: ast.expr | None
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            target, value = _name(stmt.targets[0]), stmt.value
        elif isinstance(stmt, ast.AnnAssign):
            target, value = _name(stmt.target), stmt.value
        else:
            if isinstance(stmt, ast.FunctionDef) and stmt.name == "__init__":
                _scan_init(stmt, facts)
            continue
        if target == "model_type":
            ok, mt = _literal(value)
            facts.model_type = mt if ok and isinstance(mt, str) else None
        elif target in WANTED and isinstance(stmt, ast.AnnAssign):
            ok, v = _literal(value)
            if ok:
                facts.defaults[target] = v
        elif target in ("sub_configs", "sub_configs_defaults") and isinstance(value, ast.Dict):
            for k, v in zip(value.keys, value.values):
                ok, key = _literal(k)
                if not (ok and isinstance(key, str)):
                    continue
                sub = _sub_from_call(v) if isinstance(v, ast.Call) else (
                    {"model_type": None, "class": _name(v), "init": {}}
                    if _name(v) not in (None, "AutoConfig") else None)
                if sub is not None:
                    _merge_sub(facts, key, sub)
    return facts


def scan_source(text: str) -> list[ClassFacts]:
    """Every class of one ``configuration_*.py`` (a file that does not parse gives none)."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError):
        return []
    return [_scan_class(n) for n in tree.body if isinstance(n, ast.ClassDef)]


def resolve(classes: list[ClassFacts]) -> dict[str, dict[str, Any]]:
    """model_type -> {"defaults": {...}, "subs": {key: {"model_type", "init"}}}, with
    base classes' defaults inherited (bases looked up by name among ``classes``)."""
    by_name = {c.name: c for c in classes}

    def chain(c: ClassFacts, seen: frozenset[str] = frozenset()) -> list[ClassFacts]:
        out: list[ClassFacts] = []
        for base in c.bases:
            if base in by_name and base not in seen:
                out += chain(by_name[base], seen | {c.name})
        return [*out, c]

    types: dict[str, str] = {}
    for c in classes:
        for link in reversed(chain(c)):
            if link.model_type:
                types[c.name] = link.model_type
                break
    def own_defaults(c: ClassFacts) -> dict[str, Any]:
        defaults: dict[str, Any] = {}
        for link in chain(c):
            defaults.update(link.defaults)
        return defaults

    out: dict[str, dict[str, Any]] = {}
    for c in classes:
        if not c.model_type:
            continue
        subs: dict[str, dict[str, Any]] = {}
        for link in chain(c):
            for key, sub in link.subs.items():
                merged = dict(subs.get(key, {}))
                merged.update({k: v for k, v in sub.items() if v})
                subs[key] = merged
        clean_subs: dict[str, dict[str, Any]] = {}
        for key, sub in subs.items():
            cls = by_name.get(sub.get("class") or "")
            mt = sub.get("model_type") or types.get(sub.get("class") or "") \
                or sub.get("fallback_type")
            if not mt:
                continue
            spec: dict[str, Any] = {"model_type": mt, "init": {
                k: v for k, v in (sub.get("init") or {}).items() if k in WANTED}}
            if cls is not None:  # a fixed class: its own defaults (its model type may be shared)
                spec["defaults"] = own_defaults(cls)
            clean_subs[key] = spec
        out[c.model_type] = {"defaults": own_defaults(c), "subs": clean_subs}
    return out
