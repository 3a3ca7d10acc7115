"""``vlmdoctor plan``: will the model fit, how to split it, and what would make it fit."""

from __future__ import annotations

import json

import click

from vlmdoctor.cli.options import (
    MODEL_HELP,
    dtype_given,
    dtype_option,
    format_option,
    from_report_option,
    model_option,
    resolved_dtype,
    rules_option,
)
from vlmdoctor.cli.output import emit
from vlmdoctor.doctor import load_environment
from vlmdoctor.errors import InputError
from vlmdoctor.knowledge import load_knowledge
from vlmdoctor.knowledge.catalogue import Catalogue
from vlmdoctor.plan import (
    GpuSpec,
    PlanRequest,
    gpus_from_snapshot,
    make_plan,
    parse_gpus,
    plan_findings,
    plan_text_lines,
    unplannable,
)
from vlmdoctor.plan.checkpoint import checkpoint_of
from vlmdoctor.plan.constants import DEFAULT_CONTEXT, DEFAULT_IMAGES, DTYPES
from vlmdoctor.plan.stack import Stack
from vlmdoctor.plan.vllm import VllmOptions, vllm_plan, with_images
from vlmdoctor.plan.vllm_text import vllm_findings, vllm_text_lines
from vlmdoctor.render.jsonfmt import dumps
from vlmdoctor.render.safe import md_fence
from vlmdoctor.render.text import Line
from vlmdoctor.report import Finding
from vlmdoctor.reportfile import read_saved
from vlmdoctor.target import ResolvedModel, replay, resolve

GPUS_HELP = ("GPUs to plan for instead of the live inventory: 4xA100-80GB, 8xH100, 2x24GiB, "
             "1xV100-32GB, T4,T4 (GiB/MiB binary, GB/MB decimal)")


def inventory(gpus: str | None, from_report: str | None
              ) -> tuple[tuple[GpuSpec, ...], tuple[str, ...], Stack]:
    """The GPUs to plan on, why any GPU found here cannot be planned on, and the stack."""
    if gpus is not None and from_report is None:
        from vlmdoctor.collect.packages import installed_packages

        found = installed_packages()
        return parse_gpus(gpus), (), Stack(found.get("transformers"), found.get("torch"),
                                           "installed here")
    snapshot = load_environment(from_report)
    stack = Stack(snapshot.packages.get("transformers"), snapshot.packages.get("torch"),
                  "from the report" if from_report else "installed here")
    if gpus is not None:
        return parse_gpus(gpus), (), stack
    return gpus_from_snapshot(snapshot), unplannable(snapshot), stack


def _mm_limit(text: str | None) -> int | None:
    """--limit-mm-per-prompt: an image count, or vLLM's JSON form ``{"image": N}``."""
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        raise InputError(f"--limit-mm-per-prompt {text!r}: expected a number or JSON such as "
                         '\'{"image": 2}\'') from None
    if isinstance(value, dict):
        value = value.get("image", 1)
        value = value.get("count", 1) if isinstance(value, dict) else value
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 1024:
        raise InputError(f"--limit-mm-per-prompt {text!r}: the image count must be an integer "
                         "from 0 to 1024")
    return value


def _mm_pixels(text: str | None) -> int | None:
    """--mm-processor-kwargs JSON: its max_pixels, the one the planner reads."""
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        raise InputError(f"--mm-processor-kwargs {text!r}: not JSON") from None
    pixels = value.get("max_pixels") if isinstance(value, dict) else None
    if pixels is None:
        return None
    if isinstance(pixels, bool) or not isinstance(pixels, int) or not 1 <= pixels <= 1 << 40:
        raise InputError(f"--mm-processor-kwargs: max_pixels {pixels!r} must be an integer "
                         f"from 1 to {1 << 40}")
    return pixels


@click.command("plan")
@model_option(help=MODEL_HELP + " Optional with --from-report: the report's model, dtype and "
                   "saved model facts are planned (no model files needed).")
@click.option("--gpus", default=None, help=GPUS_HELP)
@from_report_option
@dtype_option(DTYPES, help="Precision; auto = the model's native dtype.")
@click.option("--context", type=int, default=None,
              help=f"Text tokens the KV cache holds (prompt + generated); default "
                   f"{DEFAULT_CONTEXT}, which the plan may lower to fit (a given value it keeps).")
