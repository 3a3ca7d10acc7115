"""Installed model packages are found without importing them, and scanned for inference."""

from __future__ import annotations

import json
from pathlib import Path

from vlmdoctor.modelcode.collect import package_code
from vlmdoctor.modelcode.locate import find_package


def _package(root: Path, name: str) -> Path:
    (root / name / "model").mkdir(parents=True)
    (root / name / "__init__.py").write_text("from .model import builder\n")
    (root / name / "model" / "__init__.py").write_text("")
    (root / name / "model" / "builder.py").write_text(
        "from transformers.cache_utils import DynamicCache\n")
    (root / name / "train").mkdir()
    (root / name / "train" / "train.py").write_text("import deepspeed\n")
    return root / name


def test_found_on_the_path(tmp_path: Path) -> None:
    pkg = _package(tmp_path / "site", "mgm")
    assert find_package("mgm", [str(tmp_path / "nowhere"), str(tmp_path / "site")]) == pkg
    assert find_package("llava", [str(tmp_path / "site")]) is None


def test_editable_install_through_direct_url(tmp_path: Path) -> None:
    checkout = tmp_path / "MGM"
    pkg = _package(checkout, "mgm")
    info = tmp_path / "site" / "mgm-1.0.0.dist-info"
    info.mkdir(parents=True)
    (info / "top_level.txt").write_text("mgm\n")
    (info / "direct_url.json").write_text(json.dumps(
        {"url": checkout.as_uri(), "dir_info": {"editable": True}}))
    assert find_package("mgm", [str(tmp_path / "site")]) == pkg


def test_editable_install_through_setuptools_finder(tmp_path: Path) -> None:
    pkg = _package(tmp_path / "LLaVA", "llava")
    site = tmp_path / "site"
    site.mkdir()
    (site / "__editable___llava_1_2_2_finder.py").write_text(
        f"MAPPING = {{'llava': {str(pkg)!r}}}\nNAMESPACES = {{}}\n")
    assert find_package("llava", [str(site)]) == pkg


def test_package_scan_skips_training_code(tmp_path: Path, monkeypatch: object) -> None:
    import sys

    _package(tmp_path / "site", "mgm")
    sys.path.insert(0, str(tmp_path / "site"))
    try:
        [scan] = package_code(["mgm", "not_installed_pkg"])
    finally:
        sys.path.remove(str(tmp_path / "site"))
    assert scan.origin == "package mgm"
    assert scan.files == ("__init__.py", "model/__init__.py", "model/builder.py")
    assert [(s.module, s.local) for s in scan.imports] == [
        ("mgm.model", True), ("transformers.cache_utils", False)]
