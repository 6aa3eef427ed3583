"""Writing a file so that a crash, a kill or a full disk leaves either its old content or its new
content whole, never a truncated file."""

import os
import re
import uuid
from pathlib import Path


def safe_file_name(text: str) -> str:
    """text with every run of characters other than letters, digits, '_', '.' and '-' made one '_'."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)


def write_bytes_atomically(path: str | os.PathLike, data: bytes) -> None:
    """Write data to path through a temporary file beside it, then rename it over path.

    An OSError names the file and its folder: a full disk's own error names neither.
    """
    path = Path(path)
    temporary_path = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(temporary_path, "xb") as temporary_file:
            temporary_file.write(data)
            temporary_file.flush()
            # Without it a power cut after the rename can leave path empty on ext4 and XFS.
            os.fsync(temporary_file.fileno())
        os.replace(temporary_path, path)
    except OSError as error:
        _remove(temporary_path)
        failure = OSError(f"cannot write {path.name} in {path.parent}: {error.strerror or error}")
        failure.errno = error.errno
        raise failure from error
    except BaseException:
        _remove(temporary_path)
        raise


def _remove(temporary_path: Path):
    """Remove a temporary file if it is there; a folder that cannot be read leaves nothing to remove."""
    try:
        temporary_path.unlink(missing_ok=True)
    except OSError:
        pass


def write_text_atomically(path: str | os.PathLike, text: str) -> None:
    """Write text as UTF-8, newlines as given, through write_bytes_atomically."""
    write_bytes_atomically(path, text.encode("utf-8"))
