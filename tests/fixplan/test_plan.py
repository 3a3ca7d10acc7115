"""The fix plan: every finding's fix merged into one plan, checked against what is installed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import environment, make_knowledge
from vlmdoctor.doctor import CheckRequest, run_check
from vlmdoctor.evaluate.context import Context
from vlmdoctor.fixplan import FixPlan, build_fix_plan
from vlmdoctor.fixplan.commands import read_fix
from vlmdoctor.modelcode.scan import CodeScan, ImportSite
from vlmdoctor.report import Finding, Report
from vlmdoctor.snapshot import Snapshot
from vlmdoctor.stages import fixing

CU118 = "https://download.pytorch.org/whl/cu118"
# vLLM 0.6.4's own Requires-Dist (https://pypi.org/project/vllm/0.6.4/, its requirements-cuda.txt
# and requirements-common.txt), the parts on the stack.
VLLM = {
    "driver": {"version": "470.82.01", "cuda": "11.4"},
    "torch": {"version": "2.5.1+cu124", "cuda": "12.4"},
    "packages": {"torch": "2.5.1+cu124", "torchvision": "0.20.1+cu124", "vllm": "0.6.4",
                 "transformers": "4.46.3", "tokenizers": "0.20.3", "xformers": "0.0.28.post3"},
    "requirements": {
        "vllm": ["transformers>=4.45.2", "torch==2.5.1", "tokenizers>=0.19.1",
                 "torchvision==0.20.1",
                 "xformers==0.0.28.post3; platform_system == 'Linux' and platform_machine == 'x86_64'"],
        "torchvision": ["torch==2.5.1"], "xformers": ["torch==2.5.1"],
        "transformers": ["tokenizers<0.21,>=0.20"]},
}


def _check(tmp_path: Path, patch: dict[str, Any], model: str = "minigemini-34b") -> Report:
    path = tmp_path / "env.json"
    path.write_text(json.dumps(environment("h100x4-cu121", patch)))
    return run_check(CheckRequest(model=model, from_report=str(path)), make_knowledge(),
                     fix_stage=fixing())


def _plan(report: Report) -> dict[str, Any]:
    assert report.fix_plan is not None
    return report.fix_plan.to_dict()


def test_minigemini_34b_next_to_vllm_merges_one_line_and_names_vllm_as_broken(tmp_path: Path) -> None:
    report = _check(tmp_path, VLLM)
    plan = _plan(report)
    line = ("pip install 'torch==2.5.1' 'torchvision==0.20.1' 'transformers==4.36.2' "
            f"'tokenizers==0.15.0' --extra-index-url {CU118}")
    assert plan["pip_install"] == line
    assert [(s["kind"], s["command"], s["from"]) for s in plan["steps"]] == [
        ("pip-install", line, ["cuda-driver-too-old", "model-transformers-version"]),
        ("note", "instead of the pip step: upgrade the NVIDIA driver to >= 550.54.14",
         ["cuda-driver-too-old"])]
    assert [(b["package"], b["requires"], b["to"]) for b in plan["breaks"]] == [
        ("vllm", "transformers>=4.45.2", "==4.36.2"), ("vllm", "tokenizers>=0.19.1", "==0.15.0")]
    assert plan["breaks"][0]["why"] == ("vllm 0.6.4 requires transformers>=4.45.2; the plan "
                                        "installs transformers==4.36.2")
    change, separate = plan["alternatives"]
    assert change["kind"] == "change-too" and change["summary"].startswith(
        "change vllm too, to a release whose requirements allow transformers==4.36.2, "
        "tokenizers==0.15.0")
    assert change["commands"] == [
        "pip install --dry-run 'transformers==4.36.2' 'tokenizers==0.15.0' vllm"]
    assert separate == {
        "kind": "separate-environment",
        "summary": "keep vllm here and run minigemini-34b in an environment of its own",
        "commands": ["python3.10 -m venv ~/.venvs/minigemini-34b",
                     ". ~/.venvs/minigemini-34b/bin/activate", line,
                     "git clone https://github.com/dvlab-research/MGM && cd MGM && "
                     "pip install -e ."]}
    # torch==2.5.1 from the cu118 index still meets vllm's and xformers' torch==2.5.1
    assert all(b["changes"] != "torch" for b in plan["breaks"])
    assert plan["conflicts"] == []


def test_the_text_report_ends_with_the_plan(tmp_path: Path) -> None:
    from vlmdoctor.render.text import report_lines

    lines = [t for t, _ in report_lines(_check(tmp_path, VLLM))]
    start = lines.index("Fix plan (every fix above merged, in the order to run):")
    tail = lines[start:]
    assert tail[1].startswith("  1. $ pip install 'torch==2.5.1'")
    assert "  It breaks installed packages:" in tail
    assert ("    x vllm 0.6.4 requires transformers>=4.45.2; the plan installs "
            "transformers==4.36.2") in tail
    assert tail[-1] == "        $ git clone https://github.com/dvlab-research/MGM && cd MGM && pip install -e ."


def test_markdown_shows_the_plan_and_what_it_breaks(tmp_path: Path) -> None:
    from vlmdoctor.render.markdown import report_markdown

    text = report_markdown(_check(tmp_path, VLLM))
    assert "### Fix plan" in text
    assert ("- **Breaks:** vllm 0.6.4 requires tokenizers>=0.19.1; the plan installs "
            "tokenizers==0.15.0") in text
    assert "  python3.10 -m venv ~/.venvs/minigemini-34b" in text


def test_requirements_that_allow_the_plan_break_nothing(tmp_path: Path) -> None:
    patch = {**VLLM, "packages": {**VLLM["packages"], "vllm": None},  # vllm gone
             "requirements": {"accelerate": ["torch>=1.10.0"], "peft": ["transformers"],
                              "timm": ["torch>=1.7", "torchvision"]}}
    plan = _plan(_check(tmp_path, patch))
    assert plan["breaks"] == [] and plan["alternatives"] == []
    assert plan["requirements"][2] == {"package": "transformers", "spec": "==4.36.2",
                                       "from": ["model-transformers-version"],
                                       "installed": "4.46.3"}


def test_a_model_pin_and_an_installed_packages_requirement_intersect(tmp_path: Path) -> None:
    """Qwen2-VL needs transformers>=4.45.0, the installed vLLM 0.6.4 >=4.45.2: one line."""
    report = run_check(CheckRequest(model="qwen2-vl-7b-instruct", from_report=_write(
        tmp_path, environment("a100-cu124", {
            "packages": {"transformers": "4.44.0", "vllm": "0.6.4", "tokenizers": "0.19.1"},
            "requirements": {"vllm": ["transformers>=4.45.2", "tokenizers>=0.19.1"]}}))),
        make_knowledge(), fix_stage=fixing())
    plan = _plan(report)
    assert [s["command"] for s in plan["steps"]] == ["pip install 'transformers>=4.45.2'"]
    assert plan["requirements"][0]["from"] == ["model-transformers-version",
                                               "package-requirement-unmet"]
    assert plan["breaks"] == [] and plan["conflicts"] == []


def _write(tmp_path: Path, data: dict[str, Any]) -> str:
    path = tmp_path / "env.json"
    path.write_text(json.dumps(data))
    return str(path)


def _ctx(patch: dict[str, Any], code: tuple[CodeScan, ...] = ()) -> Context:
    knowledge = make_knowledge()
    snap = Snapshot.from_dict(environment("h100x4-cu121", patch))
    return Context(snapshot=snap, tables=knowledge.tables, code=code)


def _finding(fid: str, *fix: str, severity: str = "error") -> Finding:
    return Finding(id=fid, severity=severity, title=fid, message="", fix=fix)


def test_intersecting_pins_are_merged_into_one_specifier() -> None:
    plan = build_fix_plan(_ctx({}), [
        _finding("a", "pip install 'transformers>=4.38'"),
        _finding("b", "pip install -U 'transformers<4.46' 'numpy<2'"),
        _finding("c", "pip install 'transformers!=4.40.0'", severity="warning")])
    assert plan.pip_install == "pip install 'transformers!=4.40.0,<4.46,>=4.38' 'numpy<2'"
    tighter = build_fix_plan(_ctx({}), [_finding("a", "pip install 'a>=1.0,<3' 'b>2'"),
                                        _finding("b", "pip install 'a>=1.5,<2.5' 'b>2.1'")])
    assert tighter.pip_install == "pip install 'a<2.5,>=1.5' 'b>2.1'"
    assert plan.requirements[0].sources == ("a", "b", "c")
    assert plan.conflicts == ()


def test_pins_that_do_not_intersect_are_a_conflict_and_left_out() -> None:
    plan = build_fix_plan(_ctx({}), [
        _finding("model-transformers-version", "pip install 'transformers==4.36.2' 'tokenizers==0.15.0'"),
        _finding("other", "pip install 'transformers>=4.38.0'")])
    assert plan.pip_install == "pip install 'tokenizers==0.15.0'"
    (conflict,) = plan.conflicts
    assert conflict.package == "transformers"
    assert conflict.why == ("no transformers release satisfies every fix: "
                            "model-transformers-version wants transformers==4.36.2; "
                            "other wants transformers>=4.38.0")


def test_info_findings_and_unmergeable_pip_lines_stay_apart() -> None:
    plan = build_fix_plan(_ctx({}), [
        _finding("ext", "pip install flash-attn --no-build-isolation"),
        _finding("env", "export CUDA_HOME=/usr/local/cuda-12.1"),
        _finding("nvml", "pip uninstall -y pynvml && pip install nvidia-ml-py"),
        _finding("hint", "pip install 'numpy<2'", severity="info")])
    assert [(s.kind, s.command) for s in plan.steps] == [
        ("pip-uninstall", "pip uninstall -y pynvml"),
        ("pip-install", "pip install nvidia-ml-py"),
        ("pip", "pip install flash-attn --no-build-isolation"),
        ("step", "export CUDA_HOME=/usr/local/cuda-12.1")]


def test_environment_steps_run_first_and_mixed_chains_stay_whole() -> None:
    plan = build_fix_plan(_ctx({}), [
        _finding("model-python-version",
                 "conda create -n minigemini-34b python=3.10 && conda activate minigemini-34b",
                 "git clone https://github.com/dvlab-research/MGM && cd MGM && pip install -e ."),
        _finding("model-transformers-version", "pip install 'transformers==4.36.2'")])
    assert [(s.kind, s.command) for s in plan.steps] == [
        ("environment",
         "conda create -n minigemini-34b python=3.10 && conda activate minigemini-34b"),
        ("pip-install", "pip install 'transformers==4.36.2'"),
        ("step", "git clone https://github.com/dvlab-research/MGM && cd MGM && pip install -e .")]


def test_different_torch_indexes_are_a_conflict() -> None:
    plan = build_fix_plan(_ctx({}), [
        _finding("a", f"pip install 'torch==2.1.0' --index-url {CU118}"),
        _finding("b", "pip install 'torch==2.1.0' --index-url https://download.pytorch.org/whl/cu121")])
    assert plan.pip_install == f"pip install 'torch==2.1.0' --index-url {CU118}"
    assert [c.package for c in plan.conflicts] == ["--index-url"]


def test_the_strict_reader_rejects_what_it_cannot_merge() -> None:
    kinds = {line: [c.kind for c in read_fix(line)] for line in [
        "pip install 'transformers>={model.saved_transformers}'",
        "pip install -e .", "pip install git+https://github.com/x/y", "pip install 'a[b]>=1'",
        "python -m pip install 'a==1'", "pip install 'a==1"]}
    assert kinds == {
        "pip install 'transformers>={model.saved_transformers}'": ["pip"],
        "pip install -e .": ["pip"], "pip install git+https://github.com/x/y": ["pip"],
        "pip install 'a[b]>=1'": ["pip"], "python -m pip install 'a==1'": ["pip-install"],
        "pip install 'a==1": ["step"]}


def test_markers_are_decided_for_the_snapshot_platform_and_python() -> None:
    fix = [_finding("f", "pip install 'transformers==4.36.2'")]
    base = {"packages": {"mac-only": "1.0", "new-python": "1.0", "linux": "1.0"},
            "requirements": {
                "mac-only": ["transformers>=4.40; sys_platform == 'darwin'"],
                "new-python": ["transformers>=4.40; python_version >= '3.11'"],
                "linux": ["transformers>=4.40; platform_system == 'Linux'"]}}
    linux_310 = build_fix_plan(_ctx(base), fix)
    assert [b.requirer for b in linux_310.breaks] == ["linux"]
    mac_312 = build_fix_plan(_ctx({**base, "host": {"os": "Darwin"},
                                   "python": {"version": "3.12.1"}}), fix)
    assert [b.requirer for b in mac_312.breaks] == ["mac-only", "new-python"]


def test_uninstalling_a_package_others_need_is_a_break() -> None:
    plan = build_fix_plan(_ctx({"packages": {"opencv-python": "4.9.0.80", "vlmeval": "0.1"},
                                "requirements": {"vlmeval": ["opencv-python>=4.4"]}}), [
        _finding("opencv-variants-conflict", "pip uninstall -y opencv-python opencv-python-headless",
                 "pip install opencv-python-headless")])
    assert [(b.requirer, b.to_dict()["to"], b.why) for b in plan.breaks] == [
        ("vlmeval", "removed", "vlmeval 0.1 requires opencv-python>=4.4; the plan uninstalls "
                               "opencv-python")]


def test_a_changed_transformers_must_carry_what_the_model_code_imports() -> None:
    site = ImportSite(file="modeling_x.py", line=3, module="transformers.cache_utils",
                      names=("DynamicCache",), local=False, guard="")
    code = (CodeScan(origin="remote code", files=("modeling_x.py",), imports=(site,)),)
    plan = build_fix_plan(_ctx({}, code), [_finding("f", "pip install 'transformers==4.34.0'")])
    (problem,) = plan.index_problems
    assert problem.version == "4.34.0"
    assert "modeling_x.py:3 imports transformers.cache_utils.DynamicCache" in problem.why
    fine = build_fix_plan(_ctx({}, code), [_finding("f", "pip install 'transformers==4.40.0'")])
    assert fine.index_problems == ()


def test_no_findings_no_plan_section_in_text() -> None:
    from vlmdoctor.render.fixplan import fix_plan_lines

    assert fix_plan_lines(FixPlan().to_dict()) == []


def test_malformed_requirements_and_versions_in_a_report_are_skipped_not_fatal() -> None:
    ctx = _ctx({"packages": {"weird": "not-a-version", "odd": "1.0", "transformers": "garbage"},
                "requirements": {"weird": ["transformers (>=4.45", "??", "transformers>=9; (((",
                                           "transformers===foo"],
                                 "odd": ["transformers>=4.45"]}})
    plan = build_fix_plan(ctx, [_finding("f", "pip install 'transformers==4.36.2'")])
    assert [b.requirer for b in plan.breaks] == ["odd"]
    assert plan.requirements[0].installed == "garbage"


def test_the_separate_environment_uses_a_python_the_model_allows(tmp_path: Path) -> None:
    patch = {**VLLM, "python": {"version": "3.12.3"}}
    (_, separate) = _plan(_check(tmp_path, patch))["alternatives"]
    assert separate["commands"][0] == "python3.11 -m venv ~/.venvs/minigemini-34b"


def test_constraints_file_names_what_it_leaves_out() -> None:
    from vlmdoctor.fixplan.constraints import constraints_text

    plan = build_fix_plan(_ctx({}), [
        _finding("a", "pip install 'transformers==4.36.2' nvidia-ml-py"),
        _finding("b", "pip install 'transformers>=4.38.0' 'numpy<2'")])
    assert constraints_text(plan.to_dict(), None).splitlines()[2:] == [
        "# any version (nothing to constrain): nvidia-ml-py",
        "# left out, conflicting: no transformers release satisfies every fix: a wants "
        "transformers==4.36.2; b wants transformers>=4.38.0",
        "numpy<2"]


def test_the_resolve_verdict_is_rendered_in_text_and_markdown() -> None:
    from vlmdoctor.record import replace
    from vlmdoctor.render.fixplan import fix_plan_lines, fix_plan_markdown

    plan = build_fix_plan(_ctx({}), [_finding("a", "pip install 'numpy<2'")])
    ok = replace(plan, resolve={"status": "solvable", "message": "pip's resolver found a solution",
                                "command": "x", "would_install": [{"name": "numpy",
                                                                   "version": "1.26.4"}]})
    assert [t for t, _ in fix_plan_lines(ok.to_dict())][-2:] == [
        "  pip's resolver: solvable: pip's resolver found a solution",
        "    pip would install: numpy 1.26.4"]
    bad = replace(plan, resolve={"status": "unsolvable", "command": "x", "would_install": [],
                                 "message": "ERROR: Cannot install\nERROR: ResolutionImpossible"})
    assert [t for t, _ in fix_plan_lines(bad.to_dict())][-3:] == [
        "  pip's resolver: unsolvable:", "      ERROR: Cannot install",
        "      ERROR: ResolutionImpossible"]
    assert "- **pip's resolver:** unsolvable" in fix_plan_markdown(bad.to_dict())


def test_hostile_values_in_a_report_never_run_from_the_plan(tmp_path: Path) -> None:
    """Requirer names, versions and the Python version come from the report: every plan
    command (steps and alternatives) run by bash with an empty PATH leaves no marker."""
    import shutil
    import subprocess

    marker = tmp_path / "pwned"
    evil = {"$(echo x>pwned)": "1.0", "a`echo x>pwned`": "1.0", "b';echo x>pwned;'": "1.0"}
    patch = {**VLLM, "python": {"version": "3.10$(echo x>pwned)"},
             "torch": {"version": "2.5.1+cu124;echo x>pwned", "cuda": "12.4"},
             "packages": {**VLLM["packages"], **evil, "torch": "2.5.1+cu124;echo x>pwned"},
             "requirements": {name: ["transformers>=4.45.2"] for name in evil}}
    plan = _plan(_check(tmp_path, patch))
    assert {b["package"] for b in plan["breaks"]} == set(evil)  # the payloads reached the plan
    commands = [s["command"] for s in plan["steps"]] + [
        c for a in plan["alternatives"] for c in a["commands"]]
    assert any("pwned" in c for c in commands)
    bash = shutil.which("bash")
    assert bash is not None
    for command in commands:
        subprocess.run([bash, "-c", command], cwd=tmp_path, env={"PATH": ""}, timeout=10,
                       capture_output=True, check=False)
    assert not marker.exists()


def test_a_pin_the_installed_version_already_meets_breaks_nothing() -> None:
    # "odd" was broken before the plan (it wants >=4.45 and 4.36.2 is installed); a plan
    # whose pin 4.36.2 already meets changes nothing, so it is not blamed on the plan
    ctx = _ctx({"packages": {"transformers": "4.36.2", "odd": "1.0"},
                "requirements": {"odd": ["transformers>=4.45"]}})
    kept = build_fix_plan(ctx, [_finding("f", "pip install 'transformers==4.36.2'")])
    assert kept.breaks == ()
    moved = build_fix_plan(ctx, [_finding("f", "pip install 'transformers==4.37.0'")])
    assert [b.why for b in moved.breaks] == [
        "odd 1.0 requires transformers>=4.45; the plan installs transformers==4.37.0"]
