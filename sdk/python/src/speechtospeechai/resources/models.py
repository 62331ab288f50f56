"""`client.models`: `GET /v1/models[/{id}]`."""

from __future__ import annotations

from collections.abc import Mapping

from .._base_client import AsyncAPIResource, SyncAPIResource, Timeout, make_options, parse_model, path_param
from ..types import Model, ModelList

__all__ = ["AsyncModels", "Models"]


class Models(SyncAPIResource):
    """Every model the server knows, whether its weights are installed, and how to install them."""

    def list(self, *, extra_headers: Mapping[str, str] | None = None, timeout: Timeout = None) -> ModelList:
        options = make_options("GET", "models", extra_headers=extra_headers, timeout=timeout)
        return parse_model(self._client.request(options), ModelList)

    def retrieve(
        self, model_id: str, *, extra_headers: Mapping[str, str] | None = None, timeout: Timeout = None
    ) -> Model:
        options = make_options("GET", f"models/{path_param(model_id)}", extra_headers=extra_headers, timeout=timeout)
        return parse_model(self._client.request(options), Model)


class AsyncModels(AsyncAPIResource):
    """The async twin of `Models`."""

    async def list(self, *, extra_headers: Mapping[str, str] | None = None, timeout: Timeout = None) -> ModelList:
        options = make_options("GET", "models", extra_headers=extra_headers, timeout=timeout)
        return parse_model(await self._client.request(options), ModelList)

    async def retrieve(
        self, model_id: str, *, extra_headers: Mapping[str, str] | None = None, timeout: Timeout = None
    ) -> Model:
        options = make_options("GET", f"models/{path_param(model_id)}", extra_headers=extra_headers, timeout=timeout)
        return parse_model(await self._client.request(options), Model)
