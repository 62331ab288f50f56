"""A transcript's one stored shape and the public shapes rendered from it."""

from __future__ import annotations

import json

from shared.jobkinds import job_kind
from shared.transcripts import Segment, SpeakerSummary, Transcript, Word, render, to_json

STORED = Transcript(
    text="Hi there. Bye.",
    language="en",
    language_probability=0.98,
    duration=3725.5,
    segments=[
        Segment(
            id=0,
            start=0.0,
            end=1.5,
            text="Hi there.",
            speaker="SPEAKER_00",
            avg_logprob=-0.2,
            words=[
                Word(start=0.0, end=0.6, word=" Hi", probability=0.9, speaker="SPEAKER_00"),
                Word(start=0.7, end=1.5, word=" there.", probability=0.8, speaker="SPEAKER_00"),
            ],
        ),
        Segment(
            id=1,
            start=3723.25,
            end=3725.5,
            text="Bye.",
            speaker="SPEAKER_01",
            words=[Word(start=3723.25, end=3725.5, word=" Bye.", probability=0.7, speaker="SPEAKER_01")],
        ),
    ],
    speakers=[
        SpeakerSummary(id="SPEAKER_00", speaking_seconds=1.5),
        SpeakerSummary(id="SPEAKER_01", speaking_seconds=2.25),
    ],
    diarization="bundled",
)


def test_text_formats() -> None:
    srt, _ = render(STORED, "srt")
    assert "2\n01:02:03,250 --> 01:02:05,500\n[SPEAKER_01] Bye." in srt
    vtt, media_type = render(STORED, "vtt")
    assert media_type.startswith("text/vtt") and "01:02:03.250 --> 01:02:05.500\n<v SPEAKER_01>Bye." in vtt
    text, _ = render(STORED, "text")
    assert text == "SPEAKER_00: Hi there.\nSPEAKER_01: Bye.\n"
    body = json.loads(render(STORED, "diarized_json")[0])
    assert body["segments"][1] == {
        "type": "transcript.text.segment",
        "id": 1,
        "start": 3723.25,
        "end": 3725.5,
        "text": "Bye.",
        "speaker": "SPEAKER_01",
    }


def test_json_puts_words_at_the_top_and_in_each_segment() -> None:
    body = json.loads(render(STORED, "json", words=True)[0])
    assert [w["word"] for w in body["words"]] == [" Hi", " there.", " Bye."]
    assert [len(s["words"]) for s in body["segments"]] == [2, 1]
    assert "avg_logprob" not in body["segments"][0]  # decoder statistics are verbose_json's
    plain = json.loads(render(STORED, "json", words=False)[0])
    assert "words" not in plain and all("words" not in s for s in plain["segments"])
    verbose = json.loads(render(STORED, "verbose_json", words=True)[0])
    assert verbose["segments"][0]["avg_logprob"] == -0.2 and verbose["segments"][0]["tokens"] == []
    assert len(verbose["words"]) == 3


def test_a_job_shows_the_public_shape_not_the_stored_one() -> None:
    stt = job_kind("stt")
    request = stt.request(words=True, input_keys=["inputs/a/job_x.wav"]).model_dump(mode="json")
    stored = STORED.model_dump(mode="json", exclude_none=True)
    public = stt.public(request, stored)
    assert public == to_json(STORED, words=True)
    dumped = public.model_dump(exclude_none=True)  # type: ignore[union-attr]
    assert "diarization" not in dumped and "processing_seconds" not in dumped
    assert len(dumped["words"]) == 3 and dumped["segments"][0]["words"]
