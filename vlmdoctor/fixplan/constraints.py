"""``check --write-constraints FILE``: the plan's requirement set as a pip constraints file
(``pip install -c FILE ...``): it limits versions, installs nothing by itself."""

from __future__ import annotations

from typing import Any, Mapping

from vlmdoctor import __version__


def constraints_text(plan: Mapping[str, Any], model: str | None) -> str:
    requirements = plan.get("requirements") or []
    lines = [f"# pip constraints from vlmdoctor {__version__}"
             + (f" for {model}" if model else "") + ": the fix plan's requirement set.",
             "# Use: pip install -c THIS_FILE <what you install>"]
    if plan.get("index_url"):
        option = "--extra-index-url" if plan.get("extra_index") else "--index-url"
        lines.append(f"# the torch build comes from: {option} {plan['index_url']} "
                     "(give it on the pip command line)")
    free = [r["package"] for r in requirements if not r.get("spec")]
    if free:
        lines.append(f"# any version (nothing to constrain): {', '.join(free)}")
    for conflict in plan.get("conflicts") or []:
        lines.append(f"# left out, conflicting: {conflict.get('why', '')}")
    lines += [f"{r['package']}{r['spec']}" for r in requirements if r.get("spec")]
    return "\n".join(lines) + "\n"
