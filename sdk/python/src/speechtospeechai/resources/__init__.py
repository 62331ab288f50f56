"""The resources of the client tree; each module holds a sync class and its async twin."""

from .account import (
    AccountKeys,
    AccountResource,
    AsyncAccountKeys,
    AsyncAccountResource,
    AsyncUsageResource,
    UsageResource,
)
from .audio import AsyncAudio, AsyncSpeech, AsyncTranscriptions, Audio, Speech, Transcriptions
from .batches import AsyncBatches, Batches, DownloadedBatch
from .files import AsyncFiles, Files
from .jobs import AsyncJobs, Jobs
from .models import AsyncModels, Models
from .voice_conversions import AsyncSpeechToSpeech, AsyncVoiceConversions, SpeechToSpeech, VoiceConversions
from .voices import AsyncVoices, Voices
from .webhooks import AsyncWebhookEndpoints, AsyncWebhooks, WebhookEndpoints, Webhooks

__all__ = [
    "AccountKeys",
    "AccountResource",
    "AsyncAccountKeys",
    "AsyncAccountResource",
    "AsyncAudio",
    "AsyncBatches",
    "AsyncFiles",
    "AsyncJobs",
    "AsyncModels",
    "AsyncSpeech",
    "AsyncSpeechToSpeech",
    "AsyncTranscriptions",
    "AsyncUsageResource",
    "AsyncVoiceConversions",
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
    "SpeechToSpeech",
    "Transcriptions",
    "UsageResource",
    "VoiceConversions",
    "Voices",
    "WebhookEndpoints",
    "Webhooks",
]
