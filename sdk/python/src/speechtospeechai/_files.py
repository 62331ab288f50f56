"""Upload inputs: a path, bytes, a binary file object, or a `(filename, content[, content_type])` tuple.

Files are prepared once per call and opened once per attempt, so a retried upload sends the whole file again.
"""

from __future__ import annotations

import base64
import io
import mimetypes
import os
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import IO

__all__ = ["FileContent", "FileTypes", "PreparedFile", "data_url", "prepare_file", "prepare_files"]

FileContent = str | os.PathLike[str] | bytes | IO[bytes]
FileTypes = FileContent | tuple[str | None, FileContent] | tuple[str | None, FileContent, str | None]

_DEFAULT_FILENAME = "upload"


@dataclass(frozen=True)
class PreparedFile:
    """One file of a multipart request: a path (opened per attempt), bytes, or a seekable binary stream."""

    filename: str
    source: Path | bytes | IO[bytes]
    content_type: str | None = None

    def open(self, stack: ExitStack) -> tuple[str, bytes | IO[bytes]] | tuple[str, bytes | IO[bytes], str]:
        """The httpx file tuple for one attempt; a path's file is closed when `stack` closes."""
        if isinstance(self.source, Path):
            content: bytes | IO[bytes] = stack.enter_context(self.source.open("rb"))
        else:
            content = self.source  # httpx seeks streams back to 0 before each send
        if self.content_type:
            return (self.filename, content, self.content_type)
        return (self.filename, content)


def _prepare_content(content: FileContent, filename: str | None) -> tuple[str, Path | bytes | IO[bytes]]:
    if isinstance(content, (str, os.PathLike)):
        path = Path(content)
        if not path.is_file():
            raise FileNotFoundError(f"No such file: '{path}'")
        return filename or path.name, path
    if isinstance(content, (bytes, bytearray, memoryview)):
        return filename or _DEFAULT_FILENAME, bytes(content)
    if isinstance(content, io.TextIOBase):
        raise TypeError("Open the file in binary mode ('rb'); text-mode files cannot be uploaded.")
    if not hasattr(content, "read"):
        raise TypeError(f"Expected a path, bytes or a binary file object, got {type(content).__name__}.")
    name = getattr(content, "name", None)
    filename = filename or (os.path.basename(name) if isinstance(name, str) and name else _DEFAULT_FILENAME)
    seekable = getattr(content, "seekable", None)
    if callable(seekable) and seekable():
        return filename, content
    # a pipe or socket cannot be rewound for a retry: keep its bytes
    return filename, content.read()


def prepare_file(value: FileTypes) -> PreparedFile:
    if isinstance(value, tuple):
        if len(value) not in (2, 3):
            raise TypeError("A file tuple is (filename, content) or (filename, content, content_type).")
        filename, source = _prepare_content(value[1], value[0])
        content_type = value[2] if len(value) == 3 else None
        return PreparedFile(filename, source, content_type)
    filename, source = _prepare_content(value, None)
    return PreparedFile(filename, source)


def prepare_files(values: Sequence[FileTypes]) -> list[PreparedFile]:
    return [prepare_file(v) for v in values]


def data_url(value: FileTypes) -> str:
    """A file as a base64 `data:` URL (how OpenAI's known_speaker_references[] carry audio in a form field)."""
    prepared = prepare_file(value)
    source = prepared.source
    if isinstance(source, Path):
        content = source.read_bytes()
    elif isinstance(source, bytes):
        content = source
    else:
        source.seek(0)
        content = source.read()
    kind = prepared.content_type or mimetypes.guess_type(prepared.filename)[0] or "application/octet-stream"
    return f"data:{kind};base64,{base64.b64encode(content).decode('ascii')}"