@click.option("--new-tokens", type=int, default=0, show_default=True,
              help="How many of the context tokens are generated (0 = plan for a full prompt).")
@click.option("--batch", type=int, default=1, show_default=True)
@click.option("--images", type=int, default=DEFAULT_IMAGES, show_default=True,
              help="Images per sequence.")
@click.option("--max-pixels", type=int, default=None, help="Pixel budget per image.")
@click.option("--videos", type=int, default=0, show_default=True,
              help="Videos per sequence (Qwen-style models).")
@click.option("--frames", type=int, default=32, show_default=True,
              help="Frames per video after sampling.")
@click.option("--video-max-pixels", type=int, default=None,
              help="Pixel cap per video frame (qwen-vl-utils VIDEO_MAX_PIXELS).")
@click.option("--transformers", "transformers_version", default=None,
              help="Plan for this transformers release instead of the installed one.")
@click.option("--torch", "torch_version", default=None,
              help="Plan for this torch release instead of the installed one.")
@click.option("--engine", type=click.Choice(["transformers", "vllm"]), default="transformers",
              show_default=True, help="vllm: will `vllm serve` start with the flags below.")
@click.option("--tensor-parallel-size", type=int, default=1, show_default=True,
              help="vLLM --tensor-parallel-size.")
@click.option("--max-model-len", type=int, default=None,
              help="vLLM --max-model-len (default: the model's context length).")
@click.option("--limit-mm-per-prompt", default=None,
              help='vLLM --limit-mm-per-prompt: a number or \'{"image": N}\' (default: --images).')
@click.option("--mm-processor-kwargs", default=None,
              help='vLLM --mm-processor-kwargs JSON; its max_pixels is read.')
@click.option("--gpu-memory-utilization", type=float, default=0.9, show_default=True,
              help="vLLM --gpu-memory-utilization.")
@click.option("--enforce-eager", is_flag=True, help="vLLM --enforce-eager (no CUDA graphs).")
@rules_option
@format_option(("text", "json", "markdown"))
@click.pass_context
def command(ctx: click.Context, model: str | None, gpus: str | None, from_report: str | None,
            dtype: str, context: int | None, new_tokens: int, batch: int, images: int,
            max_pixels: int | None, videos: int, frames: int,
            video_max_pixels: int | None, transformers_version: str | None,
            torch_version: str | None, engine: str, tensor_parallel_size: int,
            max_model_len: int | None, limit_mm_per_prompt: str | None,
            mm_processor_kwargs: str | None, gpu_memory_utilization: float,
            enforce_eager: bool, rules_dir: str | None, fmt: str) -> None:
    """Plan memory per GPU and a device map.

    Exit 0 when no finding is an error (fits, fits at a smaller budget: a warning, or not
    sized), 1 on an error finding (does not fit even at the smallest budget; vLLM would not
    start) or an unknown model, 2 bad input.
    """
    catalogue = load_knowledge(rules_dir).catalogue
    resolved, dtype = _target(ctx, catalogue, model, from_report, dtype)
    card = resolved.card
    if card is None:
        _cannot_plan(resolved, fmt)
        ctx.exit(1)
        return
    found, excluded, stack = inventory(gpus, from_report)
    stack = Stack(transformers_version or stack.transformers, torch_version or stack.torch,
                  "--transformers/--torch" if transformers_version or torch_version
                  else stack.source)
    request = PlanRequest(
        card=card, gpus=found, excluded=excluded, dtype=resolved_dtype(dtype),
        context=DEFAULT_CONTEXT if context is None else context, context_fixed=context is not None,
        batch=batch, images=images, max_pixels=max_pixels, new_tokens=new_tokens,
        videos=videos, frames=frames, video_max_pixels=video_max_pixels,
        variants=catalogue.family(card.family), stack=stack,
        checkpoint=checkpoint_of(resolved.facts),  # pre-quantised: planned as stored
    )
    if engine == "vllm":
        _vllm(ctx, request, fmt, VllmOptions(
            tensor_parallel_size=tensor_parallel_size, max_model_len=max_model_len,
            gpu_memory_utilization=gpu_memory_utilization, enforce_eager=enforce_eager),
            _mm_limit(limit_mm_per_prompt), _mm_pixels(mm_processor_kwargs))
        return
    plan = make_plan(request)
    findings = plan_findings(plan)
    code = 1 if any(f.severity == "error" for f in findings) else 0
    if not plan.sized:  # an unknown size is not "does not fit": nothing to gate on
        verdict = ("Verdict: NOT SIZED (exit 0: the model's parameter count is unknown, so "
                   "whether it fits is not known)")
    elif plan.fits:
        verdict = "Verdict: FITS (exit 0: the model fits these GPUs)"
    elif plan.runnable:
        verdict = ("Verdict: FITS WITH A SMALLER BUDGET (exit 0: a warning; the flags above "
                   "set the budget that fits)")
    else:
        verdict = ("Verdict: DOES NOT FIT (exit 1: the model does not fit these GPUs even at "
                   "the smallest budget)")
    lines = [*plan_text_lines(plan), *_finding_lines(findings)]
    if fmt == "json":
        emit(lambda _: dumps({**plan.to_dict(), "findings": [f.to_dict() for f in findings]}),
             None)
    elif fmt == "markdown":
        fence = md_fence(lines)
        emit(lambda _: _lines([f"## vlmdoctor plan: {plan.model_name}", "", f"**{verdict}**",
                               "", f"{fence}text", *lines, fence]), None)
    else:
        emit(lambda _: _lines([*lines, "", verdict]), None)
    if code:
        ctx.exit(code)


