"""Parse errors raised by the ingest parsers.

``IngestError`` carries a stable ``code`` and, where it helps the caller fix the input, the
1-based ``line`` or the MIME ``part`` that failed. The service renders it as a 422/415
problem; the CLI prints it as the error object of that input line.
"""

from __future__ import annotations

from typing import Literal

__all__ = ["IngestErrorCode", "IngestError"]

IngestErrorCode = Literal[
    "unparseable-content",
    "empty-content",
    "unsupported-charset",
    "unsupported-format",
]


class IngestError(ValueError):
    """The content does not parse as its declared format."""

    def __init__(
        self,
        detail: str,
        *,
        code: IngestErrorCode = "unparseable-content",
        line: int | None = None,
        part: str | None = None,
    ) -> None:
        where = f"line {line}: " if line is not None else (f"part {part}: " if part else "")
        super().__init__(where + detail)
        self.detail = where + detail
        self.code: IngestErrorCode = code
        self.line = line
        self.part = part
