"""`Idempotency-Key` on POST: the same key and request within 24 h get the original response, and do nothing more.

A dependency claims the key before the route runs: one row per (account, key), so the database's unique
constraint picks one winner among concurrent duplicates. The winner runs the route; the middleware below stores
its successful response on the row (JSON bodies verbatim; audio is re-read from the job's stored output on
replay), or releases the key when the request failed, so a retry can run again. A duplicate that arrives while the
winner runs waits a moment (IN_FLIGHT_WAIT_SECONDS) for its response, then answers at once: 202 with the winner's
job when it has one (poll it), else 409 `request_in_progress` with Retry-After. A key reused for a different
request is a 409 `conflict`.

The request fingerprint covers the method, path, query and body. JSON bodies are compared parsed (key order and
whitespace do not matter); multipart forms by their fields and each file's sha256, not by their raw bytes, because
a client building the same upload twice picks a new random multipart boundary each time.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from dataclasses import dataclass
from datetime import UTC, timedelta
from typing import Annotated, Any, NoReturn

import anyio
from fastapi import Depends, Header, Request, Response
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from starlette.datastructures import UploadFile
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.deps import AccountDep, AdminDep, AppState, SessionDep, StateDep
from api.dispatch import IDEMPOTENCY_INFO_KEY, accepted, load_job
from api.errors import APIError, Conflict, InvalidRequest
from shared.db.models import IdempotencyKey, utcnow
from shared.errors import ErrorCode

log = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
TTL = timedelta(hours=24)
MAX_KEY_LENGTH = 255
POLL_SECONDS = 0.2
IN_FLIGHT_WAIT_SECONDS = 2.0  # how long a duplicate waits for the original's response before answering itself
ABANDONED_AFTER = timedelta(minutes=2)  # an in-flight claim that never created its job: its server died
PURGE_EVERY_SECONDS = 3600.0
MAX_STORED_BODY = 16 * 1024 * 1024
STATE_KEY = "idempotency_claim"  # request.state: the id of the row this request claimed
SECRET_KEY = "idempotency_secret_fields"  # request.state: response fields never stored (secrets shown once)
REDACTED_HEADER = "x-s2s-redacted"  # on a stored response: the fields that were removed before storing
REPLAYED_RESPONSE_HEADERS = ("location", "x-job-id")
IN_PROGRESS, COMPLETED = "in_progress", "completed"

_last_purge = 0.0


def keep_secret(request: Request, *fields: str) -> None:
    """This route's response carries secrets in `fields` (a new API key): they are removed before the response is
    stored for Idempotency-Key replays, and a replay answers 409 saying what the original created instead."""
    setattr(request.state, SECRET_KEY, fields)


def redact(body: bytes, fields: tuple[str, ...]) -> bytes:
    """The JSON body without the secret fields (their values nulled)."""
    try:
        data = json.loads(body)
    except ValueError:
        return b""
    if isinstance(data, dict):
        for name in fields:
            if name in data:
                data[name] = None
    return json.dumps(data).encode()


def _secret_conflict(stored: Stored) -> Conflict:
    try:
        data = json.loads(stored.body or b"{}")
    except ValueError:
        data = {}
    what = ""
    if isinstance(data, dict) and data.get("prefix"):
        what = f" (key s2s-{data['prefix']}-…, id {data.get('id')})"
    return Conflict(
        f"The request with this {HEADER} already succeeded{what}, and its response carried a secret that is shown "
        "only once and never stored, so it cannot be replayed. If that response was lost, revoke what it created "
        "and send the request again with a new key.",
        param=HEADER,
    )


class IdempotentReplay(Exception):
    """Raised by the guard to answer with a stored response instead of running the route."""

    def __init__(self, response: Response) -> None:
        super().__init__("idempotent replay")
        self.response = response


async def replay_handler(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, IdempotentReplay)
    return exc.response


@dataclass(frozen=True)
class Stored:
    id: int
    request_hash: str
    state: str
    job_id: str | None
    status_code: int | None
    content_type: str | None
    headers: dict[str, Any]
    body: bytes | None
    created_at: Any

    @classmethod
    def of(cls, row: IdempotencyKey) -> Stored:
        return cls(
            row.id,
            row.request_hash,
            row.state,
            row.job_id,
            row.status_code,
            row.content_type,
            dict(row.response_headers or {}),
            row.response_body,
            row.created_at,
        )


def _file_digest(upload: UploadFile) -> str:
    fh = upload.file
    position = fh.tell()
    fh.seek(0)
    digest = hashlib.sha256()
    while block := fh.read(1 << 20):
        digest.update(block)
    fh.seek(position)
    return digest.hexdigest()


async def fingerprint(request: Request) -> str:
    """sha256 over what makes two requests the same request (see the module docstring)."""
    query = sorted(request.query_params.multi_items())
    parts: list[Any] = [request.method, request.url.path, query]
    content_type = request.headers.get("content-type", "").lower()
    if content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        form = await request.form()
        fields: list[tuple[str, ...]] = []
        for name, value in form.multi_items():
            if isinstance(value, UploadFile):
                digest = await anyio.to_thread.run_sync(_file_digest, value)
                fields.append((name, "file", value.filename or "", digest))
            else:
                fields.append((name, "field", str(value)))
        parts.append(sorted(fields))
    else:
        body = await request.body()
        try:
            parts.append(json.loads(body) if body else None)
        except ValueError:
            parts.append(hashlib.sha256(body).hexdigest())
    canonical = json.dumps(parts, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _check_key(value: str) -> str:
    key = value.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        raise InvalidRequest(
            f"The {HEADER} header must be 1-{MAX_KEY_LENGTH} printable ASCII characters; a UUID is a good choice.",
            param=HEADER,
        )
    return key


async def _try_claim(state: AppState, scope: str, key: str, digest: str) -> int | Stored | None:
    """The new row's id when this request won the key; else the row that holds it (None if it just vanished)."""
    global _last_purge
    now = utcnow()
    async with state.sessions() as session:
        purge_all = time.monotonic() - _last_purge > PURGE_EVERY_SECONDS
        expired = delete(IdempotencyKey).where(IdempotencyKey.created_at < now - TTL)
        if not purge_all:
            expired = expired.where(IdempotencyKey.scope == scope, IdempotencyKey.key == key)
        # a write first: on SQLite it takes the write lock before anything is read
        await session.execute(expired, execution_options={"synchronize_session": False})
        row = IdempotencyKey(scope=scope, key=key, request_hash=digest, state=IN_PROGRESS, created_at=now)
        session.add(row)
        try:
            await session.commit()
        except IntegrityError:
            await session.rollback()
        else:
            if purge_all:
                _last_purge = time.monotonic()
            return row.id
        existing = (
            await session.execute(
                select(IdempotencyKey).where(IdempotencyKey.scope == scope, IdempotencyKey.key == key)
            )
        ).scalar_one_or_none()
        return Stored.of(existing) if existing is not None else None


