#!/usr/bin/env python3
"""Rebuild rules/data/torch-index.json.gz and torch-names.json.gz from the torch wheels.

Maintainer tool (stdlib + packaging; the repository's vlmdoctor package for the pure parts).
It lists the final releases of torch on PyPI from --min (2.0.0) up to the newest, downloads
each one's macOS arm64 wheel (the same .py files as the Linux wheels, at a fraction of the
size) with ``pip download --no-deps --only-binary=:all:`` (never installing it) into a cache
outside the repository, reads it as a zip file with ``ast`` (never importing it), and
writes the index. What each wheel gave is cached as JSON next to it, so a rerun only reads
new releases.

    python scripts/build_torch_index.py [--cache ~/.cache/vlmdoctor/torch-wheels]
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

from vlmdoctor.torchindex.build import build_index  # noqa: E402
from vlmdoctor.torchindex.wheelscan import (  # noqa: E402
    PARSER_VERSION,
    FileFacts,
    Scanned,
    scan_wheel,
)

PYPI_JSON = "https://pypi.org/pypi/torch/json"
# macOS arm64 wheels: 11.0 up to torch 2.11, 14.0 from 2.12; Python 3.11 exists for all.
PLATFORMS = ("macosx_11_0_arm64", "macosx_14_0_arm64")
PYTHONS = ("3.11", "3.10", "3.9")


def final_releases(minimum: Version) -> list[str]:
    with urllib.request.urlopen(PYPI_JSON, timeout=120) as response:
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
    tried = [(p, py) for p in PLATFORMS for py in PYTHONS]
    while not sorted(cache.glob(f"torch-{version}-*.whl")) and tried:
        platform, python = tried.pop(0)
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                        "--only-binary=:all:", "--platform", platform, "--python-version", python,
                        f"torch=={version}", "-d", str(cache)],
                       timeout=1800, capture_output=True, check=False)
    existing = sorted(cache.glob(f"torch-{version}-*.whl"))
    if not existing:
        raise SystemExit(f"pip download gave no wheel for torch {version} "
                         f"(tried {', '.join(PLATFORMS)} x Python {', '.join(PYTHONS)})")
    return existing[0]


def scanned(wheel: Path, parsed: Path, memo: dict[bytes, FileFacts]) -> Scanned:
    stored = parsed / f"{wheel.name}.p{PARSER_VERSION}.json"
    if stored.exists():
        result: Scanned = json.loads(stored.read_text())
        return result
    result = scan_wheel(wheel, memo)
    tmp = stored.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, sort_keys=True))
    tmp.replace(stored)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path,
                        default=Path.home() / ".cache" / "vlmdoctor" / "torch-wheels")
    parser.add_argument("--out", type=Path, default=ROOT / "rules/data/torch-index.json.gz")
    parser.add_argument("--min", dest="minimum", default="2.0.0")
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
        print(f"[{n}/{len(versions)}] torch {version}", file=sys.stderr, flush=True)
    head, names = build_index(scans)
    args.out.write_bytes(head)
    names_out = args.out.with_name("torch-names.json.gz")
    names_out.write_bytes(names)
    print(f"wrote {args.out.name} ({len(head)} bytes) and {names_out.name} ({len(names)} "
          f"bytes), {len(versions)} releases {versions[0]}..{versions[-1]}, "
          f"in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
