"""`client.voices`: `POST /v1/voices/clone`, `GET /v1/voices[/{id}]`, `PATCH` and `DELETE /v1/voices/{id}`,
`GET /v1/voices/{id}/preview`."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import httpx

from .._base_client import (
    AsyncAPIResource,
    RequestOptions,
    SyncAPIResource,
    Timeout,
    make_options,
    parse_model,
    path_param,
)
from .._files import FileTypes, PreparedFile, prepare_file
from ..types import Voice, VoiceDeleted, VoiceList

__all__ = ["AsyncVoices", "Voices"]


def _clone_options(
    *,
    name: str,
    files: Sequence[FileTypes] | None,
    file: FileTypes | None,
    model: str | None,
    language: str | None,
    consent: bool,
    consent_statement: str | None,
    consent_recording: FileTypes | None,
    description: str | None,
    labels: Mapping[str, str] | None,
    wait: bool,
    extra_headers: Mapping[str, str] | None,
    extra_body: Mapping[str, object] | None,
    timeout: Timeout,
) -> RequestOptions:
    samples = [*([file] if file is not None else []), *(files or [])]
    if not samples:
        raise ValueError("Pass the reference audio as file=... or files=[...] (10-30 seconds of speech works best).")
    # one sample goes in the contract's `file` field; several go in repeated `files` fields
    field = "file" if len(samples) == 1 else "files"
    parts: list[tuple[str, PreparedFile]] = [(field, prepare_file(sample)) for sample in samples]
    if consent_recording is not None:
        parts.append(("consent_recording", prepare_file(consent_recording)))
    return make_options(
        "POST",
        "voices/clone",
        data={
            "name": name,
            "model": model,
            "language": language,
            "async": None if wait else True,
            "consent": True if consent else None,
            "consent_statement": consent_statement,
            "description": description,
            "labels": json.dumps(dict(labels)) if labels else None,
        },
        files=parts,
        extra_headers=extra_headers,
        extra_body=extra_body,
        timeout=timeout,
    )


def _design_options(
    name: str,
    file: FileTypes,
    model: str | None,
    language: str | None,
    gender: str | None,
    blend: int | None,
    wait: bool,
    extra_headers: Mapping[str, str] | None,
    timeout: Timeout,
) -> RequestOptions:
    data = {"name": name, "model": model, "language": language, "gender": gender, "blend": blend}
    return make_options(
        "POST",
        "voices/design",
        data={**data, "async": None if wait else True},
        files=[("file", prepare_file(file))],
        extra_headers=extra_headers,
        timeout=timeout,
    )


def _update_options(
    voice_id: str,
    name: str | None,
    description: str | None,
    labels: Mapping[str, str] | None,
    extra_headers: Mapping[str, str] | None,
    timeout: Timeout,
) -> RequestOptions:
    body = {"name": name, "description": description, "labels": dict(labels) if labels is not None else None}
    return make_options(
        "PATCH", f"voices/{path_param(voice_id)}", json=body, extra_headers=extra_headers, timeout=timeout
    )


class Voices(SyncAPIResource):
    """Cloned voices (and the preset voices of the installed models)."""

    def _ready(self, response: httpx.Response, wait: bool) -> Voice:
        """The voice a clone or design answered; a 202 is followed to the end of its job when `wait`."""
        voice = parse_model(response, Voice)
        if response.status_code == 202 and wait and voice.job_id:
            self._client.jobs._wait_for_success(voice.job_id)
            return self.retrieve(voice.id)
        return voice

    def clone(
        self,
        *,
        name: str,
        files: Sequence[FileTypes] | None = None,
        file: FileTypes | None = None,
        model: str | None = None,
        language: str | None = None,
        consent: bool = False,
        consent_statement: str | None = None,
        consent_recording: FileTypes | None = None,
        description: str | None = None,
        labels: Mapping[str, str] | None = None,
        wait: bool = True,
        extra_headers: Mapping[str, str] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: Timeout = None,
    ) -> Voice:
        """Clone a voice from reference audio (paths, bytes or binary file objects); use `voice.id` as `voice`.

        `model` defaults to the best cloning model the server has; `language` is detected when unset.
        `consent=True` attests that the speaker agreed (or give `consent_statement`); a server that asks for a
        consent recording (CLONE_CONSENT=recording) also needs `consent_recording`: the speaker reading its phrase.
        Enrollment runs as a job: `wait=False` returns the voice at once with status `processing` (its `job_id`
        can be followed with `client.jobs.wait`); the default waits until it is `ready`.
        """
        options = _clone_options(
            name=name,
            files=files,
            file=file,
            model=model,
            language=language,
            consent=consent,
            consent_statement=consent_statement,
            consent_recording=consent_recording,
            description=description,
            labels=labels,
            wait=wait,
            extra_headers=extra_headers,
            extra_body=extra_body,
            timeout=timeout,
        )
        return self._ready(self._client.request(options), wait)

    def design(
        self,
        *,
        name: str,
        file: FileTypes,
        model: str | None = None,
        language: str | None = None,
        gender: str | None = None,
        blend: int | None = None,
        wait: bool = True,
        extra_headers: Mapping[str, str] | None = None,
        timeout: Timeout = None,
    ) -> Voice:
        """Closest stock voice (not a clone): the blend of a model's stock voices (Kokoro's) that sounds most like
        the reference; speak it with that model. `wait=False` returns it `processing`."""
        options = _design_options(name, file, model, language, gender, blend, wait, extra_headers, timeout)
        return self._ready(self._client.request(options), wait)

    def list(
        self,
        *,
        limit: int | None = None,
        after: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
        timeout: Timeout = None,
    ) -> VoiceList:
        """`GET /v1/voices`: a page of cloned voices in `.data` (`after=page.last_id` for the next), model presets
        in `.presets`."""
        params = {"limit": limit, "after": after}
        options = make_options("GET", "voices", params=params, extra_headers=extra_headers, timeout=timeout)
        return parse_model(self._client.request(options), VoiceList)

    def retrieve(
        self, voice_id: str, *, extra_headers: Mapping[str, str] | None = None, timeout: Timeout = None
    ) -> Voice:
        options = make_options("GET", f"voices/{path_param(voice_id)}", extra_headers=extra_headers, timeout=timeout)
        return parse_model(self._client.request(options), Voice)

    def update(
        self,
        voice_id: str,
        *,
        name: str | None = None,
        description: str | None = None,
        labels: Mapping[str, str] | None = None,
        extra_headers: Mapping[str, str] | None = None,
        timeout: Timeout = None,
    ) -> Voice:
        """`PATCH /v1/voices/{id}`: change the name, description or labels (`labels={}` clears them)."""
        options = _update_options(voice_id, name, description, labels, extra_headers, timeout)
        return parse_model(self._client.request(options), Voice)

    def preview(
        self, voice_id: str, *, extra_headers: Mapping[str, str] | None = None, timeout: Timeout = None
    ) -> bytes:
        """The voice's preview sample (mp3 bytes), made when enrollment ended."""
        options = make_options(
            "GET", f"voices/{path_param(voice_id)}/preview", extra_headers=extra_headers, timeout=timeout
        )
        return self._client.request(options).content

    def delete(
        self, voice_id: str, *, extra_headers: Mapping[str, str] | None = None, timeout: Timeout = None
    ) -> VoiceDeleted:
        options = make_options("DELETE", f"voices/{path_param(voice_id)}", extra_headers=extra_headers, timeout=timeout)
        return parse_model(self._client.request(options), VoiceDeleted)


