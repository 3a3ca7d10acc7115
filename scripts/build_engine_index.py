#!/usr/bin/env python3
"""Rebuild rules/data/engines-index.json.gz from the serving engines' release artefacts.

Maintainer tool (stdlib + packaging; the repository's vlmdoctor package for the pure
parts). For vLLM, SGLang and LMDeploy it lists every final release on the package index
(from --min on), downloads one artefact of each (vLLM: the sdist; SGLang and LMDeploy: the
smallest wheel: only their ``.py`` files are read) into a cache outside the repository,
reads the model registry with ``ast`` (never importing anything) and the artefact's own
Requires-Dist pins on torch and transformers, and writes which release registers each
model architecture. What each artefact gave is cached as JSON next to it, so a rerun only
reads new releases.

    python scripts/build_engine_index.py [--cache ~/.cache/vlmdoctor/engines]
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import sys
import tarfile
import time
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path
from typing import Any

from packaging.version import InvalidVersion, Version

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from vlmdoctor.engines.scan import archs, pins, wanted  # noqa: E402
from vlmdoctor.tfindex.ranges import encode_ranges  # noqa: E402

PARSER_VERSION = 1
MINIMUM = {"vllm": "0.2.0", "sglang": "0.1.13", "lmdeploy": "0.2.0"}
PREFER_SDIST = {"vllm": True, "sglang": False, "lmdeploy": False}


def releases(engine: str, minimum: Version) -> list[tuple[str, dict[str, Any], bool]]:
    """(version, the artefact to read, yanked) for every final release from ``minimum``."""
    base = f"https://pypi.org/pypi/{engine}/json"
    with urllib.request.urlopen(base, timeout=60) as response:
        data = json.load(response)
    found = []
    for text, files in data["releases"].items():
        try:
            version = Version(text)
        except InvalidVersion:
            continue
        if version < minimum or version.is_prerelease or version.is_devrelease or not files:
            continue
        sdists = [f for f in files if f.get("packagetype") == "sdist"]
        wheels = sorted((f for f in files if f.get("packagetype") == "bdist_wheel"),
                        key=lambda f: f.get("size") or 0)
        pick = (sdists or wheels) if PREFER_SDIST[engine] else (wheels or sdists)
        if pick:
            artefact = dict(pick[0], url=urllib.parse.urljoin(base, pick[0]["url"]))
            found.append((str(version), artefact, all(f.get("yanked") for f in files)))
    return sorted(found, key=lambda r: Version(r[0]))


def _members(data: bytes, filename: str) -> tuple[list[tuple[str, bytes]], str]:
    """The registry sources and the metadata text of one artefact."""
    files: list[tuple[str, bytes]] = []
    metadata = ""
    if filename.endswith(".whl"):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for name in archive.namelist():
                if name.endswith(".dist-info/METADATA") and name.count("/") == 1:
                    metadata = archive.read(name).decode("utf-8", "replace")
                elif name.endswith(".py"):
                    files.append((name, archive.read(name)))
    else:
        with tarfile.open(fileobj=io.BytesIO(data)) as archive:
            for member in archive.getmembers():
                if not member.isfile():
                    continue
                if member.name.endswith("/PKG-INFO") and member.name.count("/") == 1:
                    metadata = archive.extractfile(member).read().decode("utf-8", "replace")  # type: ignore[union-attr]
                elif member.name.endswith(".py"):
                    files.append((member.name, archive.extractfile(member).read()))  # type: ignore[union-attr]
    return files, metadata


def scanned(engine: str, version: str, artefact: dict[str, Any], cache: Path) -> dict[str, Any]:
    folder = cache / engine
    folder.mkdir(parents=True, exist_ok=True)
    stored = folder / f"{artefact['filename']}.p{PARSER_VERSION}.json"
    if stored.exists():
        result: dict[str, Any] = json.loads(stored.read_text())
        return result
    path = folder / artefact["filename"]
    if not path.exists():
        with urllib.request.urlopen(artefact["url"], timeout=900) as response:
            path.write_bytes(response.read())
    files, metadata = _members(path.read_bytes(), artefact["filename"])
    result = {"archs": archs(engine, [(n, s) for n, s in files if wanted(engine, n)]),
              "pins": pins(metadata)}
    stored.write_text(json.dumps(result, sort_keys=True))
    path.unlink()  # the artefact itself is not needed again
    return result


def build(engine: str, cache: Path) -> dict[str, Any]:
    found = releases(engine, Version(MINIMUM[engine]))
    versions: list[str] = []
    yanked: list[str] = []
    pinned: dict[str, dict[str, str]] = {}
    where: dict[str, list[int]] = {}
    for version, artefact, is_yanked in found:
        result = scanned(engine, version, artefact, cache)
        if not result["archs"]:
            print(f"  {engine} {version}: no registry found; left out", file=sys.stderr)
            continue
        position = len(versions)
        versions.append(version)
        if is_yanked:
            yanked.append(version)
        if result["pins"]:
            pinned[version] = result["pins"]
        for arch in result["archs"]:
            where.setdefault(arch, []).append(position)
        print(f"  {engine} {version}: {len(result['archs'])} architectures", file=sys.stderr)
    return {"releases": versions, "yanked": yanked, "pins": pinned,
            "archs": {a: encode_ranges(p) for a, p in sorted(where.items())}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path,
                        default=Path.home() / ".cache" / "vlmdoctor" / "engines")
    parser.add_argument("--out", type=Path, default=ROOT / "rules/data/engines-index.json.gz")
    args = parser.parse_args()
    start = time.perf_counter()
    document = {"format": 1, "engines": {e: build(e, args.cache.expanduser()) for e in MINIMUM}}
    text = json.dumps(document, sort_keys=True, separators=(",", ":"))
    args.out.write_bytes(gzip.compress(text.encode(), mtime=0))
    counts = ", ".join(f"{e} {len(d['releases'])} releases" for e, d in document["engines"].items())
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes: {counts}) "
          f"in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
