"""One redaction for every string that leaves the machine: generated names and values."""

from __future__ import annotations

import json
import string
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.hostile.test_reports import run
from vlmdoctor.cli.output import emit_report
from vlmdoctor.collect.envvars import PREFIXES, select_env
from vlmdoctor.probe import probe_findings
from vlmdoctor.probe.model import ProbeRequest
from vlmdoctor.probe.runner import run_probe
from vlmdoctor.redact import is_secret_name, mask_userinfo, redact
from vlmdoctor.report import Report, Summary, Target
from vlmdoctor.snapshot import Snapshot

MARKERS = ["TOKEN", "SECRET", "KEY", "PASSWORD", "PASS", "PASSWD", "PWD", "CREDS",
           "CREDENTIALS", "COOKIE", "AUTH", "PAT", "API_KEY", "ACCESS_KEY", "PRIVATE_KEY"]
WORD = st.text(alphabet=string.ascii_uppercase + string.digits, min_size=1, max_size=8)
SECRET_NAMES = st.builds(lambda p, a, m, b: f"{p}{a}_{m}{b}", st.sampled_from(PREFIXES),
                         WORD, st.sampled_from(MARKERS),
                         st.sampled_from(["", "_FILE", "S", "_2"]))
VALUES = st.text(min_size=6, max_size=40).filter(lambda v: v.strip() == v and v)
SAFE = string.ascii_letters + string.digits + "._~-"


@settings(max_examples=150, deadline=None)
@given(name=SECRET_NAMES, value=VALUES)
def test_secret_names_are_never_kept(name: str, value: str) -> None:
    assert is_secret_name(name)
    kept, redacted = select_env({name: value, "CUDA_VISIBLE_DEVICES": "0"})
    assert name not in kept and f"env.{name}" in redacted


@settings(max_examples=150, deadline=None)
@given(name=SECRET_NAMES | st.sampled_from(["HF_TOKEN", "GITHUB_PAT", "DB_PASSWORD"]),
       value=VALUES, before=st.text(max_size=20), after=st.text(max_size=20))
def test_secret_values_never_survive(name: str, value: str, before: str, after: str) -> None:
    out = redact(f"{before}{value}{after}", {name: value})
    assert value not in out


@settings(max_examples=150, deadline=None)
@given(user=st.text(alphabet=SAFE, min_size=1, max_size=12),
       password=st.text(alphabet=SAFE + "!$&*+=:", min_size=1, max_size=16),
       scheme=st.sampled_from(["", "https://", "http://", "git+https://", "socks5://"]),
       lead=st.sampled_from(["", " ", "url=", "'", "\n", "--index-url "]))
def test_url_credentials_are_masked(user: str, password: str, scheme: str, lead: str) -> None:
    text = f"{lead}{scheme}{user}:{password}@host.example/path"
    out = mask_userinfo(text)
    assert out == f"{lead}{scheme}***@host.example/path" or (
        lead == "url=" and out == f"{scheme}***@host.example/path" if not scheme else False)


def test_names_that_are_not_secrets() -> None:
    for name in ("PATH", "CUDA_HOME", "PWD", "OLDPWD", "NCCL_SOCKET_IFNAME", "MAX_PIXELS",
                 "CUDA_VISIBLE_DEVICES", "HF_HOME", "SLURM_JOB_PARTITION", "PYTHONPATH"):
        assert not is_secret_name(name), name


def test_emails_and_decorators_are_left_alone() -> None:
    text = "mail me@example.com; @functools.wraps; pkg @ git+https://github.com/a/b.git@v1"
    assert mask_userinfo(text) == text


@pytest.mark.parametrize("environ_name", ["HF_TOKEN", "HF_GITHUB_PAT", "HF_COOKIE"])
def test_explain_echo_is_redacted(monkeypatch: pytest.MonkeyPatch, environ_name: str) -> None:
    secret = "s3cr3tValue-0123456789"
    monkeypatch.setenv(environ_name, secret)
    for fmt in ("json", "text"):
        code, out, err = run("explain", "--format", fmt,
                             f"OSError: https://alice:{secret}@mirror.example/x failed; "
                             f"bob:pw123456@proxy.example token={secret} "
                             "CUDA error: no kernel image is available for execution")
        assert code in (0, 1), err
        assert secret not in out + err and "pw123456" not in out + err


def test_probe_output_is_redacted_everywhere(monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    secret = "hf_ProbeLeak0123456789"
    monkeypatch.setenv("HF_TOKEN", secret)
    leak = (f"import sys; print('ImportError: token {secret} via "
            f"https://u:{secret}@h.example', file=sys.stderr); sys.exit(1)")
    result = run_probe(ProbeRequest(timeout=30), command=[sys.executable, "-c", leak])
    findings = probe_findings(result)
    assert secret in json.dumps([f.to_dict() for f in findings])  # raw: redaction is at output
    report = Report(created_at="now", target=Target(), environment=Snapshot(),
                    findings=findings, summary=Summary(1, 0, 0, "fail"), probe=result)
    for fmt in ("json", "text", "markdown"):
        emit_report(report, fmt, None)
        out = capsys.readouterr().out
        assert secret not in out and ("***" in out or fmt == "text")
    emit_report(report, "json", None)
    assert "h.example" in json.dumps(json.loads(capsys.readouterr().out))


@pytest.mark.parametrize("name", ["HF_PW", "HF_PW_FILE", "HF_PWS", "HF_PIN", "HF_OTP",
                                  "HF_SAS", "HF_SIG", "HF_SALT", "HF_GITHUB_PAT"])
def test_secret_words_as_whole_words(name: str) -> None:
    """Short secret words, as whole '_'-separated words, mark a secret."""
    assert is_secret_name(name)
    kept, redacted = select_env({name: "value-123456", "CUDA_VISIBLE_DEVICES": "0"})
    assert name not in kept and redacted == (f"env.{name}",)
    assert redact("x value-123456 y", {name: "value-123456"}) == "x *** y"
