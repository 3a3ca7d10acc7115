"""Which of a model's imports need a package that is not installed (what ``check_imports`` refuses).

transformers' ``check_imports`` (dynamic_module_utils.py) imports every top-level module a
remote-code file names and refuses to load it with "This modeling file requires the
following packages that were not found in your environment: ..." when one is missing. It
skips imports inside ``try`` blocks; from 4.45 also flash_attn imports directly under
``if is_flash_attn_..._available():``, and from 4.51 (AST-based ``get_imports``) every
import under an ``if`` that calls an ``is_flash_attn...available`` function, and from
4.52.1 one that calls any availability function of ``transformers.utils.import_utils``.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from typing import Any

from packaging.version import InvalidVersion, Version

from vlmdoctor.modelcode.scan import REMOTE_CODE, CodeScan, ImportSite
from vlmdoctor.shell import word

# Import name -> distributions that provide it (the first is what to pip install).
_PROVIDERS: dict[str, tuple[str, ...]] = {
    "cv2": ("opencv-python-headless", "opencv-python", "opencv-contrib-python",
            "opencv-contrib-python-headless"),
    "PIL": ("pillow", "pillow-simd"),
    "sklearn": ("scikit-learn",),
    "skimage": ("scikit-image",),
    "yaml": ("pyyaml",),
    "flash_attn": ("flash-attn",),
    "flash_attn_2_cuda": ("flash-attn",),
    "attr": ("attrs",),
    "bs4": ("beautifulsoup4",),
    "dateutil": ("python-dateutil",),
    "fitz": ("pymupdf",),
    "open_clip": ("open-clip-torch",),
    "google": ("protobuf",),
    "Levenshtein": ("levenshtein", "python-levenshtein"),
    "sentencepiece": ("sentencepiece",),
    "mamba_ssm": ("mamba-ssm",),
    "causal_conv1d": ("causal-conv1d",),
    "decord": ("decord", "eva-decord"),
    "apex": ("apex",),
}
_PROVIDES_AT_LOAD = ("transformers",)  # checked by the names rule, not as a missing package
_STDLIB_EXTRA = frozenset({"__future__", "typing_extensions"})


def distributions_for(top: str) -> tuple[str, ...]:
    return _PROVIDERS.get(top) or (re.sub(r"[-_.]+", "-", top).lower(),)


def is_stdlib(top: str) -> bool:
    names = getattr(sys, "stdlib_module_names", None)
    if names is None:  # Python 3.9: built-ins plus the modules next to os.py
        import sysconfig
        from pathlib import Path

        stdlib = Path(sysconfig.get_paths()["stdlib"])
        return top in sys.builtin_module_names or (stdlib / f"{top}.py").exists() or (
            stdlib / top).is_dir()
    return top in names or top in _STDLIB_EXTRA


def skipped_by_check_imports(site: ImportSite, transformers: str | None) -> bool:
    """Whether transformers ``transformers`` (None: unknown) ignores this import at load."""
    if site.guard == "try":
        return True
    if not site.guard:
        return False
    try:
        version = Version(transformers) if transformers else None
    except InvalidVersion:
        version = None
    if site.guard.startswith("is_flash_attn"):
        return version is None or version >= Version("4.45.0")
    return version is None or version >= Version("4.52.1")


def missing_packages(scans: tuple[CodeScan, ...], packages: Mapping[str, str],
                     transformers: str | None) -> list[dict[str, Any]]:
    """One record per missing top-level import: its sites, the pip package, whether optional."""
    found: dict[str, dict[str, Any]] = {}
    for scan in scans:
        if scan.origin != REMOTE_CODE:
            continue  # an installed package's training/serving extras are not a load failure
        for site in scan.imports:
            top = site.top
            if (site.local or not top or top in _PROVIDES_AT_LOAD or is_stdlib(top)
                    or any(d in packages for d in distributions_for(top))):
                continue
            optional = skipped_by_check_imports(site, transformers)
            entry = found.setdefault(top, {"import": top, "package": distributions_for(top)[0],
                                           "sites": [], "required_sites": []})
            where = f"{site.file}:{site.line}"
            entry["sites"].append(where)
            if not optional:
                entry["required_sites"].append(where)
    return [_finish(e) for _, e in sorted(found.items())]


def _finish(entry: dict[str, Any]) -> dict[str, Any]:
    required = entry.pop("required_sites")
    shown = required or entry["sites"]
    entry["optional"] = not required
    entry["where"] = ", ".join(shown[:5]) + (f" (+{len(shown) - 5} more)" if len(shown) > 5 else "")
    entry["sites"] = shown
    entry["fix"] = [f"pip install {word(entry['package'])}"]
    return entry
