"""Python client for the Speech to Speech AI API.

from speechtospeechai import Client

client = Client(api_key="...")          # or S2S_API_KEY; base_url or S2S_BASE_URL
audio = client.audio.speech.create(model="piper", voice="joe", input="Hello!")
audio.save("output.mp3")
client.audio.voice_conversions.create(file="input.wav", voice="af_bella").save("revoiced.mp3")
"""

from ._base_client import DEFAULT_BASE_URL, DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT
from ._client import AsyncClient, Client
from ._exceptions import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    BatchTimeoutError,
    ConflictError,
    FileTooLargeError,
    InsufficientCreditsError,
    InternalServerError,
    InvalidAudioError,
    JobFailedError,
    JobTimeoutError,
    ModelNotFoundError,
    ModelNotInstalledError,
    ModelUnavailableError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    SpeechToSpeechAIError,
    StreamError,
    VoiceNotFoundError,
    WebhookVerificationError,
)
from ._files import FileTypes
from ._response import AsyncStreamedAudioResponse, AudioResponse, StreamedAudioResponse
from ._streaming import AsyncStream, Stream
from ._version import __version__
from .types import (
    Account,
    ApiKey,
    ApiKeyCreated,
    Batch,
    BatchItem,
    FileObject,
    Job,
    JobList,
    Model,
    ModelList,
    Transcription,
    Usage,
    Voice,
    VoiceConversionPhrase,
    VoiceConversionResult,
    VoiceDeleted,
    VoiceList,
    WebhookEvent,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "Account",
    "ApiKey",
    "ApiKeyCreated",
    "AsyncClient",
    "AsyncStream",
    "AsyncStreamedAudioResponse",
    "AudioResponse",
    "AuthenticationError",
    "BadRequestError",
    "Batch",
    "BatchItem",
    "BatchTimeoutError",
    "Client",
    "ConflictError",
    "FileObject",
    "FileTooLargeError",
    "FileTypes",
    "InsufficientCreditsError",
    "InternalServerError",
    "InvalidAudioError",
    "Job",
    "JobFailedError",
    "JobList",
    "JobTimeoutError",
    "Model",
    "ModelList",
    "ModelNotFoundError",
    "ModelNotInstalledError",
    "ModelUnavailableError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "SpeechToSpeechAIError",
    "Stream",
    "StreamError",
    "StreamedAudioResponse",
    "Transcription",
    "Usage",
    "Voice",
    "VoiceConversionPhrase",
    "VoiceConversionResult",
    "VoiceDeleted",
    "VoiceList",
    "VoiceNotFoundError",
    "WebhookEvent",
    "WebhookVerificationError",
    "__version__",
]
