"""The import scan: sites with file and line, guards, relative imports, JSON round trip."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import FIXTURES
from vlmdoctor.modelcode.packages import missing_packages, skipped_by_check_imports
from vlmdoctor.modelcode.scan import CodeScan, ImportSite, scan_dir

CODE = FIXTURES / "modelcode"


def _sites(scan: CodeScan) -> list[tuple[str, int, str, tuple[str, ...], bool, str]]:
    return [(s.file, s.line, s.module, s.names, s.local, s.guard) for s in scan.imports]


def test_remote_code_sites_guards_and_relative_imports() -> None:
    scan = scan_dir(CODE / "needs-einops")
    assert scan.files == ("configuration_toy.py", "modeling_toy.py")
    assert _sites(scan) == [
        ("configuration_toy.py", 1, "transformers.configuration_utils", ("PretrainedConfig",),
         False, ""),
        ("modeling_toy.py", 2, "math", (), False, ""),
        ("modeling_toy.py", 4, "einops", (), False, ""),
        ("modeling_toy.py", 5, "torch", (), False, ""),
        ("modeling_toy.py", 6, "transformers.modeling_utils", ("PreTrainedModel",), False, ""),
        ("modeling_toy.py", 8, "configuration_toy", ("ToyConfig",), True, ""),
        ("modeling_toy.py", 11, "xformers.ops", (), False, "try"),
    ]


def test_availability_guard_is_recorded() -> None:
    scan = scan_dir(CODE / "flash-guarded")
    flash = [s for s in scan.imports if s.top == "flash_attn"]
    assert [(s.line, s.guard) for s in flash] == [(6, "is_flash_attn_2_available")]


def test_package_relative_imports_resolve_inside_the_package(tmp_path: Path) -> None:
    pkg = tmp_path / "mypkg"
    (pkg / "model").mkdir(parents=True)
    (pkg / "__init__.py").write_text("from .model import Net\n")
    (pkg / "model" / "__init__.py").write_text("from .net import Net\nfrom .. import utils\n")
    (pkg / "model" / "net.py").write_text("from ..utils import helper\nimport mypkg.utils\n")
    (pkg / "utils.py").write_text("def helper():\n    pass\n")
    scan = scan_dir(pkg, origin="package mypkg", package="mypkg")
    assert _sites(scan) == [
        ("__init__.py", 1, "mypkg.model", ("Net",), True, ""),
        ("model/__init__.py", 1, "mypkg.model.net", ("Net",), True, ""),
        ("model/__init__.py", 2, "mypkg", ("utils",), True, ""),
        ("model/net.py", 1, "mypkg.utils", ("helper",), True, ""),
        ("model/net.py", 2, "mypkg.utils", (), True, ""),
    ]


def test_unparsable_file_is_listed_not_fatal(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text("def broken(:\n")
    (tmp_path / "good.py").write_text("import einops\n")
    scan = scan_dir(tmp_path)
    assert [s.module for s in scan.imports] == ["einops"]
    assert len(scan.unreadable) == 1 and scan.unreadable[0].startswith("bad.py: SyntaxError")


def test_scan_round_trips_through_json() -> None:
    scan = scan_dir(CODE / "needs-einops")
    assert CodeScan.from_dict(scan.to_dict()) == scan


def test_missing_packages_required_versus_optional() -> None:
    scan = scan_dir(CODE / "needs-einops")
    records = missing_packages((scan,), {"torch": "2.5.1", "transformers": "4.45.2"}, "4.45.2")
    assert [(r["import"], r["package"], r["optional"], r["where"]) for r in records] == [
        ("einops", "einops", False, "modeling_toy.py:4"),
        ("xformers", "xformers", True, "modeling_toy.py:11"),
    ]


def test_import_names_map_to_distributions() -> None:
    site = ImportSite("m.py", 1, "cv2", (), False, "")
    scan = CodeScan("remote code", ("m.py",), (site,))
    assert missing_packages((scan,), {"opencv-python": "4.10.0"}, None) == []
    [record] = missing_packages((scan,), {}, None)
    assert record["fix"] == ["pip install opencv-python-headless"]


def test_check_imports_guard_semantics_follow_the_transformers_release() -> None:
    guarded = ImportSite("m.py", 3, "timm", (), False, "is_timm_available")
    flash = ImportSite("m.py", 3, "flash_attn", (), False, "is_flash_attn_2_available")
    assert skipped_by_check_imports(guarded, "4.52.1") is True
    assert skipped_by_check_imports(guarded, "4.51.3") is False
    assert skipped_by_check_imports(flash, "4.45.0") is True
    assert skipped_by_check_imports(flash, "4.44.2") is False
    assert skipped_by_check_imports(ImportSite("m.py", 3, "x", (), False, "try"), "4.30.0")
