"""On-disk cache of built exports, keyed by data version and request parameters.

An export is a pure function of the atlas, the experiments (whose state the store's
``data_version`` counts), the parameters and the day (the date is printed on maps and
sheets). File names start with ``v<data_version>-<day>-``; writing a file of a newer
version or day deletes the others, so a new experiment invalidates every cached export
and the folder never keeps more than the current generation.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path


class ExportCache:
    """Exports cached under ``root``; ``root=None`` disables caching (always build)."""

    def __init__(self, root: str | Path | None):
        self.root = Path(root) if root else None

    @staticmethod
    def _prefix(version: int, day: str) -> str:
        return f"v{int(version)}-{day}-"

    @classmethod
    def name(cls, *, parts: dict, version: int, day: str, suffix: str) -> str:
        """The file name of one export (also the key of its background job)."""
        digest = hashlib.sha256(
            json.dumps(parts, sort_keys=True, default=str).encode("utf-8")
        ).hexdigest()[:32]
        return f"{cls._prefix(version, day)}{digest}.{suffix}"

    def path(self, parts: dict, *, version: int, day: str, suffix: str) -> Path | None:
        """Where the export described by ``parts`` lives (``None`` when disabled)."""
        if self.root is None:
            return None
        return self.root / self.name(parts=parts, version=version, day=day, suffix=suffix)

    def get(self, parts: dict, *, version: int, day: str, suffix: str) -> bytes | None:
        """The cached bytes for ``parts``, or ``None`` (disabled, not built, unreadable)."""
        path = self.path(parts, version=version, day=day, suffix=suffix)
        try:
            return path.read_bytes() if path is not None else None
        except OSError:
            return None

    def put(self, data: bytes, parts: dict, *, version: int, day: str, suffix: str) -> None:
        """Keep ``data`` for ``parts`` (nothing when disabled)."""
        path = self.path(parts, version=version, day=day, suffix=suffix)
        if path is not None:
            self._store(path, data, self._prefix(version, day))

    def _store(self, path: Path, data: bytes, prefix: str) -> None:
        """Write atomically (temp file + rename: readers never see half a file), then
        drop other generations. A cache that cannot be written is skipped, not fatal."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)
        except OSError:
            return
        for old in path.parent.glob("v*-*"):
            if not old.name.startswith(prefix):
                old.unlink(missing_ok=True)
