"""The resources of the client tree; each module holds a sync class and its async twin."""

from .audio import AsyncAudio, AsyncSpeech, AsyncTranscriptions, Audio, Speech, Transcriptions
from .batches import AsyncBatches, Batches, DownloadedBatch
from .files import AsyncFiles, Files
from .jobs import AsyncJobs, Jobs
from .models import AsyncModels, Models
from .voices import AsyncVoices, Voices
from .webhooks import AsyncWebhookEndpoints, AsyncWebhooks, WebhookEndpoints, Webhooks

__all__ = [
    "AsyncAudio",
    "AsyncBatches",
    "AsyncFiles",
    "AsyncJobs",
    "AsyncModels",
    "AsyncSpeech",
    "AsyncTranscriptions",
    "AsyncVoices",
    "AsyncWebhookEndpoints",
    "AsyncWebhooks",
    "Audio",
    "Batches",
    "DownloadedBatch",
    "Files",
    "Jobs",
    "Models",
    "Speech",
    "Transcriptions",
    "Voices",
    "WebhookEndpoints",
    "Webhooks",
]