class AsyncVoices(AsyncAPIResource):
    """The async twin of `Voices`."""

    async def _ready(self, response: httpx.Response, wait: bool) -> Voice:
        voice = parse_model(response, Voice)
        if response.status_code == 202 and wait and voice.job_id:
            await self._client.jobs._wait_for_success(voice.job_id)
            return await self.retrieve(voice.id)
        return voice

    async def clone(
        self,
        *,
        name: str,
        files: Sequence[FileTypes] | None = None,
        file: FileTypes | None = None,
        model: str | None = None,
        language: str | None = None,
        consent: bool = False,
        consent_statement: str | None = None,
        consent_recording: FileTypes | None = None,
        description: str | None = None,
        labels: Mapping[str, str] | None = None,
        wait: bool = True,
        extra_headers: Mapping[str, str] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: Timeout = None,
    ) -> Voice:
        """Clone a voice from reference audio (see `Voices.clone`)."""
        options = _clone_options(
            name=name,
            files=files,
            file=file,
            model=model,
            language=language,
            consent=consent,
            consent_statement=consent_statement,
            consent_recording=consent_recording,
            description=description,
            labels=labels,
            wait=wait,
            extra_headers=extra_headers,
            extra_body=extra_body,
            timeout=timeout,
        )
        return await self._ready(await self._client.request(options), wait)

    async def design(
        self,
        *,
        name: str,
        file: FileTypes,
        model: str | None = None,
        language: str | None = None,
        gender: str | None = None,
        blend: int | None = None,
        wait: bool = True,
        extra_headers: Mapping[str, str] | None = None,
        timeout: Timeout = None,
    ) -> Voice:
        """Closest stock voice (see `Voices.design`)."""
        options = _design_options(name, file, model, language, gender, blend, wait, extra_headers, timeout)
        return await self._ready(await self._client.request(options), wait)

    async def list(
        self,
        *,
        limit: int | None = None,
        after: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
        timeout: Timeout = None,
    ) -> VoiceList:
        params = {"limit": limit, "after": after}
        options = make_options("GET", "voices", params=params, extra_headers=extra_headers, timeout=timeout)
        return parse_model(await self._client.request(options), VoiceList)

    async def retrieve(
        self, voice_id: str, *, extra_headers: Mapping[str, str] | None = None, timeout: Timeout = None
    ) -> Voice:
        options = make_options("GET", f"voices/{path_param(voice_id)}", extra_headers=extra_headers, timeout=timeout)
        return parse_model(await self._client.request(options), Voice)

    async def update(
        self,
        voice_id: str,
        *,
        name: str | None = None,
        description: str | None = None,
        labels: Mapping[str, str] | None = None,
        extra_headers: Mapping[str, str] | None = None,
        timeout: Timeout = None,
    ) -> Voice:
        options = _update_options(voice_id, name, description, labels, extra_headers, timeout)
        return parse_model(await self._client.request(options), Voice)

    async def preview(
        self, voice_id: str, *, extra_headers: Mapping[str, str] | None = None, timeout: Timeout = None
    ) -> bytes:
        options = make_options(
            "GET", f"voices/{path_param(voice_id)}/preview", extra_headers=extra_headers, timeout=timeout
        )
        return (await self._client.request(options)).content

    async def delete(
        self, voice_id: str, *, extra_headers: Mapping[str, str] | None = None, timeout: Timeout = None
    ) -> VoiceDeleted:
        options = make_options("DELETE", f"voices/{path_param(voice_id)}", extra_headers=extra_headers, timeout=timeout)
        return parse_model(await self._client.request(options), VoiceDeleted)
