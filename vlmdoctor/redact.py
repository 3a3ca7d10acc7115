"""The one redaction every string leaving the machine passes through.

Reports are pasted into public bug trackers. ``redact`` replaces the values of
secret-named environment variables (any variable, not only the allow-listed ones)
with ``***``, masks URL credentials, with or without a scheme (``https://user:pw@host``
and ``user:pw@host`` both become ``***@host``; with a scheme a user name alone is a
token too: ``https://TOKEN@host``), the values of secret-named URL parameters
(``?access_token=…``) and shell assignments (``HF_TOKEN=…``), and tokens whose shape
their issuers publish (``hf_…``, ``ghp_…``, ``github_pat_…``, ``AKIA…``, ``sk-…``…), so
a log pasted from another machine is covered too. It runs in linear time on any text.

Renderers escape text (JSON, visible control characters, Markdown cells, shell quotes):
``Redactor(environ, variants=...)`` also masks each secret in the forms a renderer
gives it, so the redaction can run on the final text (see ``render/final.py``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from typing import Callable

MASK = "***"
MIN_SECRET_LEN = 6  # shorter values ("1", "true") would blank out ordinary words
# Substrings of a variable name that mark a secret (HF_TOKEN, AWS_SECRET_ACCESS_KEY,
# DB_PASSWORD, HF_PASS, HF_PWD, GOOGLE_APPLICATION_CREDENTIALS, HF_CREDS, HF_COOKIE,
# WANDB_API_KEY, HF_AUTH, SSH_PRIVATE_KEY, SESSION_ID, ...).
SECRET_MARKERS = ("TOKEN", "SECRET", "KEY", "PASS", "PWD", "CRED", "COOKIE", "AUTH",
                  "PRIVATE", "SESSION", "SIGNATURE", "BEARER", "JWT")
# Whole '_'-separated words (or their plurals) that mark a secret: HF_GITHUB_PAT, not PATH.
SECRET_WORDS = frozenset({"PAT", "PW", "PIN", "OTP", "SAS", "SIG", "SALT"})
# Names that match a marker but hold no secret (the shell's working directories).
NOT_SECRET = frozenset({"PWD", "OLDPWD"})
# Characters that end the userinfo part of a URL when scanning left from its '@'.
_USERINFO_END = frozenset(" \t\r\n\f\v/\\\"'<>()[]{},;|`@")


def is_secret_name(name: str) -> bool:
    upper = name.upper()
    if upper in NOT_SECRET:
        return False
    if any(marker in upper for marker in SECRET_MARKERS):
        return True
    words = upper.replace("-", "_").split("_")
    return any(w in SECRET_WORDS or w.removesuffix("S") in SECRET_WORDS for w in words)


def secret_values(environ: Mapping[str, str]) -> tuple[str, ...]:
    """Values of secret-named variables, longest first (so a prefix never wins)."""
    found = {value for name, value in environ.items()
             if len(value) >= MIN_SECRET_LEN and is_secret_name(name)}
    return tuple(sorted(found, key=len, reverse=True))


def mask_userinfo(text: str) -> str:
    """``user:pw@host`` -> ``***@host``, with or without ``scheme://`` in front; after a
    scheme a user name alone is a credential too (``https://TOKEN@host``), while a bare
    ``name@host`` (an e-mail address) is kept.

    For each '@', scan left to the nearest delimiter (or the previous '@', so every
    character is scanned at most once); a segment holding ':' is a user:password.
    """
    if "@" not in text:
        return text
    out: list[str] = []
    done = 0  # text[:done] is already in out
    at = text.find("@")
    while at != -1:
        start = at
        while start > done and text[start - 1] not in _USERINFO_END:
            start -= 1
        if ":" in text[start:at] or (start < at and text[max(0, start - 3):start] == "://"):
            out.append(text[done:start])
            out.append(MASK)
            done = at
        at = text.find("@", at + 1)
    out.append(text[done:])
    return "".join(out)


# A secret-named parameter in a URL query (?access_token=..., &X-Amz-Signature=...) or a
# shell-style assignment (HF_TOKEN=..., export WANDB_API_KEY="..."). Each repeat is bounded
# or stops at a character that can start the next match, so the scan is linear.
_PARAM = re.compile(r"([?&;])([A-Za-z0-9_.\-]{1,64})=([^&;?#\s\"'<>]+)")
_ASSIGN = re.compile(r"(?<![A-Za-z0-9_])([A-Z][A-Z0-9_]{1,63})="
                     r"(\"[^\"\n]{1,256}\"|'[^'\n]{1,256}'|[^\s\"'&;]+)")
# Token shapes their issuers document: Hugging Face user access tokens, GitHub tokens
# (classic and fine-grained), AWS access key ids, OpenAI-style and Slack tokens, GitLab PATs.
_TOKEN = re.compile(r"(?<![A-Za-z0-9_])(?:hf_[A-Za-z0-9]{30,}|gh[pousr]_[A-Za-z0-9]{30,}"
                    r"|github_pat_[A-Za-z0-9_]{40,}|AKIA[0-9A-Z]{16}|sk-[A-Za-z0-9_\-]{32,}"
                    r"|xox[abpr]-[A-Za-z0-9\-]{10,}|glpat-[A-Za-z0-9_\-]{20,})")
# Names that look secret but count things (MAX_NEW_TOKENS=512, --tokenizer=...).
_COUNTS = ("TOKENIZER", "TOKENS")


def _secret_param(name: str) -> bool:
    upper = name.upper()
    return is_secret_name(name) and not any(word in upper for word in _COUNTS)


def _mask_param(match: re.Match[str]) -> str:
    lead, name, value = match.groups()
    if not _secret_param(name) or value.isdigit():
        return match.group(0)
    return f"{lead}{name}={MASK}"


def _mask_assign(match: re.Match[str]) -> str:
    name, value = match.groups()
    if not _secret_param(name) or value.strip("\"'").isdigit() or value.strip("\"'") == MASK:
        return match.group(0)
    return f"{name}={MASK}"


def mask_patterns(text: str) -> str:
    """Secret parameters and assignments, and tokens of a published shape, masked."""
    if "=" in text:
        text = _PARAM.sub(_mask_param, text)
        text = _ASSIGN.sub(_mask_assign, text)
    return _TOKEN.sub(MASK, text)


class Redactor:
    """``variants(secret)`` gives the other forms a secret takes in rendered output."""

    def __init__(self, environ: Mapping[str, str],
                 variants: Callable[[str], Iterable[str]] | None = None) -> None:
        found = set(secret_values(environ))
        if variants is not None:
            found |= {form for value in tuple(found) for form in variants(value)
                      if len(form) >= MIN_SECRET_LEN}
        self.secrets = tuple(sorted(found, key=len, reverse=True))

    def __call__(self, text: str) -> str:
        for value in self.secrets:  # first: URL masking must not cut a secret in two
            while value in text:  # each pass shortens the text, so this ends
                text = text.replace(value, MASK)
        return mask_patterns(mask_userinfo(text))


def clip(text: str, limit: int, redact: Callable[[str], str] | None = None) -> str:
    """``text`` cut to ``limit`` characters (`` …`` marks the cut), redacted *before* the cut
    so that no prefix of a secret survives it."""
    text = (redact or Redactor(os.environ))(text)
    return text if len(text) <= limit else text[:limit] + " …"


def redact(text: str, environ: Mapping[str, str] | None = None) -> str:
    """Secret values from ``environ`` (default: this process's) and URL credentials masked."""
    return Redactor(os.environ if environ is None else environ)(text)
