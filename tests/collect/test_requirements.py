"""Reading Requires-Dist fast, what the snapshot keeps, and evaluation for the snapshot's
interpreter (not the one running vlmdoctor)."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import make_knowledge, snapshot
from vlmdoctor.collect.packages import installed_distributions
from vlmdoctor.collect.requirements import read_requires, stack_requirements
from vlmdoctor.evaluate.context import Context
from vlmdoctor.evaluate.engine import evaluate
from vlmdoctor.evaluate.requirements import merged, satisfiable
from vlmdoctor.snapshot import Snapshot

METADATA = """Metadata-Version: 2.1
Name: numba
Version: 0.60.0
Requires-Dist: llvmlite<0.44,>=0.43.0dev0
Requires-Dist: numpy<2.1,
 >=1.22
Requires-Dist: scipy; extra == "test"
Requires-Dist: colorama; platform_system == "Windows" and extra == "cli"

Requires-Dist: this is the description, not a header
"""


def _site(tmp_path: Path) -> Path:
    dist = tmp_path / "numba-0.60.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(METADATA)
    egg = tmp_path / "oldpkg-1.0-py3.11.egg-info"
    egg.mkdir()
    (egg / "PKG-INFO").write_text("Metadata-Version: 1.0\nName: oldpkg\nVersion: 1.0\n")
    (egg / "requires.txt").write_text("numpy<2\n\n[:python_version < \"3.8\"]\nsix\n\n[gui]\ntk\n")
    plain = tmp_path / "tqdm-4.66.5.dist-info"
    plain.mkdir()
    (plain / "METADATA").write_text("Name: tqdm\nRequires-Dist: colorama; platform_system == 'Windows'\n")
    return tmp_path


def test_reads_headers_only_and_unfolds(tmp_path: Path) -> None:
    dist = installed_distributions([str(_site(tmp_path))])["numba"]
    assert list(read_requires(dist.path)) == [
        "llvmlite<0.44,>=0.43.0dev0", "numpy<2.1, >=1.22", 'scipy; extra == "test"',
        'colorama; platform_system == "Windows" and extra == "cli"']


def test_a_header_longer_than_one_read_is_read_whole(tmp_path: Path) -> None:
    """A header of ~30 KB (vLLM-sized requirement lists) and a long description after it:
    every Requires-Dist of the header, none of the description's."""
    names = [f"pkg{i:04d}>=1.{i}" for i in range(1200)]
    header = "".join(f"Requires-Dist: {n}\n" for n in names)
    body = "Requires-Dist: from-the-description\n" * 5000
    dist = tmp_path / "big-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: big\n{header}\n{body}")
    assert len(header) > 8192 * 3
    assert list(read_requires(str(dist))) == names


def test_egg_info_sections_become_markers(tmp_path: Path) -> None:
    dist = installed_distributions([str(_site(tmp_path))])["oldpkg"]
    assert list(read_requires(dist.path)) == [
        "numpy<2", 'six ; (python_version < "3.8")', 'tk ; extra == "gui"']


def test_snapshot_keeps_stack_requirements_without_extras(tmp_path: Path) -> None:
    kept = stack_requirements(installed_distributions([str(_site(tmp_path))]))
    assert kept == {"numba": ("llvmlite<0.44,>=0.43.0dev0", "numpy<2.1, >=1.22"),
                    "oldpkg": ("numpy<2",)}


def test_requirements_round_trip_and_old_reports_lack_them() -> None:
    snap = snapshot("a100-cu124", {"requirements": {"vllm": ["torch==2.4.0"]}})
    assert Snapshot.from_dict(snap.to_dict()) == snap
    assert snapshot("a100-cu124").requirements is None
    assert "requirements" not in snapshot("a100-cu124").to_dict()


def _findings(patch: dict[str, object], model: str | None = None) -> list[tuple[str, str, str]]:
    knowledge = make_knowledge()
    card = knowledge.catalogue.resolve(model) if model else None
    ctx = Context(snapshot=snapshot("a100-cu124", patch), tables=knowledge.tables, card=card)
    return [(f.id, f.severity, f.fix[0]) for f in evaluate(knowledge.rules, ctx)
            if f.id.startswith("package-requirement")]


