"""The archive key: children are keyed by HMAC-SHA256 of their id.

The key is a secret of at least 16 bytes, read from a key file (``--key-file``)
or else from the environment variable ``PSYSCREEN_ARCHIVE_KEY``; it is never
written to the archive, a log or a bundle. The archive stores only its
fingerprint and refuses a different key. The child key is the same pseudonym
``psyscreen score --pseudonymise id`` writes with the same key
(:class:`psyscreen.batch.privacy.Pseudonymiser`), so results pseudonymised
with the archive key can be added too.

Example:
    >>> k = ArchiveKey(b"0123456789abcdef")
    >>> k.child_key(" S001 ") == k.child_key("S001"), len(k.child_key("S001"))
    (True, 32)
    >>> k
    ArchiveKey(fingerprint=...)
"""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

from ..batch.privacy import Pseudonymiser, load_key

KEY_ENV = "PSYSCREEN_ARCHIVE_KEY"
BUNDLE_KEY_ENV = "PSYSCREEN_BUNDLE_KEY"


class ArchiveKey(Pseudonymiser):
    """A loaded archive key: child keys, signatures and the key's fingerprint."""

    def __repr__(self) -> str:  # never show the key
        return f"ArchiveKey(fingerprint={self.fingerprint})"

    def child_key(self, clear_id: str) -> str:
        """The keyed hash of one id (trimmed), 32 hex digits."""
        return self.pseudonym(str(clear_id))

    def child_keys(self, clear_ids: list[str]) -> list[str]:
        """:meth:`child_key` of many ids (:meth:`Pseudonymiser.pseudonyms`).

        Example:
            >>> k = ArchiveKey(b"0123456789abcdef")
            >>> k.child_keys(["S001", " S002"]) == [k.child_key("S001"), k.child_key("S002")]
            True
        """
        return self.pseudonyms([str(v) for v in clear_ids])

    def sign(self, data: bytes) -> str:
        """HMAC-SHA256 of ``data`` (hex)."""
        return hmac.new(self._key, data, hashlib.sha256).hexdigest()

    def verify(self, data: bytes, signature: str) -> bool:
        """Whether ``signature`` is this key's HMAC of ``data`` (constant time)."""
        return hmac.compare_digest(self.sign(data), signature)


def archive_key(key_file: str | Path | None = None, env: str = KEY_ENV) -> ArchiveKey:
    """The archive key from ``key_file``, else the environment variable ``env``."""
    return ArchiveKey(load_key(key_file, env=env))