def _finding_lines(findings: tuple[Finding, ...]) -> list[str]:
    if not findings:
        return []
    lines = ["Findings:"]
    for f in findings:
        lines.append(f"  [{f.severity}] {f.id}: {f.title}")
        lines.append(f"    {f.message}")
        lines.extend(f"    fix: {fix}" for fix in f.fix)
    return lines


def _vllm(ctx: click.Context, request: PlanRequest, fmt: str, options: VllmOptions,
          limit: int | None, pixels: int | None) -> None:
    vplan = vllm_plan(with_images(request, limit, pixels), options)
    findings = vllm_findings(request.card.name, vplan)
    code = 1 if any(f.severity == "error" for f in findings) else 0
    if fmt == "json":
        emit(lambda _: dumps({**vplan.to_dict(), "model": request.card.id,
                              "findings": [f.to_dict() for f in findings]}), None)
    else:
        lines = vllm_text_lines(request.card.name, options, vplan)
        verdict = {True: "Verdict: STARTS (exit 0)",
                   None: "Verdict: NOT SIZED (exit 0: a number the check needs is unknown)",
                   False: "Verdict: DOES NOT START (exit 1: vLLM stops with the message above)"}
        emit(lambda _: _lines([*lines, *_finding_lines(findings), "",
                               verdict[vplan.starts]]), None)
    if code:
        ctx.exit(code)


def _lines(texts: list[str]) -> list[Line]:
    return [(text, "") for text in texts]


def _target(ctx: click.Context, catalogue: Catalogue, model: str | None,
            from_report: str | None, dtype: str) -> tuple[ResolvedModel, str]:
    """--model as given, or the saved report's target (its dtype too, unless --dtype)."""
    if model is not None:
        return resolve(catalogue, model), dtype
    if from_report is None:
        raise click.UsageError("Missing option '--model' / '-m' (or --from-report REPORT "
                               "with a report that names a model).", ctx)
    saved = read_saved(from_report)
    resolved = replay(catalogue, saved.target or {}, saved.path)
    if resolved.requested is None:
        raise click.UsageError(f"{from_report} names no model: pass --model.", ctx)
    if not dtype_given(ctx) and saved.target_dtype in DTYPES:
        dtype = saved.target_dtype or dtype
    return resolved, dtype


def _cannot_plan(model: ResolvedModel, fmt: str) -> None:
    close = ", ".join(model.suggestions) or "none"
    reason = (f"unknown model {model.requested!r}: not in the catalogue (closest: {close}), "
              "not a model directory, and not a repo in the local Hugging Face cache")
    hint = ("point --model at the model's files (./path/to/model, or a repo id already in "
            "the Hugging Face cache): it is sized from its config and safetensors headers")
    if fmt == "json":
        click.echo(json.dumps({"model": model.requested, "fits": None, "error": reason,
                               "suggestions": list(model.suggestions), "hint": hint}, indent=2))
    else:
        click.echo(f"Cannot plan: {reason}.\nTo size it, {hint}.\n\n"
                   "Verdict: CANNOT PLAN (exit 1: the model cannot be sized)")
