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
from vlmdoctor.knowledge import load_knowledge
from vlmdoctor.knowledge.catalogue import Catalogue
from vlmdoctor.modelfiles.quant import auto_dtype
from vlmdoctor.plan import (
    GpuSpec,
    PlanRequest,
    gpus_from_snapshot,
    make_plan,
    parse_gpus,
    plan_text_lines,
    unplannable,
)
from vlmdoctor.plan.constants import DEFAULT_CONTEXT, DEFAULT_IMAGES, DTYPES
from vlmdoctor.render.jsonfmt import dumps
from vlmdoctor.render.safe import md_fence
from vlmdoctor.render.text import Line
from vlmdoctor.reportfile import read_saved
from vlmdoctor.target import ResolvedModel, replay, resolve

GPUS_HELP = ("GPUs to plan for instead of the live inventory: 4xA100-80GB, 8xH100, 2x24GiB, "
             "1xV100-32GB, T4,T4 (GiB/MiB binary, GB/MB decimal)")


def inventory(gpus: str | None, from_report: str | None
              ) -> tuple[tuple[GpuSpec, ...], tuple[str, ...]]:
    """The GPUs to plan on, and why any GPU found here cannot be planned on."""
    if gpus is not None:
        return parse_gpus(gpus), ()
    snapshot = load_environment(from_report)
    return gpus_from_snapshot(snapshot), unplannable(snapshot)


@click.command("plan")
@model_option(help=MODEL_HELP + " Optional with --from-report: the report's model, dtype and "
                   "saved model facts are planned (no model files needed).")
@click.option("--gpus", default=None, help=GPUS_HELP)
@from_report_option
@dtype_option(DTYPES, help="Precision; auto = the model's native dtype.")
@click.option("--context", type=int, default=DEFAULT_CONTEXT, show_default=True,
              help="Text tokens the KV cache holds (prompt + generated).")
@click.option("--new-tokens", type=int, default=0, show_default=True,
              help="How many of the context tokens are generated (0 = plan for a full prompt).")
@click.option("--batch", type=int, default=1, show_default=True)
@click.option("--images", type=int, default=DEFAULT_IMAGES, show_default=True,
              help="Images per sequence.")
@click.option("--max-pixels", type=int, default=None, help="Pixel budget per image.")
@rules_option
@format_option(("text", "json", "markdown"))
@click.pass_context
def command(ctx: click.Context, model: str | None, gpus: str | None, from_report: str | None,
            dtype: str, context: int, new_tokens: int, batch: int, images: int,
            max_pixels: int | None, rules_dir: str | None, fmt: str) -> None:
    """Plan memory per GPU and a device map.

    Exit 0 fits (or the card gives no size: the plan says so), 1 does not fit (or the
    model is unknown), 2 bad input.
    """
    catalogue = load_knowledge(rules_dir).catalogue
    resolved, dtype = _target(ctx, catalogue, model, from_report, dtype)
    dtype = auto_dtype(resolved.facts, dtype)  # a pre-quantised directory: its precision
    card = resolved.card
    if card is None:
        _cannot_plan(resolved, fmt)
        ctx.exit(1)
        return
    found, excluded = inventory(gpus, from_report)
    request = PlanRequest(
        card=card, gpus=found, excluded=excluded, dtype=resolved_dtype(dtype), context=context,
        batch=batch,
        images=images, max_pixels=max_pixels, new_tokens=new_tokens,
        variants=catalogue.family(card.family),
    )
    plan = make_plan(request)
    code = 1 if plan.sized and not plan.fits else 0
    if not plan.sized:  # an unknown size is not "does not fit": nothing to gate on
        verdict = ("Verdict: NOT SIZED (exit 0: the model's parameter count is unknown, so "
                   "whether it fits is not known)")
    else:
        verdict = (f"Verdict: {'FITS' if plan.fits else 'DOES NOT FIT'} (exit {code}: "
                   + ("the model fits these GPUs)" if plan.fits else
                      "the model does not fit these GPUs)"))
    lines = plan_text_lines(plan)
    if fmt == "json":
        emit(lambda _: dumps(plan.to_dict()), None)
    elif fmt == "markdown":
        fence = md_fence(lines)
        emit(lambda _: _lines([f"## vlmdoctor plan: {plan.model_name}", "", f"**{verdict}**",
                               "", f"{fence}text", *lines, fence]), None)
    else:
        emit(lambda _: _lines([*lines, "", verdict]), None)
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
