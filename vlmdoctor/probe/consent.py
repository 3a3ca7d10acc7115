"""Consent for a model directory's own code (runs in the child; stdlib only at import).

transformers runs a model directory's Python only as a dynamic module: a config whose
``auto_map`` names classes, loaded with ``trust_remote_code=True``, goes through
``dynamic_module_utils.get_class_from_dynamic_module`` and ``get_class_in_module``, which
imports the file. Without the user's ``--trust-remote-code`` the probe

- reads ``config.json`` as JSON and hands transformers a config without ``auto_map``
  (never the directory itself), with ``trust_remote_code=False``;
- replaces both dynamic-module loaders with a refusal (``guard``), so no path inside
  transformers can import the directory's files either;
- builds what needs no model code: transformers' own class for the config's
  ``model_type`` when this release ships one, else the tiny stand-in of the architecture.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

from vlmdoctor.probe.protocol import REMOTE_NOT_RUN, TRUST_FLAG

_LOADERS = ("get_class_in_module", "get_class_from_dynamic_module")


class RemoteCodeRefused(RuntimeError):
    """transformers tried to import a model's code that the user did not trust."""


def remote_refs(raw: dict[str, Any]) -> list[str]:
    """Every class reference in the config's ``auto_map`` (its values, lists flattened)."""
    auto_map = raw.get("auto_map")
    if not isinstance(auto_map, dict):
        return [str(auto_map)] if auto_map else []
    return [str(r) for v in auto_map.values() for r in (v if isinstance(v, list) else [v]) if r]


def has_remote_code(raw: dict[str, Any]) -> bool:
    return bool(remote_refs(raw))


def _refuse(*args: Any, **kwargs: Any) -> Any:
    raise RemoteCodeRefused(f"{REMOTE_NOT_RUN}: transformers asked to import a model's own "
                            f"code ({args[0] if args else '?'}); the probe runs it only with "
                            f"{TRUST_FLAG}")


def guard() -> None:
    """Make transformers' dynamic-module loaders refuse, in its own module and in every
    transformers module that imported them by name (modules imported later get the
    refusal too: they import it from ``dynamic_module_utils``)."""
    try:
        dmu = importlib.import_module("transformers.dynamic_module_utils")
    except ImportError:  # no dynamic modules in this transformers: nothing can load them
        return
    originals = {name: getattr(dmu, name, None) for name in _LOADERS}
    for module in [m for n, m in list(sys.modules.items())
                   if m is not None and (n == "transformers" or n.startswith("transformers."))]:
        for name, original in originals.items():
            if original is not None and getattr(module, name, None) is original:
                setattr(module, name, _refuse)
    for name in _LOADERS:
        setattr(dmu, name, _refuse)


def native_config(tf: Any, raw: dict[str, Any]) -> Any:
    """transformers' own config class for ``raw['model_type']`` built from the JSON without
    its ``auto_map``, or None when this release ships no such type."""
    model_type = raw.get("model_type")
    mapping = tf.models.auto.configuration_auto.CONFIG_MAPPING
    if not isinstance(model_type, str) or model_type not in mapping:
        return None
    clean = {k: v for k, v in raw.items() if k != "auto_map"}
    return mapping[model_type].from_dict(clean)


def refused_note(files: list[str]) -> str:
    """How the detail of a rung that did not run the model's code starts."""
    named = ", ".join(files) if files else "the classes its auto_map names"
    return f"{REMOTE_NOT_RUN}: {named} not imported ({TRUST_FLAG} not given)"
