"""A hostile report cannot produce a runnable command: every value in a fix is quoted for
where it stands (issue 18 §5). The fixes are run by bash with an empty PATH, so only shell
syntax could act; a payload that escaped its quotes would leave a marker file."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.hostile.test_reports import base_report, run
from vlmdoctor.shell import arg, fill_command, word

PAYLOADS = ["$(echo pwned>{m})", "`echo pwned>{m}`", "'; echo pwned>{m}; '",
            '"; echo pwned>{m}; "', "x\necho pwned>{m}", "x && echo pwned>{m} #"]


def _payload(n: int, marker: str) -> str:
    return PAYLOADS[n % len(PAYLOADS)].format(m=marker)


@pytest.mark.parametrize(("line", "value", "expected"), [
    ("vlmdoctor plan --model {m}", "qwen2-vl-7b", "vlmdoctor plan --model qwen2-vl-7b"),
    ("vlmdoctor plan --model {m}", "a b", "vlmdoctor plan --model 'a b'"),
    ("vlmdoctor plan --model {m}", "$(x)", "vlmdoctor plan --model '$(x)'"),
    ("pip install 'transformers>={m}'", "4.4'; rm", "pip install 'transformers>=4.4'\"'\"'; rm'"),
    ('echo "a {m}"', 'q"$(x)`y`\\', 'echo "a q\\"\\$(x)\\`y\\`\\\\"'),
    ("cmd {m}   # keep {m}", "a\nb", "cmd 'a b'   # keep a b"),
    ("# load with {m}", "attn_implementation='eager'", "# load with attn_implementation='eager'"),
    ("x=\\'{m}", "v w", "x=\\''v w'"),
])
def test_each_value_is_quoted_for_its_spot(line: str, value: str, expected: str) -> None:
    assert fill_command(line, lambda _: value) == expected


def test_arg_and_word_keep_ordinary_values_as_they_were() -> None:
    assert arg("torch==2.5.1") == "'torch==2.5.1'" and word("autoawq") == "autoawq"
    assert arg("a'b") == "'a'\"'\"'b'" and word("a b") == "'a b'"


def _fixes(report: dict[str, Any]) -> list[str]:
    return [line for f in report["findings"] for line in f["fix"]]


def _run_all(lines: list[str], where: Path) -> None:
    bash = shutil.which("bash")
    assert bash is not None
    for line in lines:
        subprocess.run([bash, "-c", line], cwd=where, env={"PATH": ""}, timeout=10,
                       capture_output=True, check=False)


@pytest.mark.parametrize("n", range(len(PAYLOADS)))
def test_hostile_values_in_a_report_and_a_model_path_never_run(tmp_path: Path, n: int) -> None:
    report = json.loads(base_report())
    for gpu in report["environment"]["gpus"]:  # a V100: bf16 fails, and its fix names the model
        gpu.update(name="Tesla V100-SXM2-32GB", compute_capability="7.0")
    report["environment"]["env"]["NCCL_SOCKET_IFNAME"] = _payload(n + 1, "E")
    path = tmp_path / "r.json"
    path.write_text(json.dumps(report))
    model = tmp_path / ("m" + _payload(n, "M"))  # a directory whose name is the payload
    model.mkdir()
    (model / "config.json").write_text(json.dumps({
        "model_type": "llava", "architectures": ["LlavaForConditionalGeneration"],
        "text_config": {"model_type": "llama"}, "vision_config": {"model_type": "clip_vision_model"}}))
    (model / "model.safetensors.index.json").write_text(json.dumps(
        {"metadata": {}, "weight_map": {"a.weight": "model-00001-of-00002.safetensors"}}))
    code, out, err = run("check", "--no-probe", "-m", str(model), "--dtype", "bf16",
                         "--from-report", str(path), "--format", "json")
    assert code == 1, err
    found = json.loads(out)["findings"]
    assert {"bf16-unsupported-gpu", "model-files-incomplete"} <= {f["id"] for f in found}
    lines = _fixes(json.loads(out))
    assert sum("pwned" in line for line in lines) >= 2  # the payload reached the fixes
    before = sorted(p.name for p in tmp_path.iterdir())
    _run_all(lines, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_hostile_values_in_compared_node_reports_never_run(tmp_path: Path) -> None:
    base = json.loads(base_report())
    paths = []
    for n in range(3):
        node = copy.deepcopy(base)
        node["environment"]["host"]["hostname"] = f"node{n}" + ("" if n else _payload(3, "H0"))
        if n:  # the majority holds the hostile values, so they become the reference
            node["environment"]["env"]["NCCL_SOCKET_IFNAME"] = _payload(n, f"E{n}")
            node["environment"]["env"]["NCCL_DEBUG"] = _payload(4, "D")
            node["environment"]["packages"]["transformers"] = _payload(2, "P")
            node["environment"]["packages"][_payload(5, "N")] = "1.0"
        path = tmp_path / f"n{n}.json"
        path.write_text(json.dumps(node))
        paths.append(str(path))
    code, out, err = run("compare", *paths, "--format", "json")
    assert code in (0, 1), err
    lines = _fixes(json.loads(out))
    assert any("pwned" in line for line in lines)
    before = sorted(p.name for p in tmp_path.iterdir())
    _run_all(lines, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == before
