"""Secrets are masked on the final text of every format and command: after JSON escaping,
visible escapes, Markdown cells, shell quoting, wrapping and truncation (issue 18 §4)."""

from __future__ import annotations

import json
import string
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.hostile.test_reports import base_report, run
from vlmdoctor.cli.output import emit_report
from vlmdoctor.probe.findings import _first_line
from vlmdoctor.redact import MASK, Redactor, clip, mask_patterns, mask_userinfo, redact
from vlmdoctor.render.final import final_redactor
from vlmdoctor.report import Finding, Report, Summary, Target
from vlmdoctor.snapshot import Snapshot

# Secrets as people have them: quotes, backslashes, tabs, hyphens, spaces, long tokens,
# non-ASCII; always with some letters so a secret is not a word of the report itself.
ODD = "\"'\\\t -|_/:=?&%$`!#é€\u0085"
SECRETS = st.builds(
    lambda head, body, tail: f"{head}{body}{tail}",
    st.text(alphabet=string.ascii_letters + string.digits, min_size=5, max_size=8),
    st.text(alphabet=string.ascii_letters + string.digits + ODD, min_size=1, max_size=150),
    st.text(alphabet=string.ascii_letters + string.digits, min_size=1, max_size=4),
)


def _squashed(text: str) -> str:
    return " ".join(text.split())


def _report(secret: str) -> Report:
    quoted = secret.replace("'", "'\"'\"'")
    message = ("The download failed while the mirror answered with a long explanation of "
               f"why, quoting the token {secret} in the middle of a sentence that wraps, "
               "and more words after it so the text renderer has to wrap it twice over.")
    finding = Finding(id="probe-import", severity="error", title=f"Import failed: {secret}",
                      message=message, fix=(f"pip install 'pkg @ {quoted}'",),
                      evidence={"probe.error": f"token={secret}"})
    environment = Snapshot.from_dict({"schema_version": 1, "env": {"HF_ENDPOINT": secret}})
    return Report(created_at="now", target=Target(model=f"m-{secret}"), environment=environment,
                  findings=(finding,), summary=Summary(1, 0, 0, "fail"))


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*_strings(k), *_strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


@settings(max_examples=60, deadline=None)
@given(secret=SECRETS, fmt=st.sampled_from(["text", "json", "markdown"]))
def test_every_format_masks_every_form_of_a_secret(secret: str, fmt: str) -> None:
    with pytest.MonkeyPatch.context() as mp, tempfile.TemporaryDirectory() as tmp:
        mp.setenv("HF_TOKEN", secret)
        out_path = Path(tmp, "out")
        emit_report(_report(secret), fmt, str(out_path))
        out = out_path.read_text(encoding="utf-8")
    assert secret not in out
    assert _squashed(secret) not in _squashed(out)  # not even across a wrapped line
    for form in (json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1],
                 secret.replace("'", "'\"'\"'")):
        assert form not in out
    if fmt == "json":
        assert all(secret not in s for s in _strings(json.loads(out)))
        assert json.loads(out)["findings"][0]["title"] == f"Import failed: {MASK}"


@settings(max_examples=40, deadline=None)
@given(secret=SECRETS, limit=st.integers(min_value=1, max_value=60))
def test_a_cut_never_leaves_a_prefix_of_a_secret(secret: str, limit: int) -> None:
    text = "x" * limit + secret + " and more text after it"
    for cut in range(limit + 6, limit + len(secret)):  # every cut inside the secret
        out = clip(text, cut, Redactor({"HF_TOKEN": secret}))
        assert secret[:6] not in out and MASK in out


