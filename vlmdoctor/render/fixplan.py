"""The fix plan section (text and Markdown), read from its JSON form: render owns no plan logic."""

from __future__ import annotations

from typing import Any, Mapping

from vlmdoctor.render.safe import md_fence, printable

Line = tuple[str, str]


def _command(step: Mapping[str, Any]) -> str:
    text = printable(str(step.get("command", "")))
    return f"# {text}" if step.get("kind") == "note" else text


def has_content(plan: Mapping[str, Any]) -> bool:
    return bool(plan.get("steps") or plan.get("conflicts") or plan.get("resolve"))


def fix_plan_lines(plan: Mapping[str, Any]) -> list[Line]:
    if not has_content(plan):
        return []
    lines: list[Line] = [("", ""), ("Fix plan (every fix above merged, in the order to run):",
                                    "bold")]
    for n, step in enumerate(plan.get("steps") or [], 1):
        sources = ", ".join(printable(str(s)) for s in step.get("from") or [])
        lines.append((f"  {n}. {'' if step.get('kind') == 'note' else '$ '}{_command(step)}"
                      + (f"   [{sources}]" if sources else ""), ""))
    for conflict in plan.get("conflicts") or []:
        lines.append((f"  ! conflict: {printable(str(conflict.get('why', '')))}", "bold yellow"))
    for problem in plan.get("index_problems") or []:
        lines.append((f"  ! {printable(str(problem.get('why', '')))}", "bold yellow"))
    breaks = plan.get("breaks") or []
    if breaks:
        lines.append(("  It breaks installed packages:", "bold red"))
        lines += [(f"    x {printable(str(b.get('why', '')))}", "bold red") for b in breaks]
    alternatives = plan.get("alternatives") or []
    if alternatives:
        lines.append(("  Instead, either:", "bold"))
        for alt in alternatives:
            lines.append((f"    - {printable(str(alt.get('summary', '')))}:", ""))
            lines += [(f"        $ {printable(str(c))}", "") for c in alt.get("commands") or []]
    resolved = plan.get("resolve")
    if resolved:
        lines += resolve_lines(resolved)
    return lines


def resolve_lines(resolved: Mapping[str, Any]) -> list[Line]:
    status = printable(str(resolved.get("status", "")))
    message = str(resolved.get("message") or "").splitlines()
    if status == "solvable":
        lines: list[Line] = [(f"  pip's resolver: {status}: {printable(' '.join(message))}",
                              "green")]
    else:
        lines = [(f"  pip's resolver: {status}:", "bold yellow")]
        lines += [(f"      {printable(m)}", "") for m in message]
    installs = resolved.get("would_install") or []
    if installs:
        listed = ", ".join(f"{printable(str(i.get('name')))} {printable(str(i.get('version')))}"
                           for i in installs)
        lines.append((f"    pip would install: {listed}", ""))
    return lines


def fix_plan_markdown(plan: Mapping[str, Any]) -> list[str]:
    if not has_content(plan):
        return []
    steps = [_command(s) for s in plan.get("steps") or []]
    out = ["", "### Fix plan", "", "Every fix above, merged, in the order to run:"]
    if steps:
        fence = md_fence(steps)
        out += ["", f"{fence}sh", *steps, fence]
    for conflict in plan.get("conflicts") or []:
        out += ["", f"- **Conflict:** {printable(str(conflict.get('why', '')))}"]
    for problem in plan.get("index_problems") or []:
        out += ["", f"- **Index:** {printable(str(problem.get('why', '')))}"]
    for b in plan.get("breaks") or []:
        out += ["", f"- **Breaks:** {printable(str(b.get('why', '')))}"]
    for alt in plan.get("alternatives") or []:
        commands = [printable(str(c)) for c in alt.get("commands") or []]
        out += ["", f"- **Alternative:** {printable(str(alt.get('summary', '')))}"]
        if commands:
            fence = md_fence(commands)
            out += ["", f"  {fence}sh", *(f"  {c}" for c in commands), f"  {fence}"]
    resolved = plan.get("resolve")
    if resolved:
        out += ["", f"- **pip's resolver:** {printable(str(resolved.get('status', '')))}"]
        message = str(resolved.get("message") or "")
        if message:
            fence = md_fence(message.splitlines())
            out += ["", f"  {fence}", *(f"  {printable(m)}" for m in message.splitlines()),
                    f"  {fence}"]
    return out
