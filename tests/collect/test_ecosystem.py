"""Installed packages that build on transformers: their unconditional imports, read along the
import graph of `import PKG` (our own stand-ins of real package layouts), cached, and checked
against the installed transformers (package-imports-missing-transformers-name)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import environment
from tests.hostile.test_reports import run
from vlmdoctor.collect import ecosystem, read_installed
from vlmdoctor.snapshot import Snapshot


def _dist(site: Path, name: str, version: str, requires: list[str],
          files: dict[str, str]) -> None:
    info = site / f"{name}-{version}.dist-info"
    info.mkdir(parents=True)
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}",
             *(f"Requires-Dist: {r}" for r in requires)]
    (info / "METADATA").write_text("\n".join(lines) + "\n\n")
    (info / "RECORD").write_text("".join(f"{f},,\n" for f in files))
    for rel, text in files.items():
        (site / rel).parent.mkdir(parents=True, exist_ok=True)
        (site / rel).write_text(text)


TRL = {
    "trl/__init__.py": "__version__ = '0.7.4'\nfrom .core import set_seed\nfrom .trainer import PPOTrainer\n",
    "trl/core.py": ("import torch\nfrom transformers import top_k_top_p_filtering\n"
                    "from transformers.utils import is_torch_fx_proxy as _p\n"
                    "try:\n    from transformers import NotThere\nexcept ImportError:\n    pass\n"
                    "if torch.__version__ > '2':\n    from transformers import AlsoNot\n"
                    "def f():\n    from transformers import InsideFunction\n"),
    "trl/trainer/__init__.py": "from .ppo import PPOTrainer\n",
    "trl/trainer/ppo.py": "from ..core import set_seed\nfrom transformers import PreTrainedModel\n",
    "trl/unused.py": "from transformers import NeverImported\n",
}


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("VLMDOCTOR_NO_CACHE", raising=False)
    root = tmp_path / "site"
    _dist(root, "trl", "0.7.4", ["transformers>=4.31.0", "torch>=1.4.0"], TRL)
    _dist(root, "transformers", "4.45.2", ["numpy"], {"transformers/__init__.py": ""})
    _dist(root, "unrelated", "1.0", ["numpy"], {"unrelated/__init__.py": "from transformers import X\n"})
    return root


def test_the_import_graph_of_the_package_and_only_unconditional_imports(site: Path) -> None:
    found = read_installed((str(site),)).ecosystem
    assert found is not None and sorted(found) == ["trl"]
    trl = found["trl"]
    assert (trl["version"], trl["package"], trl["complete"], trl["files"]) == ("0.7.4", "trl", True, 4)
    assert [(i["file"], i["line"], i["module"], i["names"]) for i in trl["imports"]] == [
        ("trl/core.py", 1, "torch", []),
        ("trl/core.py", 2, "transformers", ["top_k_top_p_filtering"]),
        ("trl/core.py", 3, "transformers.utils", ["is_torch_fx_proxy"]),
        ("trl/trainer/ppo.py", 2, "transformers", ["PreTrainedModel"]),
    ]


def test_a_scan_is_cached_per_distribution(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = read_installed((str(site),)).ecosystem
    calls: list[str] = []
    monkeypatch.setattr(ecosystem, "scan_package", lambda root, package: calls.append(package) or {})
    assert read_installed((str(site),)).ecosystem == first and calls == []
    (site / "trl-0.7.4.dist-info" / "RECORD").write_text("changed,,\n")  # a reinstall
    read_installed((str(site),))
    assert calls == ["trl"]


def test_bounded_on_a_huge_package(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ecosystem, "MAX_FILES", 2)
    monkeypatch.setenv("VLMDOCTOR_NO_CACHE", "1")
    trl = read_installed((str(site),)).ecosystem["trl"]  # type: ignore[index]
    assert trl["complete"] is False and trl["files"] == 3


def test_a_scan_out_of_time_is_not_kept(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ecosystem, "BUDGET_SECONDS", -1.0)
    trl = read_installed((str(site),)).ecosystem["trl"]  # type: ignore[index]
    assert (trl["complete"], trl["imports"]) == (False, [])
    monkeypatch.setattr(ecosystem, "BUDGET_SECONDS", 5.0)
    assert read_installed((str(site),)).ecosystem["trl"]["complete"] is True  # type: ignore[index]


def test_unparsable_and_pathological_files_are_skipped(tmp_path: Path) -> None:
    pkg = tmp_path / "p"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("from .a import x\nfrom .b import y\nfrom transformers import Z\n")
    (pkg / "a.py").write_text("def broken(:\n")
    (pkg / "b.py").write_text("x = " + "(" * 100_000 + ")" * 100_000 + "\n")
    result = ecosystem.scan_package(pkg, "p")
    assert [i["names"] for i in result["imports"]] == [["Z"]] and result["files"] == 3


def test_the_snapshot_replays_it_and_refuses_malformed_data() -> None:
    data = {"schema_version": 1, "ecosystem": {"trl": {"version": "0.7.4", "package": "trl",
            "imports": [{"file": "trl/core.py", "line": 2, "module": "transformers", "names": ["a"]}]}}}
    snap = Snapshot.from_dict(data)
    assert Snapshot.from_dict(snap.to_dict()) == snap
    from vlmdoctor.errors import InputError
    bad = {"schema_version": 1, "ecosystem": {"trl": {"version": "1", "imports": [{"line": "x"}]}}}
    with pytest.raises(InputError, match=r"ecosystem\.trl\.imports\[0\]"):
        Snapshot.from_dict(bad)


def _check(tmp_path: Path, patch: dict[str, Any]) -> tuple[int, list[dict[str, Any]]]:
    env = environment("a100-cu124")
    for key, value in patch.items():
        env[key] = {**env.get(key, {}), **value} if isinstance(value, dict) else value
    path = tmp_path / "env.json"
    path.write_text(json.dumps(env))
    code, out, err = run("check", "--no-probe", "--from-report", str(path), "--format", "json")
    assert code in (0, 1), err
    return code, [f for f in json.loads(out)["findings"]
                  if f["id"] == "package-imports-missing-transformers-name"]


def test_a_removed_name_is_an_error_with_the_window_and_the_alternative(tmp_path: Path) -> None:
    code, found = _check(tmp_path, {"ecosystem": {"trl": {
        "version": "0.7.4", "package": "trl", "imports": [
            {"file": "trl/core.py", "line": 2, "module": "transformers",
             "names": ["top_k_top_p_filtering"]}]}}})
    assert code == 1 and len(found) == 1
    f = found[0]
    assert (f["severity"], f["title"]) == (
        "error", "trl 0.7.4 imports names that transformers 4.45.2 does not have")
    assert "trl/core.py:2 imports transformers.top_k_top_p_filtering (in transformers 4.30.0 " \
           "to 4.38.2)" in f["message"]
    assert f["fix"] == ["pip install 'transformers>=4.30.0,<4.39.0'   # the releases that have "
                        "every name it imports",
                        "# or install a trl release built for transformers 4.45.2 (its "
                        "metadata pins the transformers it needs)"]


def test_silent_when_every_name_exists(tmp_path: Path) -> None:
    assert _check(tmp_path, {"ecosystem": {"peft": {"version": "0.13.0", "imports": [
        {"file": "peft/x.py", "line": 1, "module": "transformers.modeling_utils",
         "names": ["PreTrainedModel"]}]}}})[1] == []


def test_torch_names_are_checked_against_the_installed_torch(tmp_path: Path) -> None:
    """torch.utils._pytree.register_pytree_node is public from torch 2.2.0 (the torch index)."""
    imports = [{"file": "fakepkg/utils.py", "line": 4, "module": "torch.utils._pytree",
                "names": ["register_pytree_node"]}]
    env = environment("a100-cu124")
    env["packages"]["torch"] = "2.1.2+cu121"
    env["torch"] = {"version": "2.1.2+cu121", "cuda": "12.1"}
    env["ecosystem"] = {"fakepkg": {"version": "1.0.0", "package": "fakepkg", "imports": imports}}
    path = tmp_path / "env.json"
    path.write_text(json.dumps(env))
    code, out, err = run("check", "--no-probe", "--from-report", str(path), "--format", "json")
    found = [f for f in json.loads(out)["findings"]
             if f["id"] == "package-imports-missing-torch-name"]
    assert code == 1 and len(found) == 1, err
    assert found[0]["title"] == "fakepkg 1.0.0 imports names that torch 2.1.2+cu121 does not have"
    assert "fakepkg/utils.py:4 imports torch.utils._pytree.register_pytree_node (added in " \
           "torch 2.2.0)" in found[0]["message"]
