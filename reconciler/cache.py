"""The cache of read and checked manifests, under the project's ``.boldrules/cache/``.

Owns one fact: a manifest text already read and found sound need not be read again. An entry
holds what ``yamlquick.parse_plain`` made of a text that ``schemacheck.conforms`` passed (plain data
and the positions kept), under a name that is the sha256 of everything the result depends on:
this tool's version, Python's (the entries are ``marshal`` data), the schema's text and the
text itself, after templates are rendered. A template is rendered on every run (its vars and
includes may change); only its output's reading is cached, so no key can miss what changes it.
Other things worked out from one text are kept as parts of it, each its own entry (the
positions of every field, ``positions.POSITIONS``, which only lint reads).

The folder is in the project, where a pull request could commit files. So every entry carries
an HMAC-SHA256 under a secret that lives outside the project (``$XDG_CACHE_HOME/boldrules/``,
else ``~/.cache/boldrules/``, created 0600 on first use), and an entry whose tag does not verify
is ignored before a byte of it is decoded: a committed entry can neither inject objects nor
reach ``marshal``. Without a usable secret, or a folder it may write, there is simply no cache.

It must not parse, validate, print or know the manifest format.
"""

from __future__ import annotations

import hashlib
import hmac
import marshal
import os
import secrets
import sys
from pathlib import Path
from typing import Any

import reconciler

#: Entries kept; past it the least recently used half is removed.
MAX_ENTRIES = 4096
_TAG = 32


def _secret() -> bytes | None:
    """This machine's cache key, made on first use; None when it cannot be had."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    path = Path(base) / "boldrules" / "cache-secret"
    try:
        found = path.read_bytes()
    except FileNotFoundError:
        found = b""
    except OSError:
        return None
    if len(found) == 32:
        return found
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        partial = path.with_name(f".cache-secret.{os.getpid()}")
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(secrets.token_bytes(32))
        partial.replace(path)
        made = path.read_bytes()  # another run may have made it first: use what is there
    except OSError:
        return None
    return made if len(made) == 32 else None


def usable() -> bool:
    """Whether this machine can keep entries (it has, or can make, the cache's secret)."""
    return _secret() is not None


class ReadCache:
    """Checked readings of texts, by content; every failure just means "not cached"."""

    def __init__(self, root: Path, *, salt: str) -> None:
        self.folder = root / ".boldrules" / "cache"
        self._salt = f"{reconciler.__version__}\0{sys.version}\0{salt}\0".encode()
        self._secret = _secret()
        self.hits = 0
        self.misses = 0

    def _name(self, text: str, part: str) -> str:
        digest = hashlib.sha256(self._salt)
        digest.update(f"{len(part)}:{part}\0".encode())
        digest.update(text.encode("utf-8", "surrogatepass"))
        return digest.hexdigest()

    def get(self, text: str, *, part: str = "") -> Any | None:
        """What ``put`` stored for ``text`` (and ``part``), or None."""
        if self._secret is None:
            return None
        name = self._name(text, part)
        path = self.folder / name[:2] / name
        try:
            raw = path.read_bytes()
        except OSError:
            self.misses += 1
            return None
        tag, payload = raw[:_TAG], raw[_TAG:]
        want = hmac.new(self._secret, name.encode() + payload, hashlib.sha256).digest()
        if len(raw) <= _TAG or not hmac.compare_digest(tag, want):
            self.misses += 1
            return None
        try:
            value = marshal.loads(payload)
            os.utime(path)  # recently used: kept when the folder is pruned
        except (ValueError, EOFError, TypeError, OSError):
            self.misses += 1
            return None
        self.hits += 1
        return value

    def put(self, text: str, value: Any, *, part: str = "") -> None:
        """Remember ``value`` (plain data only) for ``text``; silently skipped when it cannot.

        ``part`` names another thing kept about the same text (``positions.POSITIONS``): each
        part of a text is its own entry, read only by whoever asks for it."""
        if self._secret is None:
            return
        name = self._name(text, part)
        path = self.folder / name[:2] / name
        try:
            payload = marshal.dumps(value)
            tag = hmac.new(self._secret, name.encode() + payload, hashlib.sha256).digest()
            if not self.folder.is_dir():
                self.folder.mkdir(parents=True, exist_ok=True)
                (self.folder / ".gitignore").write_text("# boldrules' own cache\n*\n")
            path.parent.mkdir(exist_ok=True)
            partial = path.with_name(f".{name}.{os.getpid()}")
            partial.write_bytes(tag + payload)
            partial.replace(path)  # whole or absent, even with runs side by side
        except (OSError, ValueError):
            return

    def prune(self) -> None:
        """Keep the folder bounded: past ``MAX_ENTRIES``, drop the least recently used half."""
        try:
            entries = [p for p in self.folder.glob("??/*") if not p.name.startswith(".")]
            if len(entries) <= MAX_ENTRIES:
                return
            entries.sort(key=lambda p: p.stat().st_mtime)
            for path in entries[: len(entries) - MAX_ENTRIES // 2]:
                path.unlink(missing_ok=True)
        except OSError:
            return
