"""Combine per-release torch wheel scans into the committed index (pure and deterministic).

Two files, gzip of compact JSON (keys sorted, gzip header without time or file name):

- the head, ``torch-index.json.gz``: ``{"format": 1, "releases": ["2.0.0", ...],
  "modules": {"torch.nn": "0-27", ...}}``: every module of every release, as range strings
  of release positions (``vlmdoctor.tfindex.ranges``), and
- the names, ``torch-names.json.gz``: ``{"torch.nn": "{\\"Module\\":\\"0-27\\",...}"}``: for the
  modules whose names are indexed, a JSON object in a string (decoded on demand); and under
  ``"torch.nn *"`` what ``from torch.nn import *`` gives, for modules that define ``__all__``.

Used by ``scripts/build_torch_index.py``; read by ``vlmdoctor.torchindex.index``.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Mapping

from packaging.version import Version

from vlmdoctor.tfindex.ranges import encode_ranges
from vlmdoctor.torchindex.wheelscan import Scanned

FORMAT = 1


def build_index(scans: Mapping[str, Scanned]) -> tuple[bytes, bytes]:
    """(head, names) from ``{version: scan_wheel(...)}``; the same input gives the same bytes."""
    releases = sorted(scans, key=Version)
    module_at: dict[str, list[int]] = {}
    name_at: dict[str, dict[str, list[int]]] = {}
    for pos, version in enumerate(releases):
        scan = scans[version]
        modules, bare = scan["modules"], scan["bare"]
        assert isinstance(modules, dict) and isinstance(bare, list)
        for module in bare:
            module_at.setdefault(module, []).append(pos)
        for module, names in modules.items():
            module_at.setdefault(module, []).append(pos)
            per_name = name_at.setdefault(module, {})
            for name in names:
                per_name.setdefault(name, []).append(pos)
    star_at = _star_positions(releases, scans)
    head = {"format": FORMAT, "releases": releases,
            "modules": {m: encode_ranges(p) for m, p in module_at.items()}}
    per_module = {m: _compact({n: encode_ranges(q) for n, q in per.items()})
                  for m, per in [*name_at.items(), *star_at.items()]}
    return _gz(_compact(head)), _gz(_compact(per_module))


def _star_positions(releases: list[str], scans: Mapping[str, Scanned]
                    ) -> dict[str, dict[str, list[int]]]:
    """``"module *"`` -> name -> positions, for the modules that define ``__all__`` in some
    release; in a release where it does not, a star import gives the public names."""
    with_all = {m for scan in scans.values() for m in _mapping(scan, "star")}
    out: dict[str, dict[str, list[int]]] = {}
    for pos, version in enumerate(releases):
        star, modules = _mapping(scans[version], "star"), _mapping(scans[version], "modules")
        for module in with_all & set(modules):
            given = star.get(module, [n for n in modules[module] if not n.startswith("_")])
            per_name = out.setdefault(f"{module} *", {})
            for name in given:
                per_name.setdefault(name, []).append(pos)
    return out


def _mapping(scan: Scanned, key: str) -> dict[str, list[str]]:
    value = scan.get(key, {})
    assert isinstance(value, dict)
    return value


def _gz(text: str) -> bytes:
    return gzip.compress(text.encode("ascii"), compresslevel=9, mtime=0)


def _compact(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
