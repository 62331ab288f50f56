"""Jobs: state, result download and cancellation. Another account's job is a 404, never a 403."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from sqlalchemy import select

from api import dispatch
from api.deps import AccountDep, SessionDep, StateDep
from api.dispatch import job_public, load_job
from api.errors import Conflict, InvalidRequest, NotFound
from api.pages import page
from api.routes.transcriptions import transcript_of
from shared import jobs
from shared.db.models import Job
from shared.jobkinds.voice_conversion import VoiceConversionResult
from shared.schemas import ErrorResponse, JobKindName, JobList, JobPublic, JobState
from shared.transcripts import RESPONSE_FORMATS, render, to_diarization

log = logging.getLogger(__name__)

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])
SPOKEN_FORMATS = ("json", "text", "srt", "vtt", "rttm")


async def _own_job(session: SessionDep, account: AccountDep, job_id: str) -> Job:
    job = await load_job(session, job_id, account.id)
    if job is None:
        raise NotFound(f"Job '{job_id}' does not exist.", param="job_id")
    return job


@router.get("", operation_id="jobs-list", summary="List jobs, newest first", response_model=JobList)
async def list_jobs(
    request: Request,
    account: AccountDep,
    session: SessionDep,
    state: StateDep,
    limit: Annotated[int, Query(ge=1, le=100, description="Jobs per page.")] = 20,
    after: Annotated[str | None, Query(max_length=64, description="The last job id of the previous page.")] = None,
    status: Annotated[JobState | None, Query(description="Only jobs in this state.")] = None,
    kind: Annotated[JobKindName | None, Query(description="Only jobs of this kind.")] = None,
) -> JobList:
    stmt = select(Job).where(Job.account_id == account.id)
    if status:
        stmt = stmt.where(Job.state == status)
    if kind:
        stmt = stmt.where(Job.kind == kind)
    rows, has_more = await page(session, stmt, Job, limit=limit, after=after)
    data = [job_public(request, state, job) for job in rows]
    return JobList(
        data=data, has_more=has_more, first_id=data[0].id if data else None, last_id=data[-1].id if data else None
    )


@router.get(
    "/{job_id}",
    operation_id="jobs-retrieve",
    name="jobs-retrieve",
    summary="Get a job's state and result",
    response_model=JobPublic,
    responses={404: {"model": ErrorResponse}},
)
async def get_job(
    job_id: str, request: Request, account: AccountDep, session: SessionDep, state: StateDep
) -> JobPublic:
    return job_public(request, state, await _own_job(session, account, job_id))


@router.get(
    "/{job_id}/result",
    operation_id="jobs-result",
    name="jobs-result",
    summary="Download a job's audio output",
    response_class=Response,
    responses={
        200: {
            "description": "The audio bytes, or a transcription rendered in `response_format`.",
            "content": {"audio/*": {}, "application/json": {}, "text/plain": {}},
        },
        302: {"description": "Redirect to a presigned URL (`?redirect=true` with an S3 store)."},
        400: {"model": ErrorResponse},
        404: {"model": ErrorResponse},
        409: {"model": ErrorResponse},
    },
)
async def get_job_result(
    job_id: str,
    account: AccountDep,
    session: SessionDep,
    state: StateDep,
    redirect: Annotated[bool, Query(description="Redirect to a presigned URL when the store has one.")] = False,
    response_format: Annotated[
        str | None,
        Query(
            description="Transcription jobs: json, verbose_json, text, srt, vtt, diarized_json or rttm. Voice "
            "conversions: json, text, srt, vtt or rttm of what the output says (unset: the audio)."
        ),
    ] = None,
) -> Response:
    job = await _own_job(session, account, job_id)
    if job.state != jobs.SUCCEEDED:
        raise Conflict(f"Job '{job_id}' is {job.state}; its result is available once it has succeeded.")
    if job.kind == "stt":
        request, transcript = transcript_of(job)
        fmt = response_format or request.response_format
        if fmt not in RESPONSE_FORMATS:
            raise InvalidRequest(
                f"response_format must be one of {', '.join(RESPONSE_FORMATS)}.", param="response_format"
            )
        if request.speakers_only and fmt == "json":  # a diarization job: its turns
            return Response(content=to_diarization(transcript).model_dump_json(), media_type="application/json")
        body, media_type = render(transcript, fmt, words=request.words, uri=request.rttm_uri)
        return Response(content=body, media_type=media_type)
    if job.kind == "vc" and response_format is not None:  # what the converted audio says, with its times
        spoken = VoiceConversionResult.model_validate(job.result).transcript
        if spoken is None or response_format not in SPOKEN_FORMATS:
            what = "has no transcript (tone-colour conversion keeps the words unread)" if spoken is None else ""
            raise InvalidRequest(
                f"This conversion {what or 'renders its transcript as ' + ', '.join(SPOKEN_FORMATS)}; "
                "leave response_format unset for the audio.",
                param="response_format",
            )
        body, media_type = render(spoken, response_format, uri=job.id)
        return Response(content=body, media_type=media_type)
    if not job.output_key:
        raise NotFound(f"Job '{job_id}' has no audio output; its result is in GET /v1/jobs/{job_id}.")
    if redirect and (url := state.store.presigned_url(job.output_key)):
        return RedirectResponse(url, status_code=302)
    return StreamingResponse(
        state.store.iter_chunks(job.output_key), media_type=job.output_content_type or "application/octet-stream"
    )


@router.delete(
    "/{job_id}",
    operation_id="jobs-cancel",
    summary="Cancel a queued or running job (its reserved credits are refunded)",
    response_model=JobPublic,
    responses={404: {"model": ErrorResponse}},
)
async def cancel_job(
    job_id: str, request: Request, account: AccountDep, session: SessionDep, state: StateDep
) -> JobPublic:
    job = await _own_job(session, account, job_id)
    await dispatch.cancel_job(state, job.id)
    fresh = await load_job(session, job.id)
    assert fresh is not None
    return job_public(request, state, fresh)
