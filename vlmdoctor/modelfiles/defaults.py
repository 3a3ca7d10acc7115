"""Values a ``config.json`` leaves out: the defaults of its config class in a release.

``save_pretrained`` writes only the values that differ from the config class's defaults, so
a Gemma 3 config has no ``num_attention_heads`` and a LLaVA-1.5 ``text_config`` no
``num_hidden_layers``: transformers fills them from ``Gemma3TextConfig`` / ``LlamaConfig``
when it loads the file. This module does the same from
``rules/data/transformers-config-defaults.json.gz`` (built by
``scripts/build_config_defaults.py`` from the ``configuration_*.py`` files of every release
wheel by ``ast``). It is read only when a model directory is read, never on the gate path.

The release is the one the checkpoint was saved with (``transformers_version``; a
``.devN`` build counts as the release it precedes), else the newest release in the file. A
model type the release does not have (remote code) gets nothing: what is missing stays
unknown.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

from packaging.version import InvalidVersion, Version

DATA_FILE = Path("data") / "transformers-config-defaults.json.gz"
SUB_KEYS = ("text_config", "vision_config", "llm_config", "language_config",
            "vision_tower_config", "text_model_config", "vision_encoder_config")
# A flat config (Qwen2-VL saved by 4.4x) keeps the language model at the top: no text
# sub-config is made up for it.
_FLAT_MARKERS = ("num_hidden_layers", "hidden_size", "n_layer", "d_model")
_TEXT_KEYS = ("text_config", "llm_config", "language_config", "text_model_config")


@lru_cache(maxsize=1)
def _data() -> dict[str, Any]:
    from vlmdoctor.errors import InputError
    from vlmdoctor.jsonfile import read_gz_json
    from vlmdoctor.knowledge import default_rules_dir

    try:
        raw = read_gz_json(default_rules_dir() / DATA_FILE, 32 * 1024 * 1024,
                           "transformers config defaults")
    except InputError:
        return {"releases": [], "types": {}}
    return raw if isinstance(raw, dict) else {"releases": [], "types": {}}


def release_for(saved: str | None) -> str | None:
    """The release in the data whose defaults apply to a config saved by ``saved``."""
    releases: list[str] = _data().get("releases") or []
    if not releases:
        return None
    try:
        wanted = Version(Version(saved).base_version) if saved else None
    except InvalidVersion:
        wanted = None
    if wanted is None:
        return releases[-1]
    found = [r for r in releases if Version(r) <= wanted]
    return found[-1] if found else None  # older than the data: not known


def _entry(model_type: Any, release: str) -> Mapping[str, Any] | None:
    if not isinstance(model_type, str):
        return None
    data = _data()
    entries = data["types"].get(model_type)
    if not entries:
        return None
    index = data["releases"].index(release)
    value = None
    for first, item in entries:
        if first <= index:
            value = item
    return value if isinstance(value, Mapping) else None


def _fill(values: dict[str, Any], defaults: Mapping[str, Any], where: str,
          filled: dict[str, Any]) -> None:
    for key, value in defaults.items():
        if values.get(key) is None and value is not None and not isinstance(value, (dict, list)):
            values[key] = value
            filled[where + key] = value


def with_defaults(cfg: Mapping[str, Any], saved: str | None,
                  remote_code: bool = False) -> tuple[dict[str, Any], str | None, dict[str, Any]]:
    """``cfg`` with missing values filled; the release used; dotted key -> filled value."""
    out: dict[str, Any] = dict(cfg)
    filled: dict[str, Any] = {}
    release = release_for(saved)
    if release is None:
        return out, None, filled
    top = None if remote_code else _entry(cfg.get("model_type"), release)
    subs: Mapping[str, Any] = top.get("subs") or {} if top else {}
    if top:
        _fill(out, top.get("defaults") or {}, "", filled)
    flat = any(isinstance(cfg.get(k), int) for k in _FLAT_MARKERS)
    for key in SUB_KEYS:
        spec = subs.get(key) if isinstance(subs.get(key), Mapping) else None
        given = cfg.get(key)
        if isinstance(given, Mapping):
            sub = dict(given)
        elif given is None and spec is not None and not (flat and key in _TEXT_KEYS):
            sub = {"model_type": spec["model_type"]}
            _fill(sub, spec.get("init") or {}, f"{key}.", filled)
            filled[f"{key}.model_type"] = spec["model_type"]
        else:
            continue
        own_type = sub.get("model_type")
        if spec is not None and (own_type is None or own_type == spec["model_type"]) \
                and isinstance(spec.get("defaults"), Mapping):
            defaults: Mapping[str, Any] = spec["defaults"]
        else:
            entry = _entry(own_type or (spec or {}).get("model_type"), release)
            defaults = entry.get("defaults") or {} if entry else {}
        _fill(sub, defaults, f"{key}.", filled)
        out[key] = sub
    return out, release, filled
