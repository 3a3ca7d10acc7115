"""The fix plan at its edges (issue 19 §6): what the user copies and runs, in order."""

from __future__ import annotations

from typing import Any

from tests.conftest import environment, make_knowledge
from vlmdoctor.evaluate.context import Context
from vlmdoctor.fixplan import FixPlan, build_fix_plan
from vlmdoctor.fixplan.commands import read_fix
from vlmdoctor.record import replace
from vlmdoctor.render.fixplan import fix_plan_lines, fix_plan_markdown
from vlmdoctor.report import Finding
from vlmdoctor.snapshot import Snapshot


def _ctx(patch: dict[str, Any]) -> Context:
    snap = Snapshot.from_dict(environment("h100x4-cu121", patch))
    return Context(snapshot=snap, tables=make_knowledge().tables)


def _finding(fid: str, *fix: str) -> Finding:
    return Finding(id=fid, severity="error", title=fid, message="", fix=fix)


def test_a_note_step_is_a_shell_comment_in_text_and_markdown() -> None:
    plan = build_fix_plan(_ctx({}), [
        _finding("cuda-driver-too-old", "# upgrade the NVIDIA driver to >= 550.54.14, or:",
                 "pip install 'torch==2.1.0'")])
    data = plan.to_dict()
    assert [t for t, _ in fix_plan_lines(data)][2:4] == [
        "  1. $ pip install 'torch==2.1.0'   [cuda-driver-too-old]",
        "  2. # instead of the pip step: upgrade the NVIDIA driver to >= 550.54.14   "
        "[cuda-driver-too-old]"]
    markdown = fix_plan_markdown(data)
    start = markdown.index("```sh")
    # pasted into a shell, the note must not run as a command
    assert markdown[start + 1:start + 4] == [
        "pip install 'torch==2.1.0'",
        "# instead of the pip step: upgrade the NVIDIA driver to >= 550.54.14", "```"]


def test_a_plan_with_only_a_resolver_verdict_is_still_shown() -> None:
    plan = replace(FixPlan(), resolve={"status": "unsolvable", "command": "x",
                                       "would_install": [], "message": "ERROR: ResolutionImpossible"})
    assert [t for t, _ in fix_plan_lines(plan.to_dict())] == [
        "", "Fix plan (every fix above merged, in the order to run):",
        "  pip's resolver: unsolvable:", "      ERROR: ResolutionImpossible"]
    assert "- **pip's resolver:** unsolvable" in fix_plan_markdown(plan.to_dict())


def test_a_package_installed_again_is_not_listed_as_removed() -> None:
    plan = build_fix_plan(_ctx({"packages": {"opencv-python": "4.9.0.80",
                                             "opencv-python-headless": "4.9.0.80"}}), [
        _finding("opencv-variants-conflict",
                 "pip uninstall -y opencv-python opencv-python-headless",
                 "pip install opencv-python-headless")])
    assert plan.to_dict()["removes"] == ["opencv-python"]
    assert [s.command for s in plan.steps] == [
        "pip uninstall -y opencv-python opencv-python-headless",
        "pip install opencv-python-headless"]


def test_a_new_virtual_environment_is_made_before_anything_is_installed() -> None:
    plan = build_fix_plan(_ctx({}), [
        _finding("a", "pip install 'numpy<2'"),
        _finding("model-python-version",
                 "python3.10 -m venv ~/.venvs/m && . ~/.venvs/m/bin/activate")])
    assert [(s.kind, s.command) for s in plan.steps] == [
        ("environment", "python3.10 -m venv ~/.venvs/m && . ~/.venvs/m/bin/activate"),
        ("pip-install", "pip install 'numpy<2'")]


def test_archive_files_are_never_merged_as_requirements() -> None:
    for line in ("pip install flash_attn-2.6.3-cp310-cp310-linux_x86_64.whl",
                 "pip install vllm-0.6.4.tar.gz", "pip install xformers-0.0.28.zip"):
        assert [c.kind for c in read_fix(line)] == ["pip"], line
    plan = build_fix_plan(_ctx({}), [
        _finding("flash-attn", "pip install flash_attn-2.6.3-cp310-cp310-linux_x86_64.whl"),
        _finding("a", "pip install 'numpy<2'")])
    assert plan.pip_install == "pip install 'numpy<2'"
    assert [s.command for s in plan.steps] == [
        "pip install 'numpy<2'", "pip install flash_attn-2.6.3-cp310-cp310-linux_x86_64.whl"]


def test_the_removed_package_is_not_reinstalled_by_the_dry_run_alternative() -> None:
    plan = build_fix_plan(_ctx({"packages": {"opencv-python": "4.9.0.80", "vlmeval": "0.1"},
                                "requirements": {"vlmeval": ["opencv-python>=4.4"]}}), [
        _finding("opencv-variants-conflict", "pip uninstall -y opencv-python",
                 "pip install opencv-python-headless")])
    change = plan.to_dict()["alternatives"][0]
    assert change["kind"] == "change-too"
    # which vlmeval release accepts opencv-python being gone: never install it again here
    assert change["commands"] == ["pip install --dry-run vlmeval"]


def _code_plan(fix: str) -> FixPlan:
    from vlmdoctor.modelcode.scan import CodeScan, ImportSite

    site = ImportSite(file="modeling_x.py", line=3, module="transformers.cache_utils",
                      names=("DynamicCache",), local=False, guard="")
    code = (CodeScan(origin="remote code", files=("modeling_x.py",), imports=(site,)),)
    snap = Snapshot.from_dict(environment("h100x4-cu121", {}))
    return build_fix_plan(Context(snapshot=snap, tables=make_knowledge().tables, code=code),
                          [_finding("f", fix)])


def test_the_index_check_reads_the_release_pip_would_pick() -> None:
    # transformers.cache_utils.DynamicCache came with 4.36: pip picks the newest release in
    # the range (4.40.x), which has it, though the range's oldest (4.30.0) does not.
    assert _code_plan("pip install 'transformers>=4.30,<4.41'").index_problems == ()


def test_an_index_problem_is_shown_in_text_and_markdown() -> None:
    data = _code_plan("pip install 'transformers==4.34.0'").to_dict()
    (problem,) = data["index_problems"]
    why = problem["why"]
    assert why.startswith("under the plan's transformers==4.34.0: The model's code imports names "
                          "transformers 4.34.0 does not have: modeling_x.py:3 imports "
                          "transformers.cache_utils.DynamicCache (in transformers 4.36.0 and "
                          "later)")
    assert f"  ! {why}" in [t for t, _ in fix_plan_lines(data)]
    assert f"- **Index:** {why}" in fix_plan_markdown(data)
