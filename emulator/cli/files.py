"""The files a command writes on request (reports, pages): checked before the work, then written."""

from __future__ import annotations

from pathlib import Path

from emulator.core.errors import UsageError


def check_writable(path: str | None, flag: str) -> None:
    """Refuse a path that cannot be written, before anything is sent; a new file is not left."""
    if not path:
        return
    target = Path(path)
    existed = target.exists()
    try:
        with open(target, "a", encoding="utf-8"):
            pass
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise UsageError(
            f"{flag} {path}: cannot write this file ({reason}); pass a path in an existing, "
            "writable directory"
        ) from None
    if not existed:
        target.unlink(missing_ok=True)


def write(path: str, data: str | bytes, flag: str) -> None:
    """Write ``data`` (text as UTF-8) to ``path``; a failure is the option's usage error."""
    try:
        Path(path).write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    except OSError as exc:
        raise UsageError(
            f"{flag} {path}: cannot write the report ({exc.strerror or exc})"
        ) from None
