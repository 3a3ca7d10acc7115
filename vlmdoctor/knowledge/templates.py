"""``{fact.name}`` placeholders in rule text: found and checked at load.

Not a templating engine: a placeholder is a fact name (or ``item.key`` inside a
``for_each`` rule) and nothing else. ``vlmdoctor.evaluate.templates`` fills them.
"""

from __future__ import annotations

import re
from typing import Callable

from vlmdoctor.knowledge.schema import SchemaError

PLACEHOLDER = re.compile(r"\{([A-Za-z0-9_.*\-]+)\}")


def placeholders(text: str) -> list[str]:
    return PLACEHOLDER.findall(text)


def check_template(text: str, path: str, known: Callable[[str], str | None]) -> None:
    for name in placeholders(text):
        problem = known(name)
        if problem:
            raise SchemaError(path, problem)
