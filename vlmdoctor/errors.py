"""Exit codes (the public contract) and the exceptions that map onto them."""

from __future__ import annotations

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3
EXIT_INTERRUPTED = 130


class VlmdoctorError(Exception):
    """Base class for errors vlmdoctor reports to the user on one line."""

    exit_code = EXIT_INTERNAL


class InputError(VlmdoctorError):
    """Bad input from the user: an option, a file, a model name, a rule file (exit 2)."""

    exit_code = EXIT_USAGE


class RuleError(InputError):
    """A rule or model-card file is malformed. The message carries the breadcrumb path."""

    def __init__(self, file: str, path: str, problem: str) -> None:
        self.file = file
        self.path = path
        self.problem = problem
        where = f"{file}: {path}: " if path else f"{file}: "
        super().__init__(f"{where}{problem}")
