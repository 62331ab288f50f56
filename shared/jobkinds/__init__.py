"""Job kinds: each module of this package declares one kind in `KIND = JobKind(...)`, in one place.

A kind names its request and result contracts (pydantic models: the API validates into the request and stores it
in the job row, the worker parses it back, the result is stored and rendered from the same model), the worker
handler that runs it (by dotted path: the API never imports worker code), its Celery task and queue family, which
models serve it and its price rule. Adding a kind is one new module here plus its handler.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from pydantic import BaseModel

from shared.catalog import ModelSpec
from shared.pricing import Cost


@dataclass(frozen=True)
class JobKind:
    name: str  # the job row's `kind`: tts | stt | clone | design
    request: type[BaseModel]
    result: type[BaseModel]
    task: str  # Celery task name (Flower shows it)
    handler: str  # "module:function" run by workers.runner for this kind
    queue_family: str  # queues are <family>.<model>.<latency class>
    serves: Callable[[ModelSpec], bool]
    # price rule: the estimate reserved when the job is created, and the actual cost charged when it succeeds
    estimate: Callable[[ModelSpec, Any], Cost]
    actual: Callable[[ModelSpec, Any, Any], Cost]
    # what GET /v1/jobs/{id} shows of a stored result (None: the result model as stored)
    public_result: Callable[[Any, Any], BaseModel] | None = None

    def parse_request(self, data: dict[str, Any]) -> Any:
        return self.request.model_validate(data)

    def parse_result(self, data: dict[str, Any] | None) -> Any:
        return None if data is None else self.result.model_validate(data)

    def input_keys(self, request: dict[str, Any]) -> list[str]:
        """The job's uploads in the object store (deleted when it ends)."""
        return list(getattr(self.parse_request(request), "input_keys", None) or [])

    def public(self, request: dict[str, Any], result: dict[str, Any] | None) -> BaseModel | None:
        parsed = self.parse_result(result)
        if parsed is None or self.public_result is None:
            return parsed  # type: ignore[no-any-return]
        return self.public_result(self.parse_request(request), parsed)


@cache
def job_kinds() -> dict[str, JobKind]:
    found: dict[str, JobKind] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        kind = getattr(importlib.import_module(f"{__name__}.{info.name}"), "KIND", None)
        if isinstance(kind, JobKind):
            found[kind.name] = kind
    return found


def job_kind(name: str) -> JobKind:
    kinds = job_kinds()
    if name not in kinds:
        raise KeyError(f"no job kind '{name}' (known: {', '.join(kinds)})")
    return kinds[name]
