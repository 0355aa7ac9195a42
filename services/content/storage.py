"""Uploaded files, stored once by their sha256 in a local folder (CONTENT_STORAGE_DIR)."""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

CHUNK = 1024 * 1024


class TooLarge(Exception):
    """The upload is larger than the configured limit."""


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    size: int
    head: bytes  # the first bytes, for sniffing the real type


class FileStorage:
    def __init__(self, root: str | Path):
        self.root = Path(root)

    def path_for(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def save(self, stream: BinaryIO, max_bytes: int) -> StoredFile:
        """Copy ``stream`` in, hashing as it goes; refuse it past ``max_bytes`` without keeping anything."""
        self.root.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        head = b""
        fd, tmp_name = tempfile.mkstemp(dir=self.root, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as tmp:
                while chunk := stream.read(CHUNK):
                    size += len(chunk)
                    if size > max_bytes:
                        raise TooLarge(f"file exceeds {max_bytes} bytes")
                    if len(head) < 8192:
                        head += chunk[: 8192 - len(head)]
                    digest.update(chunk)
                    tmp.write(chunk)
            sha = digest.hexdigest()
            final = self.path_for(sha)
            final.parent.mkdir(parents=True, exist_ok=True)
            if final.exists():
                os.unlink(tmp_name)  # same bytes already stored: versions share one file
            else:
                os.replace(tmp_name, final)
            return StoredFile(sha256=sha, size=size, head=head)
        except BaseException:
            if os.path.exists(tmp_name):
                os.unlink(tmp_name)
            raise
