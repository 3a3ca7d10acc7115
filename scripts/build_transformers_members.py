#!/usr/bin/env python3
"""Rebuild rules/data/transformers-members.json.gz from the transformers release wheels.

Maintainer tool. Reads, with ``ast`` and never importing, the base classes that model code
subclasses or calls into (vlmdoctor/tfmembers/extract.py lists the files) from every wheel
in the cache that scripts/build_transformers_index.py fills (final releases from 4.30.0 and
the yanked ones), and writes per class its bases and, per member, the releases in which
each signature holds.

    python scripts/build_transformers_members.py [--cache ~/.cache/vlmdoctor/transformers-wheels]
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
import zipfile
from pathlib import Path
from typing import Any, Iterator

from packaging.version import InvalidVersion, Version

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from vlmdoctor.tfmembers.build import build_document  # noqa: E402
from vlmdoctor.tfmembers.extract import FILES, classes_in  # noqa: E402

MINIMUM = Version("4.30.0")


def wheels(cache: Path) -> list[tuple[str, Path]]:
    found = []
    for path in cache.glob("transformers-*.whl"):
        try:
            version = Version(path.name.split("-")[1])
        except (IndexError, InvalidVersion):
            continue
        if version >= MINIMUM and not version.is_prerelease and not version.is_devrelease:
            found.append((version, path))
    return [(str(v), p) for v, p in sorted(found)]


def scan(path: Path) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    with zipfile.ZipFile(path) as archive:
        present = set(archive.namelist())
        for name in FILES:
            if name in present:
                for cls, data in classes_in(archive.read(name), name).items():
                    out.setdefault(cls, data)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path,
                        default=Path.home() / ".cache" / "vlmdoctor" / "transformers-wheels")
    parser.add_argument("--out", type=Path, default=ROOT / "rules/data/transformers-members.json.gz")
    args = parser.parse_args()
    start = time.perf_counter()
    found = wheels(args.cache.expanduser())

    def scanned() -> Iterator[tuple[str, dict[str, dict[str, Any]]]]:
        for position, (version, path) in enumerate(found):
            yield version, scan(path)
            print(f"[{position + 1}/{len(found)}] transformers {version}", file=sys.stderr,
                  flush=True)

    document = build_document(scanned())
    text = json.dumps(document, sort_keys=True, separators=(",", ":"))
    args.out.write_bytes(gzip.compress(text.encode(), mtime=0))
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes, {len(found)} releases "
          f"{found[0][0]}..{found[-1][0]}) in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
