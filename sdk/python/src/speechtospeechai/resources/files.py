"""`client.files`: `POST /v1/files`, `GET /v1/files[/{id}]`, `GET /v1/files/{id}/content`, `DELETE /v1/files/{id}`."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from .._base_client import (
    AsyncAPIResource,
    RequestOptions,
    SyncAPIResource,
    Timeout,
    make_options,
    parse_model,
    path_param,
)
from .._files import FileTypes, prepare_file
from ..types import FileDeleted, FileList, FileObject, FilePurpose

__all__ = ["AsyncFiles", "Files"]


def _create_options(
    file: FileTypes, purpose: FilePurpose, extra_headers: Mapping[str, str] | None, timeout: Timeout
) -> RequestOptions:
    return make_options(
        "POST",
        "files",
        data={"purpose": purpose},
        files=[("file", prepare_file(file))],
        extra_headers=extra_headers,
        timeout=timeout,
    )


class Files(SyncAPIResource):
    """Files in the server's object store: batch inputs (`purpose="batch"`), audio to use by `file_id`
    (`purpose="audio"`), and the outputs of batches. They expire (`expires_at`)."""

    def create(
        self,
        *,
        file: FileTypes,
        purpose: FilePurpose,
        extra_headers: Mapping[str, str] | None = None,
        timeout: Timeout = None,
    ) -> FileObject:
        """Upload a file (a path, bytes, a binary file object or a `(filename, content)` tuple)."""
        return parse_model(self._client.request(_create_options(file, purpose, extra_headers, timeout)), FileObject)

    def list(
        self, *, limit: int | None = None, after: str | None = None, extra_headers: Mapping[str, str] | None = None
    ) -> FileList:
        """A page of the account's files, newest first (`after=page.last_id` for the next)."""
        options = make_options("GET", "files", params={"limit": limit, "after": after}, extra_headers=extra_headers)
        return parse_model(self._client.request(options), FileList)

    def retrieve(self, file_id: str, *, extra_headers: Mapping[str, str] | None = None) -> FileObject:
        options = make_options("GET", f"files/{path_param(file_id)}", extra_headers=extra_headers)
        return parse_model(self._client.request(options), FileObject)

    def content(
        self, file_id: str, *, extra_headers: Mapping[str, str] | None = None, timeout: Timeout = None
    ) -> bytes:
        """The file's bytes (a batch's output file: JSONL, one line per item)."""
        options = make_options(
            "GET", f"files/{path_param(file_id)}/content", extra_headers=extra_headers, timeout=timeout
        )
        return self._client.request(options).content

    def download(self, file_id: str, path: str | Path) -> Path:
        """Save the file's bytes at `path`; returns it."""
        target = Path(path)
        target.write_bytes(self.content(file_id))
        return target

    def delete(self, file_id: str, *, extra_headers: Mapping[str, str] | None = None) -> FileDeleted:
        options = make_options("DELETE", f"files/{path_param(file_id)}", extra_headers=extra_headers)
        return parse_model(self._client.request(options), FileDeleted)


class AsyncFiles(AsyncAPIResource):
    """The async twin of `Files`."""

    async def create(
        self,
        *,
        file: FileTypes,
        purpose: FilePurpose,
        extra_headers: Mapping[str, str] | None = None,
        timeout: Timeout = None,
    ) -> FileObject:
        options = _create_options(file, purpose, extra_headers, timeout)
        return parse_model(await self._client.request(options), FileObject)

    async def list(
        self, *, limit: int | None = None, after: str | None = None, extra_headers: Mapping[str, str] | None = None
    ) -> FileList:
        options = make_options("GET", "files", params={"limit": limit, "after": after}, extra_headers=extra_headers)
        return parse_model(await self._client.request(options), FileList)

    async def retrieve(self, file_id: str, *, extra_headers: Mapping[str, str] | None = None) -> FileObject:
        options = make_options("GET", f"files/{path_param(file_id)}", extra_headers=extra_headers)
        return parse_model(await self._client.request(options), FileObject)

    async def content(
        self, file_id: str, *, extra_headers: Mapping[str, str] | None = None, timeout: Timeout = None
    ) -> bytes:
        options = make_options(
            "GET", f"files/{path_param(file_id)}/content", extra_headers=extra_headers, timeout=timeout
        )
        return (await self._client.request(options)).content

    async def download(self, file_id: str, path: str | Path) -> Path:
        target = Path(path)
        target.write_bytes(await self.content(file_id))
        return target

    async def delete(self, file_id: str, *, extra_headers: Mapping[str, str] | None = None) -> FileDeleted:
        options = make_options("DELETE", f"files/{path_param(file_id)}", extra_headers=extra_headers)
        return parse_model(await self._client.request(options), FileDeleted)
