"""Keeping secrets and stray file content out of everything boldrules prints.

Owns the one scrubber every printed message goes through (``scrub``): it blanks the value of
every environment variable that may hold a secret, and the start of one where a message cut it
short, so an error about a hostile manifest cannot carry the CI runner's token. Also owns
``excerpt``, the short, escaped quotation of a value that error messages use instead of the
value itself.

A variable holds a secret when its name is ``BOLD_API_TOKEN``, a target's ``token_env``
(``watch`` registers those when the project file is read), or contains TOKEN, SECRET, KEY or
PASSWORD; only values of at least ``MIN_SECRET_LENGTH`` characters are blanked, since blanking
a toy value like ``1`` would blank every digit of a message.

It must not print, log or import anything of reconciler: it sits below every other module.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterable, Mapping

#: What a blanked secret reads as.
MASK = "***"
#: Values shorter than this are never treated as secrets (real tokens are far longer).
MIN_SECRET_LENGTH = 8
#: Longest quotation of a value in an error message, in characters.
EXCERPT_LIMIT = 40
#: Variables always treated as holding a secret, whatever their name.
ALWAYS = ("BOLD_API_TOKEN",)

_SECRET_NAME = re.compile(r"TOKEN|SECRET|KEY|PASSWORD|PASSWD", re.IGNORECASE)
_watched: set[str] = set(ALWAYS)
_lock = threading.Lock()


def watch(names: Iterable[str | None]) -> None:
    """Treat these environment variables as secrets from now on (each target's ``token_env``)."""
    with _lock:
        _watched.update(name for name in names if name)


def is_secret_name(name: str) -> bool:
    """Whether a variable of this name is treated as holding a secret."""
    with _lock:
        watched = name in _watched
    return watched or bool(_SECRET_NAME.search(name))


def secret_values(environ: Mapping[str, str] | None = None) -> list[str]:
    """The values to blank, longest first (so a token containing another is blanked whole)."""
    source = os.environ if environ is None else environ
    values = {
        value.strip()
        for name, value in source.items()
        if is_secret_name(name) and len(value.strip()) >= MIN_SECRET_LENGTH
    }
    return sorted(values, key=lambda value: (-len(value), value))


def scrub(text: str, *, secrets: Iterable[str] | None = None) -> str:
    """``text`` with every secret value, or any cut-off start of one of 8+ characters, blanked.

    The start matters: a message that quotes a value cut to 40 characters may hold only the
    first part of a token, which is still a secret. A start that runs on into other letters or
    digits is a word that happens to begin like the secret, and is left as it is.
    """
    for secret in secret_values() if secrets is None else secrets:
        if len(secret) < MIN_SECRET_LENGTH:
            continue
        text = _blank(text, secret)
    return text


def _blank(text: str, secret: str) -> str:
    head = secret[:MIN_SECRET_LENGTH]
    out: list[str] = []
    start = 0
    while (found := text.find(head, start)) >= 0:
        end = found + MIN_SECRET_LENGTH
        while end < len(text) and end - found < len(secret) and text[end] == secret[end - found]:
            end += 1
        if end - found < len(secret) and end < len(text) and text[end].isalnum():
            # A start of the secret that runs on into other word characters is a coincidence
            # (``sandbox-shop`` beside a token ``sandbox-local-token``), not a cut quotation:
            # a cut ends where the quotation does, at an ellipsis, a quote or a space.
            out.append(text[start:end])
            start = end
            continue
        out.append(text[start:found])
        out.append(MASK)
        start = end
    out.append(text[start:])
    return "".join(out)


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def excerpt(text: str, limit: int = EXCERPT_LIMIT) -> str:
    """At most ``limit`` characters of ``text``, secrets blanked, control characters escaped.

    The result is for quoting inside a message: a newline or a terminal escape sequence in a
    value cannot start a new line of output or recolour a terminal.
    """
    text = scrub(text)
    cut = len(text) > limit
    text = text[:limit]
    text = _CONTROL.sub(lambda match: _escape(match.group()), text)
    return text + "…" if cut else text


def printable(text: str, *, lines: bool = False) -> str:
    """``text`` scrubbed of secrets, with control characters escaped (newlines kept if ``lines``).

    Every message the CLI prints goes through here: a value quoted in an error cannot carry a
    token, start a fake line of output, or send escape sequences to a terminal.
    """
    text = scrub(text)
    if lines:
        return "\n".join(
            _CONTROL.sub(lambda m: _escape(m.group()), part) for part in text.split("\n")
        )
    return _CONTROL.sub(lambda match: _escape(match.group()), text)


def _escape(char: str) -> str:
    named = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
    return named.get(char, f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}")
