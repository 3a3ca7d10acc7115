"""Secrets never reach any output format."""

from __future__ import annotations

import json

from click.testing import CliRunner

from tests.conftest import make_knowledge
from tests.fakes import FakeNvml
from vlmdoctor.collect import collect_snapshot
from vlmdoctor.collect.envvars import scrub_value, select_env
from vlmdoctor.doctor import CheckRequest, run_check
from vlmdoctor.render.jsonfmt import report_json
from vlmdoctor.render.markdown import report_markdown
from vlmdoctor.render.text import report_lines

SECRET = "hf_SuperSecretValue123"
ENVIRON = {
    "HF_TOKEN": SECRET, "HUGGING_FACE_HUB_TOKEN": SECRET, "NCCL_IB_DISABLE": "1",
    "CUDA_VISIBLE_DEVICES": "0,1", "AWS_SECRET_ACCESS_KEY": SECRET, "HOME": "/root",
    "HF_ENDPOINT": f"https://user:{SECRET}@mirror.example/hf", "MAX_PIXELS": "602112",
    "WANDB_API_KEY": SECRET,
}


def test_allow_list_and_redactions() -> None:
    kept, redacted = select_env(ENVIRON)
    assert kept == {"CUDA_VISIBLE_DEVICES": "0,1", "HF_ENDPOINT": "https://***@mirror.example/hf",
                    "MAX_PIXELS": "602112", "NCCL_IB_DISABLE": "1"}
    assert redacted == ("env.HF_TOKEN", "env.HUGGING_FACE_HUB_TOKEN")


def test_scrub_value_home(monkeypatch: object) -> None:
    import os
    home = os.path.expanduser("~")
    assert scrub_value(f"{home}/.venv/lib:/usr/lib") == "~/.venv/lib:/usr/lib"


def test_secret_never_reaches_any_format() -> None:
    knowledge = make_knowledge()

    def collect() -> object:
        return collect_snapshot(nvml=FakeNvml.from_fixture("two-a100"), environ=ENVIRON,
                                packages=lambda: {"torch": "2.5.1+cu124"})

    report = run_check(CheckRequest(model="qwen-test-7b"), knowledge, collect=collect)  # type: ignore[arg-type]
    outputs = [report_json(report), report_markdown(report),
               "\n".join(t for t, _ in report_lines(report))]
    for out in outputs:
        assert SECRET not in out
    assert json.loads(outputs[0])["redactions"] == ["env.HF_TOKEN", "env.HUGGING_FACE_HUB_TOKEN"]


def test_env_command_never_prints_secrets(monkeypatch: object) -> None:
    import pytest
    mp = pytest.MonkeyPatch()
    try:
        mp.setenv("HF_TOKEN", SECRET)
        mp.setenv("NCCL_DEBUG", "INFO")
        from vlmdoctor.cli import cli
        for fmt in ("json", "text"):
            result = CliRunner().invoke(cli, ["env", "--format", fmt])
            assert result.exit_code == 0
            assert SECRET not in result.output
        assert "NCCL_DEBUG" in result.output
    finally:
        mp.undo()