async def _delete_row(state: AppState, row_id: int, *, only_in_progress: bool = True) -> None:
    async with state.sessions() as session:
        stmt = delete(IdempotencyKey).where(IdempotencyKey.id == row_id)
        if only_in_progress:
            stmt = stmt.where(IdempotencyKey.state == IN_PROGRESS)
        await session.execute(stmt, execution_options={"synchronize_session": False})
        await session.commit()


async def _replay(request: Request, state: AppState, stored: Stored) -> Response | None:
    """The stored response again (audio re-read from the job's output); None when it cannot be rebuilt."""
    headers = {name: str(value) for name, value in stored.headers.items()}
    headers[REPLAYED_HEADER] = "true"
    status = stored.status_code or 200
    if stored.body is not None:
        return Response(stored.body, status_code=status, headers=headers, media_type=stored.content_type)
    if stored.job_id is None:
        return None
    async with state.sessions() as session:
        job = await load_job(session, stored.job_id)
    if job is None or not job.output_key:
        return None
    data = await anyio.to_thread.run_sync(state.store.get_bytes, job.output_key)
    return Response(data, status_code=status, headers=headers, media_type=stored.content_type)


async def claim_or_replay(request: Request, state: AppState, scope: str, info: dict[str, Any] | None) -> None:
    """Claim the request's Idempotency-Key for `scope`, or answer with the original response (IdempotentReplay)."""
    raw = request.headers.get(HEADER)
    if request.method != "POST" or raw is None:
        return
    key = _check_key(raw)
    digest = await fingerprint(request)
    loop = asyncio.get_running_loop()
    give_up = loop.time() + IN_FLIGHT_WAIT_SECONDS
    outcome: int | Stored | None = await _try_claim(state, scope, key, digest)
    while True:
        if outcome is None:  # the holder released the key meanwhile: try again
            outcome = await _try_claim(state, scope, key, digest)
            continue
        if isinstance(outcome, int):
            setattr(request.state, STATE_KEY, outcome)
            if info is not None:
                info[IDEMPOTENCY_INFO_KEY] = outcome
            return
        if outcome.request_hash != digest:
            raise Conflict(
                f"This {HEADER} was already used for a different request (method, path or body) in the last "
                "24 hours. Send a new key for a new request; reuse a key only to retry the very same request.",
                param=HEADER,
            )
        if outcome.state == COMPLETED:
            if outcome.headers.get(REDACTED_HEADER):
                raise _secret_conflict(outcome)
            response = await _replay(request, state, outcome)
            if response is not None:
                raise IdempotentReplay(response)
            await _delete_row(state, outcome.id, only_in_progress=False)  # its output is gone: run it again
            outcome = None
            continue
        # the original request is still running
        if loop.time() >= give_up:
            await _in_flight(request, state, outcome)
        await asyncio.sleep(POLL_SECONDS)
        outcome = await _read(state, outcome.id)  # a read while waiting: no write lock taken


async def _read(state: AppState, row_id: int) -> Stored | None:
    async with state.sessions() as session:
        row = (await session.execute(select(IdempotencyKey).where(IdempotencyKey.id == row_id))).scalar_one_or_none()
        return Stored.of(row) if row is not None else None


