"""Files only the service account may read (exports, credentials, licensed text)."""

import os
from pathlib import Path


def write_private(path: Path, text: str) -> Path:
    """Writes ``text`` (UTF-8, newlines as given) to ``path`` with mode 0600.

    The text goes to ``<name>.tmp`` first and replaces ``path`` in one step: a reader
    never sees half a file, and an existing file's wider mode is not kept.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)
    os.chmod(tmp, 0o600)  # a leftover .tmp keeps its old mode through O_TRUNC
    os.replace(tmp, path)
    return path
