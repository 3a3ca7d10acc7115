"""``vlmdoctor plan``: will the model fit, how to split it, and what would make it fit."""

from __future__ import annotations

import click

from vlmdoctor.cli.options import format_option, from_report_option, rules_option
from vlmdoctor.cli.output import emit
from vlmdoctor.doctor import load_environment
from vlmdoctor.knowledge import load_knowledge
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
@click.option("--model", "-m", required=True, help="Model id, alias or Hugging Face repo id.")
@click.option("--gpus", default=None, help=GPUS_HELP)
@from_report_option
@click.option("--dtype", type=click.Choice(DTYPES), default=None,
              help="Precision (default: the model's native dtype).")
@click.option("--context", type=int, default=DEFAULT_CONTEXT, show_default=True,
              help="Text tokens the KV cache holds (prompt + generated).")
@click.option("--new-tokens", type=int, default=0, show_default=True,
              help="How many of the context tokens are generated (0 = plan for a full prompt).")
@click.option("--batch", type=int, default=1, show_default=True)
@click.option("--images", type=int, default=DEFAULT_IMAGES, show_default=True,
              help="Images per sequence.")
@click.option("--max-pixels", type=int, default=None, help="Pixel budget per image.")
@rules_option
@format_option(("text", "json"))
@click.pass_context
def command(ctx: click.Context, model: str, gpus: str | None, from_report: str | None,
            dtype: str | None, context: int, new_tokens: int, batch: int, images: int,
            max_pixels: int | None, rules_dir: str | None, fmt: str) -> None:
    """Plan memory per GPU and a device map. Exit 0 fits, 1 does not fit, 2 bad input."""
    catalogue = load_knowledge(rules_dir).catalogue
    card = catalogue.resolve(model)
    found, excluded = inventory(gpus, from_report)
    request = PlanRequest(
        card=card, gpus=found, excluded=excluded, dtype=dtype, context=context, batch=batch,
        images=images, max_pixels=max_pixels, new_tokens=new_tokens,
        variants=tuple(c for c in catalogue.cards if c.family == card.family),
    )
    plan = make_plan(request)
    if fmt == "json":
        emit(lambda _: dumps(plan.to_dict()), None)
    else:
        emit(lambda _: [(line, "") for line in plan_text_lines(plan)], None)
    if not plan.fits:
        ctx.exit(1)
