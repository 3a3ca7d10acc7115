from __future__ import annotations

import json

from click.testing import CliRunner

from vlmdoctor.cli import plan_cmd
from vlmdoctor.errors import InputError
from vlmdoctor.snapshot import Gpu, Snapshot


def fake_modules(monkeypatch, snapshot: Snapshot | None = None) -> None:
    """A stand-in for the live inventory; the knowledge base is the shipped one."""
    monkeypatch.setattr(plan_cmd, "load_environment", lambda from_report: snapshot or Snapshot())


def run(args: list[str]):
    return CliRunner().invoke(plan_cmd.command, args)


def test_fits_exit_0_json(monkeypatch):
    fake_modules(monkeypatch)
    result = run(["--model", "internvl2-76b", "--gpus", "4xA100-80GB", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["fits"] is True


def test_does_not_fit_exit_1(monkeypatch):
    fake_modules(monkeypatch)
    result = run(["--model", "internvl2-76b", "--gpus", "2xA100-80GB"])
    assert result.exit_code == 1
    assert "does NOT fit" in result.output.splitlines()[0]


def test_bad_gpu_spec_is_input_error(monkeypatch):
    fake_modules(monkeypatch)
    result = run(["--model", "internvl2-76b", "--gpus", "2xA100"])
    assert isinstance(result.exception, InputError)  # the top-level handler maps it to exit 2


def test_live_inventory(monkeypatch):
    snap = Snapshot(gpus=(Gpu(0, "NVIDIA H100 80GB HBM3", 81559, 81000, "9.0"),))
    fake_modules(monkeypatch, snap)
    result = run(["-m", "qwen2-vl-7b-instruct", "--format", "json", "--max-pixels", "602112"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["gpus"][0]["memory_free_bytes"] == 81000 * 2**20
    assert data["per_gpu"][0]["capacity_bytes"] == 81000 * 2**20


def test_an_unsizable_model_says_so_plainly_and_exits_0() -> None:
    # The IXC2-VL card has no parameter counts: no "0.00 GiB of 0.00 GiB", no "does not
    # fit", and not exit 1 (which means "does not fit").
    result = run(["--model", "internlm-xcomposer2-vl-7b", "--gpus", "1xA100-80GB"])
    assert result.exit_code == 0, result.output
    head = result.output.splitlines()[0]
    assert head == ("Plan: InternLM-XComposer2-VL-7B in fp16 on 1 GPU(s): not sized: parameter "
                    "counts unknown, so whether it fits is not known")
    assert "GiB" not in result.output and "NOT fit" not in result.output
    assert result.output.splitlines()[-1] == (
        "Verdict: NOT SIZED (exit 0: the model's parameter count is unknown, so whether it "
        "fits is not known)")
    data = json.loads(run(["--model", "internlm-xcomposer2-vl-7b", "--gpus", "1xA100-80GB",
                           "--format", "json"]).output)
    assert (data["sized"], data["fits"]) == (False, False)
