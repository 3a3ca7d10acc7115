"""Read a located model directory into ``ModelFacts`` (config, headers, processor)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any, Mapping

from vlmdoctor.errors import InputError
from vlmdoctor.jsonfile import read_json_file
from vlmdoctor.modelfiles import config as cfgmod
from vlmdoctor.modelfiles.components import COMPONENTS, component
from vlmdoctor.modelfiles.defaults import with_defaults
from vlmdoctor.modelfiles.facts import ModelFacts, Scalar, plain
from vlmdoctor.modelfiles.images import image_budget
from vlmdoctor.modelfiles.locate import ModelSource
from vlmdoctor.modelfiles.packing import logical_counts
from vlmdoctor.modelfiles.safetensors import TensorInfo, read_header
from vlmdoctor.modelfiles.typed import check_config

MAX_JSON = 16 * 1024 * 1024  # a config or index larger than this is not one
MAX_CODE_FILES = 200


def read_model(source: ModelSource) -> ModelFacts:
    root = source.local
    if root is None:
        raise InputError(f"{source.path}: no local files to read")
    shown = source.path or str(root)
    cfg = _json(root / "config.json", f"{shown}/config.json", required=True)
    check_config(cfg, f"{shown}/config.json")
    pre = _json(root / "preprocessor_config.json", f"{shown}/preprocessor_config.json")
    check_config(pre, f"{shown}/preprocessor_config.json")
    files, missing = _weight_files(root, shown)
    tensors = [t for f in files for t in read_header(root / f, f"{shown}/{f}")]
    proc = _json(root / "processor_config.json", f"{shown}/processor_config.json")
    quant = cfgmod.quantization(cfg)
    params, dtypes, nbytes, stored = _count(tensors, quant)
    name = cfg.get("_name_or_path")
    types = cfgmod.model_types(cfg)
    version = cfg.get("transformers_version")
    saved = version if isinstance(version, str) else None
    full, release, filled = with_defaults(cfg, saved, remote_code=bool(cfgmod.auto_map(cfg)))
    return ModelFacts(
        name_or_path=name if isinstance(name, str) and name else None,
        repo_id=source.repo_id,
        model_type=types[0] if types else None,
        model_types=types,
        architectures=tuple(a for a in cfg.get("architectures") or () if isinstance(a, str)),
        auto_map=cfgmod.auto_map(cfg),
        dtype=cfgmod.saved_dtype(cfg),
        transformers_version=saved,
        params=params,
        storage_dtypes=dtypes,
        weight_bytes=nbytes if tensors else None,
        weight_files=tuple(files),
        missing_files=tuple(missing),
        geometry=cfgmod.geometry(full, f"{shown}/config.json"),
        images=image_budget(pre, full, proc, shown),
        quantization=quant,
        files=_code_files(root),
        defaults_release=release if filled else None,
        config_defaults={k: v for k, v in filled.items() if plain(v)},
        storage_bytes=stored,
    )


def _json(path: Path, shown: str, required: bool = False) -> dict[str, Any]:
    try:
        data = read_json_file(path, shown, MAX_JSON, "model config")
    except FileNotFoundError:
        if required:
            raise InputError(f"{shown}: not found (expected a Hugging Face model directory "
                             "with config.json)") from None
        return {}
    if not isinstance(data, dict):
        raise InputError(f"{shown}: expected a JSON object")
    return data


def _weight_files(root: Path, shown: str) -> tuple[list[str], list[str]]:
    """The safetensors files to read, and shards the index names that are absent."""
    index = sorted(root.glob("*.safetensors.index.json"))
    if index:
        data = _json(index[0], f"{shown}/{index[0].name}")
        weight_map = data.get("weight_map")
        if not isinstance(weight_map, dict):
            raise InputError(f"{shown}/{index[0].name}: expected a 'weight_map' object")
        names = sorted({v for v in weight_map.values() if isinstance(v, str)})
        safe = [n for n in names if "/" not in n and not n.startswith(".")]
        return ([n for n in safe if (root / n).is_file()],
                [n for n in safe if not (root / n).is_file()])
    return sorted(p.name for p in root.glob("*.safetensors") if p.is_file()), []


def _count(tensors: list[TensorInfo], quant: Mapping[str, Scalar]
           ) -> tuple[dict[str, int], dict[str, str], int, dict[str, int]]:
    """Logical parameters, the most common storage dtype and the stored bytes per component
    (a quantised checkpoint's packed tensors count as the weights they hold)."""
    logical = logical_counts(tensors, quant)
    params: Counter[str] = Counter()
    stored: Counter[str] = Counter()
    kinds: dict[str, Counter[str]] = {c: Counter() for c in COMPONENTS}
    for t in tensors:
        part = component(t.name)
        stored[part] += t.nbytes
        if t.name in logical:
            params[part] += logical[t.name]
            kinds[part][t.dtype] += logical[t.name]
    out = {c: params[c] for c in COMPONENTS if params[c]}
    if out:
        out["total"] = sum(params.values())
    dtypes = {c: kinds[c].most_common(1)[0][0] for c in COMPONENTS if kinds[c]}
    by_part = {c: stored[c] for c in COMPONENTS if stored[c]}
    return out, dtypes, sum(t.nbytes for t in tensors), by_part


def _code_files(root: Path) -> tuple[str, ...]:
    found = sorted(p.name for p in root.glob("*.py") if p.is_file())  # remote code sits at the top
    return tuple(found[:MAX_CODE_FILES])
