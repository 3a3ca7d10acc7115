"""Which of a model's imports need a package that is not installed (what ``check_imports`` refuses).

transformers' ``check_imports`` (dynamic_module_utils.py) imports every top-level module a
remote-code file names and refuses to load it with "This modeling file requires the
following packages that were not found in your environment: ..." when one is missing. It
skips imports inside ``try`` blocks and, by release, some under availability ``if``s; which
imports it lists at all changed too (``checkimports`` has the history, per release). A
saved report without that record falls back to the import's guard: from 4.45 flash_attn
imports under ``if is_flash_attn_..._available():``, from 4.52.0 any ``if`` calling an
availability function of ``transformers.utils.import_utils``.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Mapping
from typing import Any

from packaging.version import InvalidVersion, Version

from vlmdoctor.modelcode.checkimports import required
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
    return version is None or version >= Version("4.52.0")


def missing_packages(scans: tuple[CodeScan, ...], packages: Mapping[str, str],
                     transformers: str | None,
                     has_util: Callable[[str], bool | None] | None = None
                     ) -> list[dict[str, Any]]:
    """One record per missing top-level import: its sites, the pip package, whether optional.

    Where the scan recorded what each transformers era's ``check_imports`` lists
    (``checkimports``) and the release is known, an import is required exactly when that
    release lists it (``has_util``: whether the release's ``transformers.utils.import_utils``
    has a name, None when unknown); otherwise by the import's guard."""
    found: dict[str, dict[str, Any]] = {}
    for scan in scans:
        if scan.origin != REMOTE_CODE:
            continue  # an installed package's training/serving extras are not a load failure
        demanded = (required(scan.check_imports, transformers, has_util or (lambda _: None))
                    if scan.check_imports is not None else None)
        local = {s.top for s in scan.imports if s.local} | {
            f.split("/")[0].removesuffix(".py") for f in scan.files}
        sites: list[tuple[str, str, ImportSite | None]] = [
            (s.top, f"{s.file}:{s.line}", s) for s in scan.imports if not s.local]
        sites += [(top, where, None) for top, wheres in (demanded or {}).items()
                  for where in wheres]  # what only the release's text search lists
        for top, where, site in sites:
            if (not top or top in local or top in _PROVIDES_AT_LOAD or is_stdlib(top)
                    or any(d in packages for d in distributions_for(top))):
                continue
            entry = found.setdefault(top, {"import": top, "package": distributions_for(top)[0],
                                           "sites": [], "required_sites": []})
            if where not in entry["sites"]:
                entry["sites"].append(where)
            needed = (where in demanded.get(top, ()) if demanded is not None else
                      site is not None and not skipped_by_check_imports(site, transformers))
            if needed and where not in entry["required_sites"]:
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