def test_probe_first_line_is_redacted_before_it_is_cut(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "hf_" + "Q" * 40
    monkeypatch.setenv("HF_TOKEN", secret)
    line = _first_line("E" * 280 + " token " + secret + " end")  # a cut would fall in it
    assert "QQQQQ" not in line and line.endswith(f"token {MASK} end")


@pytest.mark.parametrize(("text", "expected"), [
    ("git clone https://ghp_tok3nValue@github.com/o/r", "git clone https://***@github.com/o/r"),
    ("pip install -i https://__token__@pypi.example/simple x",
     "pip install -i https://***@pypi.example/simple x"),
    ("mail alice@example.com", "mail alice@example.com"),
    ("pkg @ git+https://github.com/a/b.git@v1", "pkg @ git+https://github.com/a/b.git@v1"),
])
def test_a_user_name_alone_after_a_scheme_is_a_credential(text: str, expected: str) -> None:
    assert mask_userinfo(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("GET /x?access_token=abc.DEF-123&page=2", "GET /x?access_token=***&page=2"),
    ("s3://b/o?X-Amz-Credential=AKIDEXAMPLE%2F2026&X-Amz-Signature=fe5f80f77d5fa3",
     "s3://b/o?X-Amz-Credential=***&X-Amz-Signature=***"),
    ("https://h/x?sig=Zm9vYmFy;token=secretvalue#frag", "https://h/x?sig=***;token=***#frag"),
    ("https://h/x?max_new_tokens=512&tokenizer=Qwen", "https://h/x?max_new_tokens=512&tokenizer=Qwen"),
    ("export HF_TOKEN=hfvalue0 WANDB_API_KEY='k e y'", "export HF_TOKEN=*** WANDB_API_KEY=***"),
    ('DB_PASSWORD="p@ss w0rd" MAX_NEW_TOKENS=1024', "DB_PASSWORD=*** MAX_NEW_TOKENS=1024"),
    ("CUDA_VISIBLE_DEVICES=0,1 NCCL_SOCKET_IFNAME=eth0", "CUDA_VISIBLE_DEVICES=0,1 NCCL_SOCKET_IFNAME=eth0"),
])
def test_secret_parameters_and_assignments(text: str, expected: str) -> None:
    assert mask_patterns(text) == expected


@pytest.mark.parametrize("token", [
    "hf_" + "aB3" * 12, "ghp_" + "x9" * 18, "github_pat_11ABCDEFG0" + "y" * 40,
    "AKIAIOSFODNN7EXAMPLE", "sk-" + "proj_" + "Z" * 40, "xoxb-1234-5678-abcdefghij",
    "glpat-" + "q" * 20,
])
def test_tokens_of_a_published_shape_from_another_machine(token: str) -> None:
    assert redact(f"a log line with {token} in it", {}) == f"a log line with {MASK} in it"


def test_token_shapes_do_not_eat_ordinary_words() -> None:
    text = "the task-scheduler and disk-cache; hf_hub_download; sk-learn; AKIA"
    assert redact(text, {}) == text


def test_ascii_escaped_json_is_masked_too(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Output written with json.dumps' default (ensure_ascii) escapes non-ASCII characters."""
    from vlmdoctor.cli.output import emit

    secret = "pässwörd-0123"
    monkeypatch.setenv("HF_TOKEN", secret)
    out = tmp_path / "out.json"
    emit(lambda _: json.dumps({"leak": f"a {secret} b"}), str(out))
    assert json.loads(out.read_text()) == {"leak": f"a {MASK} b"}


def test_the_final_redactor_knows_escaped_forms() -> None:
    secret = 'a"b\\c\td'
    out = final_redactor({"HF_TOKEN": secret})(json.dumps({"x": f"k {secret} v"}))
    assert json.loads(out) == {"x": f"k {MASK} v"}


def test_secrets_in_a_replayed_report_never_reach_any_command(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    secret = "Pa ss\t'wo\"rd\\-0123456789"
    monkeypatch.setenv("MY_SERVICE_PASSWORD", secret)
    report = json.loads(base_report())
    report["environment"]["env"]["HF_ENDPOINT"] = f"https://mirror.example/{secret}"
    report["target"]["model"] = secret
    path = tmp_path / "r.json"
    path.write_text(json.dumps(report))
    runs = [("check", "--no-probe", "--from-report", str(path)),
            ("explain", "--from-report", str(path), f"OSError: {secret} no kernel image"),
            ("plan", "--from-report", str(path), "-m", "internvl2-8b"),
            ("compare", str(path), str(path))]
    for args in runs:
        for fmt in ("text", "json", "markdown"):
            code, out, err = run(*args, "--format", fmt)
            assert code in (0, 1, 2), (args, fmt, err)
            both = out + err
            assert secret not in both and json.dumps(secret)[1:-1] not in both, (args, fmt)
            assert _squashed(secret) not in _squashed(both), (args, fmt)
