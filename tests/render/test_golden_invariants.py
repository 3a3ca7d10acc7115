"""Hand-written invariants on the golden files (tests/golden/), beside the byte comparison in
test_golden.py: regenerating a golden from a bug cannot make these pass. They read the
goldens, not the renderers, and state what the first-target scenario (MiniGemini-34B on
4 x H100 with a cu117 torch, transformers 4.37.2 and two OpenCV wheels) must say.
(tests/test_regressions.py holds two more: text verdict vs JSON exit code, finding order.)"""

from __future__ import annotations

import json
import re

import pytest

from tests.conftest import ROOT, environment

GOLDEN = ROOT / "tests" / "golden"


def _read(suffix: str) -> str:  # at test time, so an UPDATE_GOLDEN run checks what it wrote
    return (GOLDEN / f"mgm-34b-h100-cu117.{suffix}").read_text()

# The scenario, by hand: MGM-34B pins transformers 4.36.2 (its repo's pyproject.toml); a
# cu117 torch 2.0.1 has no sm_90 kernels (the fix keeps 2.0.1 and takes its cu118 build);
# opencv-python next to opencv-python-headless share cv2; nvcc 12.1 vs torch's CUDA 11.7.
EXPECTED = [("error", "model-transformers-version"), ("error", "opencv-variants-conflict"),
            ("error", "torch-arch-missing"), ("warning", "nvcc-torch-cuda-major-mismatch")]
FIXES = {
    "model-transformers-version": ["pip install 'transformers==4.36.2' 'tokenizers==0.15.0'"],
    "torch-arch-missing": ["pip install 'torch==2.0.1' 'torchvision==0.15.2' --index-url "
                           "https://download.pytorch.org/whl/cu118"],
}


def test_json_golden_says_what_the_scenario_must() -> None:
    report = json.loads(_read("json"))
    findings = report["findings"]
    assert [(f["severity"], f["id"]) for f in findings] == EXPECTED
    assert report["summary"] == {"errors": 3, "warnings": 1, "infos": 0, "verdict": "fail",
                               "exit_code": 1,
                               "reason": "3 finding(s) at or above --fail-on error"}
    assert (report["target"]["model"], report["target"]["dtype"]) == ("minigemini-34b", "fp16")
    fixes = {f["id"]: f["fix"] for f in findings}
    for finding, fix in FIXES.items():
        assert fixes[finding] == fix
    # the report's environment is the snapshot it was given, untouched
    given = environment("h100x4-cu121", {"torch": {"version": "2.0.1+cu117", "cuda": "11.7"},
                                         "packages": {"torch": "2.0.1+cu117",
                                                      "opencv-python": "4.9.0.80",
                                                      "opencv-python-headless": "4.9.0.80"}})
    assert report["environment"] == given
    assert report["redactions"] == [] and report["plan"] is None and report["probe"] is None


def test_every_finding_has_a_source_and_a_fix() -> None:
    for f in json.loads(_read("json"))["findings"]:
        assert f["references"] and all(r.startswith("https://") for r in f["references"]), f["id"]
        assert f["fix"], f["id"]


def test_fix_plan_merges_every_fix_of_the_findings() -> None:
    report = json.loads(_read("json"))
    findings = report["findings"]
    steps = report["fix_plan"]["steps"]
    covered = {finding for step in steps for finding in step["from"]}
    assert covered == {f["id"] for f in findings}
    assert steps[0]["kind"] == "pip-uninstall"  # uninstall the OpenCV wheels before installing
    install = report["fix_plan"]["pip_install"]
    for spec in ("'transformers==4.36.2'", "'tokenizers==0.15.0'", "opencv-python-headless",
                 "'torch==2.0.1'", "'torchvision==0.15.2'",
                 "https://download.pytorch.org/whl/cu118"):
        assert spec in install


