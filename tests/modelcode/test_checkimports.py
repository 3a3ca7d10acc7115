"""check_imports by release: what each transformers release's get_imports lists for a file.

The expected sets were checked against the real ``get_imports`` of each release (its
function read from the release wheel and run on this fixture: 4.30.0, 4.44.2, 4.45.0,
4.46.3, 4.47.0, 4.50.3, 4.51.0, 4.51.3, 4.52.0, 4.52.1, 4.57.1, 5.0.0, 5.25.0 all agreed).
"""

from __future__ import annotations

import ast
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT
from vlmdoctor.modelcode.checkimports import demands, era_of, required
from vlmdoctor.modelcode.packages import missing_packages
from vlmdoctor.modelcode.scan import CodeScan, scan_dir

ERAS_DIR = ROOT / "fixtures" / "modelcode" / "check-imports-eras"
TEXT = (ERAS_DIR / "modeling_probe.py").read_text()
UTILS = {"is_timm_available", "is_flash_attn_2_available"}  # in import_utils; the custom one not
REGEX = {"apex", "bitsandbytes", "cv2", "decord", "mamba_ssm", "open_clip", "safetensors",
         "sentencepiece", "flash_attn_extra"}  # lines exactly "import x", "from x import"
TREE = {"bitsandbytes", "cv2", "decord", "einops", "flash_attn_extra", "kornia", "mamba_ssm",
        "open_clip", "safetensors", "scipy", "timm"}


def _required(version: str) -> set[str]:
    table = demands(TEXT, ast.parse(TEXT), "modeling_probe.py")
    found = required(table, version, lambda name: name in UTILS)
    assert found is not None
    return set(found)


@pytest.mark.parametrize(("version", "expected"), [
    ("4.30.0", REGEX | {"flash_attn"}),      # flash_attn under its if still listed
    ("4.44.2", REGEX | {"flash_attn"}),
    ("4.45.0", REGEX),                       # from flash_attn under if is_flash_attn_…(): cut
    ("4.50.3", REGEX),
    ("4.51.3", TREE),                        # import x as y / a, b / # comment now listed;
                                             # try handlers and docstrings no longer
    ("4.52.1", TREE - {"open_clip", "mamba_ssm"}),  # if is_timm_available(): (else too) skipped
    ("5.25.0", TREE - {"open_clip", "mamba_ssm"}),
])
def test_each_release_lists_what_its_get_imports_lists(version: str, expected: set[str]) -> None:
    assert _required(version) == expected


def test_where_each_import_is_and_the_eras_by_version() -> None:
    table = demands(TEXT, ast.parse(TEXT), "modeling_probe.py")
    old = required(table, "4.44.2", lambda _: None)
    assert old is not None and old["sentencepiece"] == ["modeling_probe.py:27"]  # a docstring
    assert old["apex"] == ["modeling_probe.py:10"]  # the except body is not cut out
    assert [era_of(v) for v in ("4.29.0", "4.45.2", "4.47.1", "4.51.0", "5.0.0rc3")] == [
        "4.30.0", "4.45.0", "4.47.0", "4.51.0", "4.52.0"]
    assert era_of(None) is None and era_of("not-a-version") is None
    assert required(table, None, lambda _: None) is None


def test_an_unknown_import_utils_falls_back_to_availability_names() -> None:
    table = demands(TEXT, ast.parse(TEXT), "modeling_probe.py")
    found = required(table, "4.52.1", lambda _: None)
    assert found is not None and "bitsandbytes" not in found  # is_custom_thing_available()


def test_missing_package_records_follow_the_installed_release(tmp_path: Path) -> None:
    (tmp_path / "modeling_x.py").write_text(
        "import einops as E\nif is_timm_available():\n    import open_clip\n")
    scan = scan_dir(tmp_path)
    again = CodeScan.from_dict(json.loads(json.dumps(scan.to_dict())))
    assert again == scan  # the record survives a saved report

    def optional(version: str) -> dict[str, Any]:
        return {r["import"]: r["optional"] for r in missing_packages(
            (again,), {}, version, lambda name: name == "is_timm_available")}

    assert optional("4.44.2") == {"einops": True, "open_clip": False}
    assert optional("4.51.3") == {"einops": False, "open_clip": False}
    assert optional("4.52.1") == {"einops": False, "open_clip": True}
    # a report saved before the record: the guard decides, as before
    legacy = replace(scan, check_imports=None)
    assert {r["import"]: r["optional"] for r in missing_packages(
        (legacy,), {}, "4.44.2")} == {"einops": False, "open_clip": False}