async def _in_flight(request: Request, state: AppState, stored: Stored) -> NoReturn:
    """The original is still running: its job (202) when it has one, else 409 to retry shortly.

    A claim that never got a job within ABANDONED_AFTER belonged to a server that died before it created one:
    it is released, and this request answers 409 so that its retry runs the request.
    """
    if stored.job_id is not None:
        async with state.sessions() as session:
            job = await load_job(session, stored.job_id)
        if job is not None:
            response = accepted(request, state, job)
            response.headers[REPLAYED_HEADER] = "true"
            raise IdempotentReplay(response)
    created = stored.created_at if stored.created_at.tzinfo else stored.created_at.replace(tzinfo=UTC)
    if utcnow() - created > ABANDONED_AFTER:
        await _delete_row(state, stored.id)
    raise APIError(
        f"A request with this {HEADER} is still being processed; retry in a moment to get its response.",
        code=ErrorCode.request_in_progress,
        param=HEADER,
        headers={"Retry-After": "1"},
    )


async def account_idempotency(
    request: Request,
    account: AccountDep,
    state: StateDep,
    session: SessionDep,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            description="On a POST: the same key with the same body within 24 h returns the original response "
            "and charges nothing more; with a different body it is 409.",
        ),
    ] = None,
) -> None:
    """Idempotency-Key for a job-creating POST, scoped to the caller's account (read from the request itself;
    the parameter documents the header in the OpenAPI description)."""
    await claim_or_replay(request, state, account.id, session.info)


async def admin_idempotency(request: Request, _admin: AdminDep, state: StateDep) -> None:
    """Idempotency-Key for an admin POST (e.g. a credit grant retried after a timeout)."""
    await claim_or_replay(request, state, "admin", None)


AccountIdempotency = Annotated[None, Depends(account_idempotency)]


class IdempotencyMiddleware:
    """Stores the response of a request that claimed an Idempotency-Key, or releases the key when it failed."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        recorder = _Recorder(scope)
        try:
            await self.app(scope, receive, recorder.wrap(send))
        except Exception:
            await recorder.release()
            raise


class _Recorder:
    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self.status = 0
        self.headers: dict[str, str] = {}
        self.chunks: list[bytes] = []
        self.size = 0
        self.capture = True
        self.done = False

    @property
    def claim_id(self) -> int | None:
        return self.scope.get("state", {}).get(STATE_KEY)  # type: ignore[no-any-return]

    @property
    def app_state(self) -> AppState:
        return self.scope["app"].state.s2s  # type: ignore[no-any-return]

    def wrap(self, send: Send) -> Send:
        async def recording_send(message: Message) -> None:
            if self.claim_id is None or self.done:
                await send(message)
                return
            if message["type"] == "http.response.start":
                self.status = message["status"]
                self.headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in message.get("headers", [])}
                self.capture = not self.headers.get("content-type", "").startswith("audio/")
            elif message["type"] == "http.response.body":
                body = message.get("body", b"")
                self.size += len(body)
                if self.capture and self.size <= MAX_STORED_BODY:
                    self.chunks.append(body)
                else:
                    self.capture = False
                    self.chunks.clear()
                if not message.get("more_body", False):
                    await self.finish()  # before the client has the response, so a retry already finds it
            await send(message)

        return recording_send

    async def finish(self) -> None:
        self.done = True
        claim_id = self.claim_id
        if claim_id is None:
            return
        job_id = self.headers.get("x-job-id")
        body = b"".join(self.chunks) if self.capture else None
        if not 200 <= self.status < 300 or (body is None and job_id is None):
            await self._delete(claim_id)  # nothing durable to replay: a retry runs the request again
            return
        secret: tuple[str, ...] = self.scope.get("state", {}).get(SECRET_KEY, ())
        stored_headers = {k: v for k, v in self.headers.items() if k in REPLAYED_RESPONSE_HEADERS}
        if secret:
            body = redact(body or b"", secret)
            stored_headers[REDACTED_HEADER] = ",".join(secret)
        try:
            async with self.app_state.sessions() as session:
                values: dict[str, Any] = {
                    "state": COMPLETED,
                    "status_code": self.status,
                    "content_type": self.headers.get("content-type"),
                    "response_headers": stored_headers,
                    "response_body": body,
                    "completed_at": utcnow(),
                }
                if job_id is not None:
                    values["job_id"] = job_id
                await session.execute(
                    update(IdempotencyKey).where(IdempotencyKey.id == claim_id).values(**values),
                    execution_options={"synchronize_session": False},
                )
                await session.commit()
        except Exception:
            log.exception("could not store the response for idempotency key row %s", claim_id)

    async def release(self) -> None:
        if self.claim_id is not None and not self.done:
            self.done = True
            await self._delete(self.claim_id)

    async def _delete(self, claim_id: int) -> None:
        try:
            await _delete_row(self.app_state, claim_id)
        except Exception:
            log.exception("could not release idempotency key row %s", claim_id)
