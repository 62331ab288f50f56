"""The resources of the client tree; each module holds a sync class and its async twin."""

from .audio import AsyncAudio, AsyncSpeech, AsyncTranscriptions, Audio, Speech, Transcriptions
from .jobs import AsyncJobs, Jobs
from .models import AsyncModels, Models
from .voices import AsyncVoices, Voices

__all__ = [
    "AsyncAudio",
    "AsyncJobs",
    "AsyncModels",
    "AsyncSpeech",
    "AsyncTranscriptions",
    "AsyncVoices",
    "Audio",
    "Jobs",
    "Models",
    "Speech",
    "Transcriptions",
    "Voices",
]