def test_markdown_golden_agrees_with_the_json_golden() -> None:
    report, md, text = json.loads(_read("json")), _read("md"), _read("txt")
    findings = report["findings"]
    s = report["summary"]
    version = report["tool"]["version"]
    assert md.startswith(f"## vlmdoctor {version} report: minigemini-34b (fp16)\n")
    assert (f"**Verdict: {s['verdict'].upper()}** (exit {s['exit_code']}: {s['reason']}): "
            f"{s['errors']} error(s), {s['warnings']} warning(s), {s['infos']} info") in md
    headings = re.findall(r"^#### (ERROR|WARNING|INFO) `([a-z0-9-]+)`: (.*)$", md, flags=re.M)
    assert headings == [(f["severity"].upper(), f["id"], f["title"]) for f in findings]
    sections = re.split(r"^#### ", md, flags=re.M)[1:]
    for f, section in zip(findings, sections):
        assert f["message"] in section
        assert "```sh\n" + "\n".join(f["fix"]) + "\n```" in section, f["id"]
        assert "Sources: " + ", ".join(f"<{r}>" for r in f["references"]) in section
    # the summary table holds the text golden's summary rows, in the same order
    table = md.split("|---|---|\n", 1)[1].split("\n\n", 1)[0]
    rows = re.findall(r"^\| (.+?) \| (.+?) \|$", table, flags=re.M)
    text_rows = text.split("\n\n", 2)[1].splitlines()
    assert len(rows) == len(text_rows) > 10
    for (key, value), line in zip(rows, text_rows):
        assert line.startswith(f"  {key} ") and line.endswith(f" {value}"), (key, line)
    assert ("transformers", "4.37.2") in rows and ("torch", "2.0.1+cu117 (CUDA 11.7)") in rows


def test_markdown_golden_embeds_the_json_golden_exactly() -> None:
    block = re.search(r"<details><summary>Full JSON report</summary>\n\n```json\n(.*)\n```\n",
                      _read("md"), flags=re.S)
    assert block is not None
    assert block.group(1) + "\n" == _read("json")


@pytest.mark.parametrize("finding_id", [i for _, i in EXPECTED])
def test_text_golden_shows_each_finding_its_fix_and_first_sources(finding_id: str) -> None:
    text = _read("txt")
    (finding,) = [f for f in json.loads(_read("json"))["findings"] if f["id"] == finding_id]
    mark = {"error": "x", "warning": "!", "info": "i"}[finding["severity"]]
    assert f"  {mark} [{finding['id']}] {finding['title']}\n" in text
    for command in finding["fix"]:
        assert f"        $ {command}\n" in text
    shown = finding["references"][:2]
    for ref in shown:
        assert f"      see {ref}\n" in text
    hidden = len(finding["references"]) - len(shown)
    assert (f"(+{hidden} more source(s) in --format json)" in text.split(
        f"[{finding['id']}]", 1)[1].split("\n\n", 1)[0]) is (hidden > 0)


def test_text_golden_lists_the_fix_plan_in_order() -> None:
    report, text = json.loads(_read("json")), _read("txt")
    plan = text.split("Fix plan (every fix above merged, in the order to run):\n", 1)[1]
    lines = [line for line in plan.splitlines() if line.strip()]
    steps = report["fix_plan"]["steps"]
    assert len(lines) == len(steps)
    for number, (line, step) in enumerate(zip(lines, steps), start=1):
        assert line == f"  {number}. $ {step['command']}   [{', '.join(step['from'])}]"


def test_text_golden_header_matches_the_json_summary() -> None:
    report, text = json.loads(_read("json")), _read("txt")
    s = report["summary"]
    first, second = text.splitlines()[:2]
    assert first == f"vlmdoctor {report['tool']['version']} report: minigemini-34b, fp16"
    assert second == (f"Verdict: {s['verdict'].upper()} (exit {s['exit_code']}: {s['reason']})  "
                      f"{s['errors']} error(s), {s['warnings']} warning(s), {s['infos']} info")
