"""Rendering a stored transcription result in the response formats clients ask for.

The worker stores one complete result (segments with words, speakers, probabilities); the API renders it as
json, verbose_json, text, srt, vtt or diarized_json, synchronously or later from the job row.
"""

from __future__ import annotations

import json
from typing import Any, Literal

ResponseFormat = Literal["json", "verbose_json", "text", "srt", "vtt", "diarized_json"]
RESPONSE_FORMATS: tuple[str, ...] = ("json", "verbose_json", "text", "srt", "vtt", "diarized_json")
MEDIA_TYPES = {
    "json": "application/json",
    "verbose_json": "application/json",
    "diarized_json": "application/json",
    "text": "text/plain; charset=utf-8",
    "srt": "application/x-subrip; charset=utf-8",
    "vtt": "text/vtt; charset=utf-8",
}

_BASIC_SEGMENT_KEYS = ("id", "start", "end", "text", "speaker", "channel")
_VERBOSE_SEGMENT_KEYS = (
    "id",
    "seek",
    "start",
    "end",
    "text",
    "tokens",
    "temperature",
    "avg_logprob",
    "compression_ratio",
    "no_speech_prob",
    "speaker",
    "channel",
    "words",
)


def _pick(segment: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {k: segment[k] for k in keys if k in segment and segment[k] is not None}


def all_words(result: dict[str, Any]) -> list[dict[str, Any]]:
    return [w for seg in result.get("segments", []) for w in (seg.get("words") or [])]


def to_json(result: dict[str, Any], *, words: bool) -> dict[str, Any]:
    """The contract's shape: text, language, duration, segments (start, end, text, speaker)."""
    body: dict[str, Any] = {
        "text": result.get("text", ""),
        "language": result.get("language"),
        "language_probability": result.get("language_probability"),
        "duration": result.get("duration"),
        "segments": [_pick(s, _BASIC_SEGMENT_KEYS) for s in result.get("segments", [])],
    }
    if words:
        body["words"] = all_words(result)
    if result.get("speakers") is not None:
        body["speakers"] = result["speakers"]
    return {k: v for k, v in body.items() if v is not None}


def to_verbose_json(result: dict[str, Any], *, words: bool) -> dict[str, Any]:
    """OpenAI's verbose_json, plus speaker labels and the language probability."""
    segments = []
    for seg in result.get("segments", []):
        item = _pick(seg, _VERBOSE_SEGMENT_KEYS)
        item.setdefault("seek", 0)
        item.setdefault("tokens", [])
        if not words:
            item.pop("words", None)
        segments.append(item)
    body: dict[str, Any] = {
        "task": "transcribe",
        "language": result.get("language"),
        "language_probability": result.get("language_probability"),
        "duration": result.get("duration"),
        "text": result.get("text", ""),
        "segments": segments,
    }
    if words:
        body["words"] = all_words(result)
    if result.get("speakers") is not None:
        body["speakers"] = result["speakers"]
    return body


def to_diarized_json(result: dict[str, Any]) -> dict[str, Any]:
    return {
        "task": "transcribe",
        "language": result.get("language"),
        "duration": result.get("duration"),
        "text": result.get("text", ""),
        "segments": [
            {"type": "transcript.text.segment", **_pick(s, ("id", "start", "end", "text", "speaker"))}
            for s in result.get("segments", [])
        ],
        "speakers": result.get("speakers") or [],
    }


def to_text(result: dict[str, Any]) -> str:
    segments = result.get("segments", [])
    if not any(s.get("speaker") for s in segments):
        return str(result.get("text", "")).strip() + "\n"
    lines: list[str] = []
    for seg in segments:
        speaker = seg.get("speaker")
        if lines and lines[-1].startswith(f"{speaker}: "):
            lines[-1] += " " + seg["text"]
        else:
            lines.append(f"{speaker}: {seg['text']}")
    return "\n".join(lines) + "\n"


def _timestamp(seconds: float, sep: str) -> str:
    ms = max(0, round(seconds * 1000))
    hours, ms = divmod(ms, 3_600_000)
    minutes, ms = divmod(ms, 60_000)
    secs, ms = divmod(ms, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{sep}{ms:03d}"


def to_srt(result: dict[str, Any]) -> str:
    cues = []
    for i, seg in enumerate(result.get("segments", []), start=1):
        label = f"[{seg['speaker']}] " if seg.get("speaker") else ""
        cues.append(f"{i}\n{_timestamp(seg['start'], ',')} --> {_timestamp(seg['end'], ',')}\n{label}{seg['text']}\n")
    return "\n".join(cues)


def to_vtt(result: dict[str, Any]) -> str:
    cues = ["WEBVTT\n"]
    for seg in result.get("segments", []):
        text = f"<v {seg['speaker']}>{seg['text']}" if seg.get("speaker") else seg["text"]
        cues.append(f"{_timestamp(seg['start'], '.')} --> {_timestamp(seg['end'], '.')}\n{text}\n")
    return "\n".join(cues)


def render(result: dict[str, Any], fmt: str, *, words: bool = False) -> tuple[str, str]:
    """(body, media type) of a result in one of RESPONSE_FORMATS."""
    if fmt == "json":
        return json.dumps(to_json(result, words=words), ensure_ascii=False), MEDIA_TYPES[fmt]
    if fmt == "verbose_json":
        return json.dumps(to_verbose_json(result, words=words), ensure_ascii=False), MEDIA_TYPES[fmt]
    if fmt == "diarized_json":
        return json.dumps(to_diarized_json(result), ensure_ascii=False), MEDIA_TYPES[fmt]
    if fmt == "text":
        return to_text(result), MEDIA_TYPES[fmt]
    if fmt == "srt":
        return to_srt(result), MEDIA_TYPES[fmt]
    if fmt == "vtt":
        return to_vtt(result), MEDIA_TYPES[fmt]
    raise ValueError(f"unknown response format {fmt!r}")
