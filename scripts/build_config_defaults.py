#!/usr/bin/env python3
"""Rebuild rules/data/transformers-config-defaults.json.gz from the transformers wheels.

Maintainer tool. For every final release of transformers from --min (4.30.0) whose wheel is
in the cache (``pip download --no-deps --only-binary=:all: transformers==X -d CACHE`` fetches
a missing one; ``--download`` does that for the releases PyPI lists), it reads each
``transformers/models/*/configuration_*.py`` out of the wheel as a zip member with ``ast``
(never importing it) and keeps, per model type, the defaults of the config class for the
fields vlmdoctor reads (vlmdoctor/modelfiles/defaultscan.py). Consecutive releases with the
same defaults share one entry, so the file stays small:

    {"format": 1, "releases": ["4.30.0", ...],
     "types": {"llama": [[0, {"defaults": {...}, "subs": {...}}], [57, {...}]], ...}}

An entry ``[i, value]`` holds from ``releases[i]`` until the next entry; ``value`` null means
the release has no such model type.

    python scripts/build_config_defaults.py [--cache ~/.cache/vlmdoctor/transformers-wheels]
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import re
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path
from typing import Any

from packaging.version import InvalidVersion, Version

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from vlmdoctor.modelfiles.defaultscan import ClassFacts, resolve, scan_source  # noqa: E402

CONFIG_FILE = re.compile(r"^transformers/models/[^/]+/configuration_[^/]+\.py$")
WHEEL = re.compile(r"^transformers-([^-]+)-py3-none-any\.whl$")


def cached_releases(cache: Path, minimum: Version) -> dict[str, Path]:
    found: dict[Version, Path] = {}
    for path in cache.glob("transformers-*.whl"):
        match = WHEEL.match(path.name)
        if not match:
            continue
        try:
            version = Version(match.group(1))
        except InvalidVersion:
            continue
        if version >= minimum and not version.is_prerelease and not version.is_devrelease:
            found[version] = path
    return {str(v): found[v] for v in sorted(found)}


def download(cache: Path, minimum: Version) -> None:
    with urllib.request.urlopen("https://pypi.org/pypi/transformers/json", timeout=60) as r:
        releases = json.load(r)["releases"]
    for text, files in releases.items():
        try:
            version = Version(text)
        except InvalidVersion:
            continue
        if version < minimum or version.is_prerelease or version.is_devrelease:
            continue
        if not any(f.get("packagetype") == "bdist_wheel" for f in files):
            continue
        if not list(cache.glob(f"transformers-{text}-*.whl")):
            subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                            "--only-binary=:all:", f"transformers=={text}", "-d", str(cache)],
                           check=True, timeout=900)


def scan_wheel(wheel: Path, memo: dict[bytes, list[ClassFacts]]) -> dict[str, Any]:
    classes: list[ClassFacts] = []
    with zipfile.ZipFile(wheel) as zf:
        for name in sorted(zf.namelist()):
            if not CONFIG_FILE.match(name):
                continue
            raw = zf.read(name)
            key = hashlib.sha256(raw).digest()
            if key not in memo:
                memo[key] = scan_source(raw.decode("utf-8", "replace"))
            classes += memo[key]
    return resolve(classes)


def build(scans: dict[str, dict[str, Any]]) -> dict[str, Any]:
    releases = list(scans)
    types: dict[str, list[list[Any]]] = {}
    for i, version in enumerate(releases):
        for model_type in sorted(set(types) | set(scans[version])):
            value = scans[version].get(model_type)
            entries = types.setdefault(model_type, [])
            if (entries[-1][1] if entries else None) != value:
                entries.append([i, value])
    return {"format": 1, "releases": releases,
            "source": "__init__ keyword defaults and dataclass field defaults of each "
                      "transformers/models/*/configuration_*.py in the release wheels "
                      "(https://pypi.org/project/transformers/#files)",
            "types": types}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path,
                        default=Path.home() / ".cache" / "vlmdoctor" / "transformers-wheels")
    parser.add_argument("--out", type=Path,
                        default=ROOT / "rules/data/transformers-config-defaults.json.gz")
    parser.add_argument("--min", dest="minimum", default="4.30.0")
    parser.add_argument("--download", action="store_true",
                        help="first fetch the wheels of releases PyPI lists that are not cached")
    args = parser.parse_args()
    cache: Path = args.cache.expanduser()
    start = time.perf_counter()
    if args.download:
        download(cache, Version(args.minimum))
    wheels = cached_releases(cache, Version(args.minimum))
    memo: dict[bytes, list[ClassFacts]] = {}
    scans: dict[str, dict[str, Any]] = {}
    for n, (version, wheel) in enumerate(wheels.items(), 1):
        scans[version] = scan_wheel(wheel, memo)
        print(f"[{n}/{len(wheels)}] transformers {version}: {len(scans[version])} model types",
              file=sys.stderr, flush=True)
    text = json.dumps(build(scans), sort_keys=True, separators=(",", ":")).encode()
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", compresslevel=9, mtime=0) as gz:
        gz.write(text)
    args.out.write_bytes(buf.getvalue())
    print(f"wrote {args.out} ({len(buf.getvalue())} bytes; {len(text)} uncompressed; "
          f"{len(wheels)} releases {next(iter(wheels))}..{list(wheels)[-1]}) "
          f"in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