def test_markers_follow_the_snapshot_python_not_this_one() -> None:
    patch = {"packages": {"numba": "0.56.4", "numpy": "1.26.4"},
             "requirements": {"numba": ["numpy<1.24; python_version == '3.10'",
                                        "importlib-metadata; python_version < '3.9'"]}}
    assert _findings(patch) == [("package-requirement-unmet", "warning",
                                 "pip install 'numpy<1.24'")]
    patch["python"] = {"version": "3.8.18", "implementation": "CPython"}
    assert [f[0] for f in _findings(patch)] == ["package-requirement-missing"]


def test_core_packages_are_errors_and_one_command_fixes_all() -> None:
    patch = {"packages": {"tokenizers": "0.21.0", "numba": "0.60.0", "numpy": "2.1.2"},
             "requirements": {"transformers": ["tokenizers<0.21,>=0.20", "numpy>=1.17"],
                              "numba": ["numpy<2.1,>=1.22"]}}
    command = "pip install 'numpy<2.1,>=1.17,>=1.22' 'tokenizers<0.21,>=0.20'"
    assert _findings(patch) == [
        ("package-requirement-unmet", "error", command),
        ("package-requirement-unmet", "warning", command)]


def test_satisfiable() -> None:
    assert satisfiable(merged(["<2.1", ">=1.22"]))
    assert satisfiable(merged([">1.0", "<1.0.1"]))
    assert not satisfiable(merged(["==2.4.0", "==2.5.1"]))
    assert not satisfiable(merged([">=2", "<2"]))
    assert satisfiable(merged(["~=2.4", "!=2.4.1"]))


def test_malformed_additive_keys_are_one_line_input_errors() -> None:
    import pytest

    from tests.conftest import environment
    from vlmdoctor.errors import InputError

    cases = [({"requirements": "torch"}, "environment.requirements: expected an object"),
             ({"requirements": {"vllm": "torch==2.4.0"}},
              "environment.requirements.vllm: expected a list of strings"),
             ({"extensions": {"bitsandbytes": {"libraries": [1]}}},
              "environment.extensions.bitsandbytes.libraries: expected a string, a list of "
              "strings, an object of strings or null")]
    for patch, message in cases:
        with pytest.raises(InputError) as caught:
            Snapshot.from_dict(environment("a100-cu124", patch), source="r.json")
        assert str(caught.value) == f"r.json: {message}"


def test_from_report_replays_the_requirement_check(tmp_path: Path) -> None:
    import json

    from tests.cli.test_cli import run
    from tests.conftest import environment

    saved = environment("a100-cu124", {
        "packages": {"tokenizers": "0.21.0"},
        "requirements": {"transformers": ["tokenizers<0.21,>=0.20"]}})
    path = tmp_path / "env.json"
    path.write_text(json.dumps(saved))
    code, out, _ = run("check", "--from-report", str(path), "--format", "json")
    findings = [f for f in json.loads(out)["findings"] if f["id"].startswith("package-")]
    assert code == 1
    assert [(f["id"], f["severity"], f["title"], f["fix"]) for f in findings] == [
        ("package-requirement-unmet", "error",
         "transformers 4.45.2 requires tokenizers<0.21,>=0.20; found 0.21.0",
         ["pip install 'tokenizers<0.21,>=0.20'"])]


def test_torch_pins_on_cuda_library_wheels_are_warnings() -> None:
    patch = {"packages": {"nvidia-cudnn-cu12": "9.5.1.17"},
             "requirements": {"torch": [
                 'nvidia-cudnn-cu12==9.1.0.70; platform_system == "Linux" and '
                 'platform_machine == "x86_64"']}}
    assert _findings(patch) == [("package-requirement-unmet", "warning",
                                 "pip install 'nvidia-cudnn-cu12==9.1.0.70'")]


def test_markers_follow_the_snapshot_machine_not_this_one() -> None:
    """A report from an aarch64 node: x86_64-only requirements do not apply there (and the
    other way round), whatever machine re-checks the report."""
    patch: dict[str, object] = {
        "packages": {"vllm": "0.6.4"},
        "requirements": {"vllm": ["triton==3.1.0; platform_machine == 'x86_64'",
                                  "xgrammar>=0.1; platform_machine == 'aarch64'"]}}
    patch["host"] = {"os": "Linux", "arch": "aarch64"}
    assert [(f[0], f[2]) for f in _findings(patch)] == [
        ("package-requirement-missing", "pip install 'xgrammar>=0.1'")]
    patch["host"] = {"os": "Linux", "arch": "x86_64"}
    assert [(f[0], f[2]) for f in _findings(patch)] == [
        ("package-requirement-missing", "pip install 'triton==3.1.0'")]
