"""Combine per-release wheel scans into the committed index (a pure, deterministic function).

Format (gzip of compact JSON, keys sorted, gzip header without time or file name)::

    {"format": 3,
     "releases": ["4.30.0", ...],                      # ascending: finals, yanked, pre-releases
     "yanked": ["4.46.0", ...],                        # withdrawn from PyPI (still installable)
     "model_types": {"llava": "14-142", ...},          # release positions that register it
     "modules": {"transformers.cache_utils": ["16-142", "{\\"DynamicCache\\":\\"16-142\\",...}"]}}

A module's names are a JSON object in a string (decoded on demand). ``split_index`` writes
it as two files, so that most model checks read only the small head. A range string lists inclusive position spans into ``releases``: ``"3-9,12-142"``; a single
release is ``"7"``. Used by ``scripts/build_transformers_index.py``; read by ``index.py``.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable, Mapping

from packaging.version import Version

from vlmdoctor.tfindex.ranges import FORMAT, encode_ranges
from vlmdoctor.tfindex.wheelscan import Scanned


def build_index(scans: Mapping[str, Scanned], yanked: Iterable[str] = ()) -> bytes:
    """Index bytes from ``{version: scan_wheel(...)}`` and the yanked releases among them;
    the same input always gives the same bytes."""
    releases = sorted(scans, key=Version)
    type_at: dict[str, list[int]] = {}
    module_at: dict[str, list[int]] = {}
    name_at: dict[str, dict[str, list[int]]] = {}
    for pos, version in enumerate(releases):
        scan = scans[version]
        types = scan["model_types"]
        modules = scan["modules"]
        assert isinstance(types, list) and isinstance(modules, dict)
        for model_type in types:
            type_at.setdefault(model_type, []).append(pos)
        for module, names in modules.items():
            module_at.setdefault(module, []).append(pos)
            per_name = name_at.setdefault(module, {})
            for name in names:
                per_name.setdefault(name, []).append(pos)
    document = {
        "format": FORMAT,
        "releases": releases,
        "yanked": sorted(set(yanked) & set(releases), key=Version),
        "model_types": {t: encode_ranges(p) for t, p in type_at.items()},
        # Each module's names are a JSON string of their own, decoded only when asked for:
        # the whole file then parses in a fraction of the time.
        "modules": {m: [encode_ranges(p), _compact({n: encode_ranges(q)
                                                    for n, q in name_at[m].items()})]
                    for m, p in module_at.items()},
    }
    return _gz(_compact(document))


def split_index(data: bytes) -> tuple[bytes, bytes]:
    """The index as two files: the head (releases, model types, module ranges; small, read
    by every model check) and the names (read only when a model's code imports from
    transformers). Deterministic, like ``build_index``."""
    document = json.loads(gzip.decompress(data))
    modules = document.pop("modules")
    document["modules"] = {m: [entry[0]] for m, entry in modules.items()}
    names = {m: entry[1] for m, entry in modules.items()}
    return _gz(_compact(document)), _gz(_compact(names))


def _gz(text: str) -> bytes:
    return gzip.compress(text.encode("ascii"), compresslevel=9, mtime=0)


def _compact(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
