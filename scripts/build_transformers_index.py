#!/usr/bin/env python3
"""Rebuild rules/data/transformers-index.json.gz from the transformers release wheels.

Maintainer tool (stdlib + packaging; the repository's vlmdoctor package for the pure parts).
It lists the final releases of transformers on the package index from --min (4.30.0) up to
the newest, downloads each wheel with ``pip download --no-deps --only-binary=:all:`` (never
installing it) into a cache outside the repository, reads it as a zip file with ``ast``
(never importing it), and writes the index. What each wheel gave is cached as JSON next
to it, so a rerun only reads new releases.

    python scripts/build_transformers_index.py [--cache ~/.cache/vlmdoctor/transformers-wheels]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import urllib.request
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


def final_releases(minimum: Version) -> list[str]:
    with urllib.request.urlopen(PYPI_JSON, timeout=60) as response:
        data = json.load(response)
    found: list[Version] = []
    for text, files in data["releases"].items():
        try:
            version = Version(text)
        except InvalidVersion:
            continue
        wheels = [f for f in files if f.get("packagetype") == "bdist_wheel" and not f.get("yanked")]
        if version >= minimum and not version.is_prerelease and not version.is_devrelease and wheels:
            found.append(version)
    return [str(v) for v in sorted(found)]


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


def scanned(wheel: Path, parsed: Path, memo: dict[bytes, FileFacts]) -> Scanned:
    stored = parsed / f"{wheel.name}.p{PARSER_VERSION}.json"
    if stored.exists():
        result: Scanned = json.loads(stored.read_text())
        return result
    first = parsed / f"{wheel.name}.p1.json"  # parser 1 = parser 2 without the lazy exports
    if first.exists():
        result = add_lazy_exports(json.loads(first.read_text()), wheel)
    else:
        result = scan_wheel(wheel, memo)
    tmp = stored.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, sort_keys=True))
    tmp.replace(stored)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path,
                        default=Path.home() / ".cache" / "vlmdoctor" / "transformers-wheels")
    parser.add_argument("--out", type=Path, default=ROOT / "rules/data/transformers-index.json.gz")
    parser.add_argument("--min", dest="minimum", default="4.30.0")
    parser.add_argument("--versions", nargs="*", help="only these releases (for a quick look)")
    args = parser.parse_args()
    cache: Path = args.cache.expanduser()
    parsed = cache / "parsed"
    parsed.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    versions = args.versions or final_releases(Version(args.minimum))
    memo: dict[bytes, FileFacts] = {}
    scans: dict[str, Scanned] = {}
    for n, version in enumerate(versions, 1):
        scans[version] = scanned(wheel_for(version, cache), parsed, memo)
        print(f"[{n}/{len(versions)}] transformers {version}", file=sys.stderr, flush=True)
    head, names = split_index(build_index(scans))
    args.out.write_bytes(head)
    names_out = args.out.with_name("transformers-names.json.gz")
    names_out.write_bytes(names)
    data = head + names
    print(f"wrote {args.out} and {names_out.name} ({len(data)} bytes, {len(versions)} releases "
          f"{versions[0]}..{versions[-1]}) in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
