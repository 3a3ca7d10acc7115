"""The one redaction every string leaving the machine passes through.

Reports are pasted into public bug trackers. ``redact`` replaces the values of
secret-named environment variables (any variable, not only the allow-listed ones)
with ``***`` and masks URL credentials, with or without a scheme
(``https://user:pw@host`` and ``user:pw@host`` both become ``***@host``). It runs in
linear time on any text.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

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
    """``user:pw@host`` -> ``***@host``, with or without ``scheme://`` in front.

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
        if ":" in text[start:at]:
            out.append(text[done:start])
            out.append(MASK)
            done = at
        at = text.find("@", at + 1)
    out.append(text[done:])
    return "".join(out)


class Redactor:
    def __init__(self, environ: Mapping[str, str]) -> None:
        self.secrets = secret_values(environ)

    def __call__(self, text: str) -> str:
        text = mask_userinfo(text)
        for value in self.secrets:
            while value in text:  # each pass shortens the text, so this ends
                text = text.replace(value, MASK)
        return text


def redact(text: str, environ: Mapping[str, str] | None = None) -> str:
    """Secret values from ``environ`` (default: this process's) and URL credentials masked."""
    return Redactor(os.environ if environ is None else environ)(text)
