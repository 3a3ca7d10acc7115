"""`vlmdoctor probe`: a real, tiny load-and-generate in a child process with a watchdog."""

from __future__ import annotations

import sys

import click

from vlmdoctor.cli.options import (
    MODEL_HELP,
    dtype_option,
    format_option,
    model_option,
    output_option,
    python_option,
    resolved_dtype,
    rules_option,
    trust_option,
)
from vlmdoctor.cli.output import emit_report
from vlmdoctor.collect import collect_snapshot, now_utc
from vlmdoctor.doctor import model_unknown_findings
from vlmdoctor.errors import EXIT_FINDINGS, EXIT_OK
from vlmdoctor.knowledge import load_knowledge
from vlmdoctor.probe import (
    ProbeRequest,
    ProbeResult,
    probe_findings,
    probe_summary_lines,
    run_probe,
    torch_importable,
)
from vlmdoctor.report import Report, Target, summarize, with_verdict
from vlmdoctor.stages import local_dir
from vlmdoctor.target import resolve


@click.command("probe")
@model_option(help="Build the tiny model with this model's architecture family: " + MODEL_HELP
              + " A local model (directory or HF cache) is built from its config at toy size; "
              "its own Python code runs only with --trust-remote-code.")
@click.option("--device", type=click.Choice(("auto", "cpu", "cuda")), default="auto",
              show_default=True, help="auto: every visible GPU, or the CPU when there is none.")
@dtype_option(("bf16", "fp16", "fp32"),
              help="auto: bf16 where every GPU supports it, else fp16; fp32 on CPU.")
@click.option("--weights", metavar="DIR", default=None,
              help="Load these local weights instead of a tiny random model (no download).")
@click.option("--timeout", type=click.FloatRange(min=1), default=120.0, show_default=True,
              metavar="SECONDS", help="Hard limit; the child's process group is killed after it.")
@format_option(("text", "json", "markdown"))
@output_option
@python_option
@trust_option
@rules_option
def command(model: str | None, device: str, dtype: str, weights: str | None,
            timeout: float, fmt: str, output: str | None, python: str | None,
            trust_remote_code: bool, rules_dir: str | None) -> None:
    """Prove the stack works: import, CUDA init, matmul, attention, GPU-to-GPU copies and a
    tiny VLM's generate, each step timed. Exit 0 passed, 1 failed or timed out, 2 bad input."""
    knowledge = load_knowledge(rules_dir)
    resolved = resolve(knowledge.catalogue, model)
    card = resolved.card
    collected = collect_snapshot(python=python)
    request = ProbeRequest(python=python or sys.executable, family=card.family if card else None,
                           hf_model_type=card.hf_model_type if card else None,
                           device=device, dtype=resolved_dtype(dtype), weights=weights,
                           timeout=timeout, model_path=local_dir(resolved),
                           trust_remote_code=trust_remote_code)
    if not torch_importable(request.python):
        result = ProbeResult.skipped("torch is not importable in this Python")
    else:
        result = run_probe(request)
    findings = tuple(sorted(
        probe_findings(result) + model_unknown_findings(knowledge, collected.snapshot, resolved),
        key=lambda f: f.sort_key()))
    report = Report(created_at=now_utc(), target=Target(model=resolved.model_id,
                                                        dtype=resolved_dtype(dtype),
                                                        extra=resolved.report_fields()),
                    environment=collected.snapshot, findings=findings,
                    summary=with_verdict(summarize(findings, "error"), result.status == "passed",
                                         f"the probe {result.status}"),
                    redactions=collected.redactions,
                    probe=result)
    emit_report(report, fmt, output, extra_lines=["", *probe_summary_lines(result)])
    raise click.exceptions.Exit(EXIT_OK if report.summary.verdict == "pass" else EXIT_FINDINGS)
