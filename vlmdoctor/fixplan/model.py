"""The fix plan as data: what `check` merges from every finding's fix, and what it breaks."""

from __future__ import annotations

from typing import Any, Mapping

from vlmdoctor.record import field, record


@record
class Step:
    kind: str  # commands.ENVIRONMENT, UNINSTALL, INSTALL (the merged line), PIP_OTHER, STEP, NOTE
    command: str
    sources: tuple[str, ...] = ()  # ids of the findings that asked for it

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "command": self.command, "from": list(self.sources)}


@record
class Requirement:
    package: str
    spec: str  # merged specifier; "" = any version
    sources: tuple[str, ...]
    installed: str | None

    @property
    def text(self) -> str:
        return f"{self.package}{self.spec}"

    def to_dict(self) -> dict[str, Any]:
        return {"package": self.package, "spec": self.spec, "from": list(self.sources),
                "installed": self.installed}


@record
class Conflict:
    package: str  # a package, or "--index-url" when fixes want different indexes
    wants: tuple[tuple[str, str], ...]  # (finding id, specifier or index URL)
    why: str

    def to_dict(self) -> dict[str, Any]:
        return {"package": self.package, "why": self.why,
                "wants": [{"from": who, "spec": spec} for who, spec in self.wants]}


@record
class Alternative:
    kind: str  # change-too (one per broken package), separate-environment
    summary: str
    commands: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "summary": self.summary, "commands": list(self.commands)}


@record
class Breakage:
    requirer: str  # the installed distribution the plan breaks
    version: str
    requires: str  # its Requires-Dist entry, as written
    package: str  # what the plan changes
    change: str  # the plan's specifier for it, or "removed"
    why: str

    def to_dict(self) -> dict[str, Any]:
        return {"package": self.requirer, "version": self.version, "requires": self.requires,
                "changes": self.package, "to": self.change, "why": self.why}


@record
class IndexProblem:
    package: str
    version: str | None  # the release pip would pick under the plan (None: none indexed)
    why: str

    def to_dict(self) -> dict[str, Any]:
        return {"package": self.package, "version": self.version, "why": self.why}


@record
class FixPlan:
    steps: tuple[Step, ...] = ()
    requirements: tuple[Requirement, ...] = ()
    removes: tuple[str, ...] = ()  # uninstalled and not installed again
    index_url: str | None = None
    extra_index: bool = False  # index_url is an --extra-index-url (PyPI stays in use)
    conflicts: tuple[Conflict, ...] = ()
    breaks: tuple[Breakage, ...] = ()
    index_problems: tuple[IndexProblem, ...] = ()
    alternatives: tuple[Alternative, ...] = ()  # to the breaks: change them too, or a venv
    resolve: Mapping[str, Any] | None = field(default=None)

    @property
    def pip_install(self) -> str | None:
        """The one merged ``pip install`` line (None: the plan changes no requirement)."""
        if not self.requirements:
            return None
        return install_line([r.text for r in self.requirements], self.index_url,
                            self.extra_index)

    def to_dict(self) -> dict[str, Any]:
        return {
            "steps": [s.to_dict() for s in self.steps],
            "pip_install": self.pip_install,
            "requirements": [r.to_dict() for r in self.requirements],
            "removes": list(self.removes),
            "index_url": self.index_url,
            "extra_index": self.extra_index,
            "conflicts": [c.to_dict() for c in self.conflicts],
            "breaks": [b.to_dict() for b in self.breaks],
            "index_problems": [p.to_dict() for p in self.index_problems],
            "alternatives": [a.to_dict() for a in self.alternatives],
            "resolve": None if self.resolve is None else dict(self.resolve),
        }


def quoted(requirement: str) -> str:
    return f"'{requirement}'" if any(c in requirement for c in "<>=!~,*") else requirement


def install_line(requirements: list[str], index_url: str | None, extra: bool) -> str:
    line = "pip install " + " ".join(quoted(r) for r in requirements)
    if index_url:
        import shlex

        line += f" {'--extra-index-url' if extra else '--index-url'} {shlex.quote(index_url)}"
    return line
