#!/usr/bin/env python3
"""Rebuild rules/data/transformers-index.json.gz (+ transformers-names.json.gz) from the wheels.

Maintainer tool (stdlib + packaging; the repository's vlmdoctor package for the pure parts).
Every release of transformers from --min (4.30.0) up to the newest is indexed: finals, yanked
releases (marked yanked: they install with an exact pin and model cards name them) and
pre-releases (release candidates). The release listing (version -> yanked) is read from the
package index once and kept as ``releases.json`` in the cache; ``--refresh`` reads it again.
Each wheel is downloaded with ``pip download --no-deps --only-binary=:all:`` (never
installed) into the cache, read as a zip file with ``ast`` (never imported) by a pool of
``--jobs`` processes, and what it gave is cached as JSON next to it. The same cache always
gives the same index bytes.

    python scripts/build_transformers_index.py [--refresh] [--jobs 2]
        [--cache ~/.cache/vlmdoctor/transformers-wheels]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from packaging.version import InvalidVersion, Version

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from vlmdoctor.tfindex.build import build_index, split_index  # noqa: E402
from vlmdoctor.tfindex.wheelscan import (  # noqa: E402
    PARSER_VERSION,
    FileFacts,
    Scanned,
    add_lazy_exports,
    scan_wheel,
)

PYPI_JSON = "https://pypi.org/pypi/transformers/json"
LISTING = "releases.json"


def pypi_releases(minimum: Version) -> dict[str, bool]:
    """``{version: yanked}`` for every release >= minimum that has a wheel (pre-releases too)."""
    with urllib.request.urlopen(PYPI_JSON, timeout=60) as response:
        data = json.load(response)
    found: dict[str, bool] = {}
    for text, files in data["releases"].items():
        try:
            version = Version(text)
        except InvalidVersion:
            continue
        wheels = [f for f in files if f.get("packagetype") == "bdist_wheel"]
        if version >= minimum and not version.is_devrelease and wheels:
            found[str(version)] = all(bool(f.get("yanked")) for f in wheels)
    return dict(sorted(found.items(), key=lambda item: Version(item[0])))


def release_listing(cache: Path, minimum: Version, refresh: bool) -> dict[str, bool]:
    stored = cache / LISTING
    if refresh or not stored.exists():
        listing = pypi_releases(minimum)
        stored.write_text(json.dumps(listing, indent=1, sort_keys=True) + "\n")
    listing = json.loads(stored.read_text())
    return {v: bool(listing[v]) for v in sorted(listing, key=Version) if Version(v) >= minimum}


def wheel_for(version: str, cache: Path) -> Path:
    existing = sorted(cache.glob(f"transformers-{version}-*.whl"))
    if existing:
        return existing[0]
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                    "--only-binary=:all:", f"transformers=={version}", "-d", str(cache)],
                   check=True, timeout=900)
    existing = sorted(cache.glob(f"transformers-{version}-*.whl"))
    if not existing:
        raise SystemExit(f"pip download gave no wheel for transformers {version}")
    return existing[0]


_MEMO: dict[bytes, FileFacts] = {}  # per worker process: each distinct file is parsed once


def scanned(wheel: Path, parsed: Path) -> Scanned:
    stored = parsed / f"{wheel.name}.p{PARSER_VERSION}.json"
    if stored.exists():
        result: Scanned = json.loads(stored.read_text())
        return result
    first = parsed / f"{wheel.name}.p1.json"  # parser 1 = parser 2 without the lazy exports
    if first.exists():
        result = add_lazy_exports(json.loads(first.read_text()), wheel)
    else:
        result = scan_wheel(wheel, _MEMO)
    tmp = stored.with_suffix(f".{id(result)}.tmp")
    tmp.write_text(json.dumps(result, sort_keys=True))
    tmp.replace(stored)
    return result


def scan_all(wheels: dict[str, Path], parsed: Path, jobs: int) -> dict[str, Scanned]:
    """Scans in release order; the result does not depend on ``jobs`` (each scan is pure)."""
    scans: dict[str, Scanned] = {}
    with ProcessPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {v: pool.submit(scanned, w, parsed) for v, w in wheels.items()}
        for n, (version, future) in enumerate(futures.items(), 1):
            scans[version] = future.result()
            print(f"[{n}/{len(wheels)}] transformers {version}", file=sys.stderr, flush=True)
    return scans


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path,
                        default=Path.home() / ".cache" / "vlmdoctor" / "transformers-wheels")
    parser.add_argument("--out", type=Path, default=ROOT / "rules/data/transformers-index.json.gz")
    parser.add_argument("--min", dest="minimum", default="4.30.0")
    parser.add_argument("--refresh", action="store_true",
                        help="read the release listing from the package index again")
    parser.add_argument("--jobs", type=int, default=2, help="wheel-scanning processes")
    parser.add_argument("--scan-only", action="store_true", help="fill the parse cache only")
    args = parser.parse_args()
    cache: Path = args.cache.expanduser()
    parsed = cache / "parsed"
    parsed.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    listing = release_listing(cache, Version(args.minimum), args.refresh)
    wheels = {v: wheel_for(v, cache) for v in listing}
    scans = scan_all(wheels, parsed, args.jobs)
    if args.scan_only:
        return
    yanked = sorted((v for v, y in listing.items() if y), key=Version)
    head, names = split_index(build_index(scans, yanked=yanked))
    args.out.write_bytes(head)
    names_out = args.out.with_name("transformers-names.json.gz")
    names_out.write_bytes(names)
    versions = list(listing)
    print(f"wrote {args.out.name} ({len(head)} bytes) and {names_out.name} ({len(names)} bytes): "
          f"{len(versions)} releases {versions[0]}..{versions[-1]}, {len(yanked)} yanked, "
          f"in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
