"""`vlmdoctor cluster check`: one job step checks every node together."""

from __future__ import annotations

import os
import socket
from typing import Any

import click

from vlmdoctor.cli.options import (
    dtype_option,
    fail_on_option,
    format_option,
    model_option,
    rules_option,
    trust_option,
)
from vlmdoctor.cli.output import emit_report
from vlmdoctor.errors import EXIT_FINDINGS, EXIT_OK, InputError
from vlmdoctor.evaluate.context import DTYPE_CHOICES


@click.group("cluster")
def command() -> None:
    """Check every node of a multi-node job together (run once per node by the launcher).

    \b
    srun --ntasks-per-node=1 vlmdoctor cluster check -m MODEL
    torchrun --nnodes=N --nproc_per_node=1 ... -m vlmdoctor cluster check -m MODEL
    """


@command.command("check")
@model_option()
@dtype_option(tuple(d for d in DTYPE_CHOICES if d != "auto"),
              "dtype the model will run in; auto = the model's native dtype.")
@click.option("--backend", type=click.Choice(("auto", "gloo", "nccl")), default="auto",
              show_default=True, help="auto: gloo, then NCCL where CUDA is available.")
@click.option("--timeout", type=click.FloatRange(min=2), default=60.0, show_default=True,
              metavar="SECONDS", help="Hard deadline for everything that talks to other nodes.")
@click.option("--golden", metavar="REPORT", default=None,
              help="Compare every node with this saved report instead of the majority.")
@fail_on_option
@format_option(("text", "json", "markdown"))
@click.option("--output", "-o", metavar="FILE", default=None,
              help="Write this node's report to FILE; {rank} and {host} are replaced.")
@click.option("--probe", "with_probe", is_flag=True, help="Also run the local probe on each node.")
@click.option("--probe-timeout", type=click.FloatRange(min=1), default=120.0, show_default=True)
@trust_option
@rules_option
def check(model: str | None, dtype: str, backend: str, timeout: float, golden: str | None,
          fail_on: str, fmt: str, output: str | None, with_probe: bool, probe_timeout: float,
          trust_remote_code: bool, rules_dir: str | None) -> None:
    """Check this node, exchange snapshots with the others, and judge drift and transport."""
    from vlmdoctor.cluster.gate import ClusterOptions, judge
    from vlmdoctor.cluster.launch import detect
    from vlmdoctor.doctor import CheckRequest, run_check
    from vlmdoctor.knowledge import load_knowledge
    from vlmdoctor.knowledge.drift_table import load_drift_table
    from vlmdoctor.stages import planning, probing

    launch = detect(os.environ)  # outside a launcher: exit 2 before any work
    knowledge = load_knowledge(rules_dir, gate=True)
    table = load_drift_table(knowledge.root)
    golden_report = _read_report(golden) if golden else None
    local = run_check(CheckRequest(model=model, dtype=dtype, fail_on=fail_on), knowledge,
                      plan_stage=planning(knowledge),
                      probe_stage=probing(probe_timeout, trust_remote_code=trust_remote_code)
                      if with_probe else None)
    report = judge(local, launch, ClusterOptions(
        backend=backend, timeout=timeout, fail_on=fail_on, golden=golden_report,
        golden_name=golden, model_packages=_model_packages(knowledge, local.target.model)),
        table)
    target = output.replace("{rank}", str(launch.rank)).replace(
        "{host}", socket.gethostname()) if output else None
    emit_report(report, fmt, target, extra_lines=_lines(report))
    raise click.exceptions.Exit(EXIT_FINDINGS if report.summary.verdict == "fail" else EXIT_OK)


def _read_report(path: str) -> dict[str, Any]:
    from vlmdoctor.cluster.compare import read_report

    return read_report(path)


def _model_packages(knowledge: Any, model: str | None) -> frozenset[str]:
    if not model:
        return frozenset()
    try:
        card = knowledge.catalogue.resolve(model)
    except InputError:
        return frozenset()
    names = {req.package for req in card.requirements.packages}
    if card.requirements.flash_attn != "none":
        names.add("flash-attn")
    return frozenset(names)


def _lines(report: Any) -> list[str]:
    from vlmdoctor.cluster.text import cluster_lines

    return ["", *cluster_lines(report.cluster.to_dict())] if report.cluster else []
