"""Files: `POST /v1/files` (purpose `batch` for batch input, `audio` for audio to transcribe or clone from by
`file_id`), list, retrieve, download and delete. Stored in the object store per account; they expire."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Annotated, Literal

import anyio
from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi.responses import StreamingResponse
from sqlalchemy import select

from api.deps import AccountDep, SessionDep, StateDep
from api.errors import FileTooLarge, InvalidAudio, InvalidRequest, NotFound
from api.pages import page
from shared import audio
from shared.db.models import Account, StoredFile, new_file_id, utcnow
from shared.schemas import ErrorResponse, FileDeleted, FileList, FilePublic

router = APIRouter(prefix="/v1/files", tags=["files"])

Purpose = Literal["batch", "audio"]


def unix(moment: datetime | None) -> int | None:
    return int(moment.timestamp()) if moment is not None else None


def file_public(row: StoredFile) -> FilePublic:
    return FilePublic(
        id=row.id,
        bytes=row.bytes,
        created_at=int(row.created_at.timestamp()),
        filename=row.filename,
        purpose=row.purpose,  # type: ignore[arg-type]
        expires_at=unix(row.expires_at),
        audio_seconds=row.audio_seconds,
    )


def file_key(account_id: str, file_id: str) -> str:
    return f"files/{account_id}/{file_id}"


async def own_file(session: SessionDep, account: Account, file_id: str) -> StoredFile:
    row = (
        await session.execute(select(StoredFile).where(StoredFile.id == file_id, StoredFile.account_id == account.id))
    ).scalar_one_or_none()
    if row is None:
        raise NotFound(f"File '{file_id}' does not exist.", param="file_id")
    return row


@router.post(
    "",
    operation_id="files-create",
    summary="Upload a file (batch input, or audio to use by file_id)",
    response_model=FilePublic,
    responses={404: {"model": ErrorResponse}},
)
async def create_file(
    account: AccountDep,
    session: SessionDep,
    state: StateDep,
    file: Annotated[UploadFile, File(description="The file: JSONL batch input, or any audio FFmpeg reads.")],
    purpose: Annotated[Purpose, Form(description="`batch` (JSONL for POST /v1/batches) or `audio`.")],
) -> FilePublic:
    settings = state.settings
    size = file.size if file.size is not None else 0
    if size > settings.files.max_bytes:
        raise FileTooLarge(f"Files are limited to {settings.files.max_bytes // (1 << 20)} MiB.", param="file")
    if size == 0:
        raise InvalidRequest("The file is empty.", param="file")
    row = StoredFile(
        id=new_file_id(), account_id=account.id, purpose=purpose, filename=(file.filename or "upload")[:255]
    )
    row.object_key = file_key(account.id, row.id)
    if purpose == "audio":
        try:
            info = await anyio.to_thread.run_sync(audio.probe, file.file)
        except audio.AudioDecodeError as exc:
            raise InvalidAudio(f"The file is not usable audio: {exc}.", param="file") from exc
        row.audio_seconds, row.channels = info.duration, info.channels

    def store() -> str:
        digest = hashlib.sha256()
        file.file.seek(0)
        while block := file.file.read(1 << 20):
            digest.update(block)
        file.file.seek(0)
        state.store.put_file(row.object_key, file.file)
        return digest.hexdigest()

    row.sha256 = await anyio.to_thread.run_sync(store)
    row.bytes = size
    row.created_at = utcnow()
    row.expires_at = row.created_at + timedelta(days=settings.files.retention_days)
    session.add(row)
    await session.commit()
    return file_public(row)


@router.get("", operation_id="files-list", summary="List files, newest first", response_model=FileList)
async def list_files(
    account: AccountDep,
    session: SessionDep,
    purpose: Annotated[Literal["batch", "audio", "batch_output"] | None, Query(description="Only these.")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    after: Annotated[str | None, Query(max_length=64, description="The last file id of the previous page.")] = None,
) -> FileList:
    stmt = select(StoredFile).where(StoredFile.account_id == account.id)
    if purpose:
        stmt = stmt.where(StoredFile.purpose == purpose)
    rows, has_more = await page(session, stmt, StoredFile, limit=limit, after=after)
    data = [file_public(r) for r in rows]
    return FileList(
        data=data, has_more=has_more, first_id=data[0].id if data else None, last_id=data[-1].id if data else None
    )


@router.get(
    "/{file_id}",
    operation_id="files-retrieve",
    summary="Get a file's metadata",
    response_model=FilePublic,
    responses={404: {"model": ErrorResponse}},
)
async def get_file(file_id: str, account: AccountDep, session: SessionDep) -> FilePublic:
    return file_public(await own_file(session, account, file_id))


@router.get(
    "/{file_id}/content",
    operation_id="files-content",
    summary="Download a file",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/octet-stream": {}}}, 404: {"model": ErrorResponse}},
)
async def get_file_content(
    file_id: str, account: AccountDep, session: SessionDep, state: StateDep
) -> StreamingResponse:
    row = await own_file(session, account, file_id)
    media = "application/jsonl" if row.purpose in ("batch", "batch_output") else "application/octet-stream"
    return StreamingResponse(state.store.iter_chunks(row.object_key), media_type=media)


@router.delete(
    "/{file_id}",
    operation_id="files-delete",
    summary="Delete a file",
    response_model=FileDeleted,
    responses={404: {"model": ErrorResponse}},
)
async def delete_file(file_id: str, account: AccountDep, session: SessionDep, state: StateDep) -> FileDeleted:
    row = await own_file(session, account, file_id)
    await anyio.to_thread.run_sync(state.store.delete, row.object_key)
    await session.delete(row)
    await session.commit()
    return FileDeleted(id=file_id)
