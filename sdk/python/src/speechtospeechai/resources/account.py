"""`client.account` (`GET /v1/account`, `/v1/account/keys`) and `client.usage` (`GET /v1/usage`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from functools import cached_property

from .._base_client import AsyncAPIResource, SyncAPIResource, Timeout, make_options, parse_model, path_param
from ..types import Account, ApiKey, ApiKeyCreated, ApiKeyList, Usage

__all__ = [
    "AccountKeys",
    "AccountResource",
    "AsyncAccountKeys",
    "AsyncAccountResource",
    "AsyncUsageResource",
    "UsageResource",
]


def _day(value: date | str | None) -> str | None:
    return value.isoformat() if isinstance(value, date) else value


class AccountKeys(SyncAPIResource):
    """`/v1/account/keys`: your account's API keys. A new key never gets more than the key that creates it."""

    def create(
        self,
        *,
        name: str,
        requests_per_minute: int | None = None,
        max_concurrent_jobs: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
        timeout: Timeout = None,
    ) -> ApiKeyCreated:
        """A new key for your account; its secret (`.key`) is in this answer only. Limits above the calling
        key's are refused (BadRequestError); omitted ones are the account's, capped at the calling key's."""
        body = {"name": name, "requests_per_minute": requests_per_minute, "max_concurrent_jobs": max_concurrent_jobs}
        options = make_options("POST", "account/keys", json=body, extra_headers=extra_headers, timeout=timeout)
        return parse_model(self._client.request(options), ApiKeyCreated)

    def list(
        self,
        *,
        include_revoked: bool | None = None,
        extra_headers: Mapping[str, str] | None = None,
        timeout: Timeout = None,
    ) -> ApiKeyList:
        """Your account's keys, oldest first: prefixes, never secrets; revoked ones too unless include_revoked=False."""
        params = {"include_revoked": include_revoked}
        options = make_options("GET", "account/keys", params=params, extra_headers=extra_headers, timeout=timeout)
        return parse_model(self._client.request(options), ApiKeyList)

    def revoke(self, key_id: str, *, extra_headers: Mapping[str, str] | None = None, timeout: Timeout = None) -> ApiKey:
        """Revoke a key (by id or prefix) at once. Not your account's last active key: ConflictError."""
        path = f"account/keys/{path_param(key_id)}"
        options = make_options("DELETE", path, extra_headers=extra_headers, timeout=timeout)
        return parse_model(self._client.request(options), ApiKey)


class AccountResource(SyncAPIResource):
    """`/v1/account`: your balance, the credits your running jobs hold, your key's limits, and `keys`."""

    @cached_property
    def keys(self) -> AccountKeys:
        return AccountKeys(self._client)

    def retrieve(self, *, extra_headers: Mapping[str, str] | None = None, timeout: Timeout = None) -> Account:
        options = make_options("GET", "account", extra_headers=extra_headers, timeout=timeout)
        return parse_model(self._client.request(options), Account)


class UsageResource(SyncAPIResource):
    """`/v1/usage`: requests, characters, audio seconds and credits per UTC day and model."""

    def list(
        self,
        *,
        start: date | str | None = None,
        end: date | str | None = None,
        extra_headers: Mapping[str, str] | None = None,
        timeout: Timeout = None,
    ) -> Usage:
        """Days `start` to `end` (inclusive, UTC; default: the last 30 days up to today), at most 366 days."""
        params = {"from": _day(start), "to": _day(end)}
        options = make_options("GET", "usage", params=params, extra_headers=extra_headers, timeout=timeout)
        return parse_model(self._client.request(options), Usage)


class AsyncAccountKeys(AsyncAPIResource):
    """The async twin of `AccountKeys`."""

    async def create(
        self,
        *,
        name: str,
        requests_per_minute: int | None = None,
        max_concurrent_jobs: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
        timeout: Timeout = None,
    ) -> ApiKeyCreated:
        body = {"name": name, "requests_per_minute": requests_per_minute, "max_concurrent_jobs": max_concurrent_jobs}
        options = make_options("POST", "account/keys", json=body, extra_headers=extra_headers, timeout=timeout)
        return parse_model(await self._client.request(options), ApiKeyCreated)

    async def list(
        self,
        *,
        include_revoked: bool | None = None,
        extra_headers: Mapping[str, str] | None = None,
        timeout: Timeout = None,
    ) -> ApiKeyList:
        params = {"include_revoked": include_revoked}
        options = make_options("GET", "account/keys", params=params, extra_headers=extra_headers, timeout=timeout)
        return parse_model(await self._client.request(options), ApiKeyList)

    async def revoke(
        self, key_id: str, *, extra_headers: Mapping[str, str] | None = None, timeout: Timeout = None
    ) -> ApiKey:
        path = f"account/keys/{path_param(key_id)}"
        options = make_options("DELETE", path, extra_headers=extra_headers, timeout=timeout)
        return parse_model(await self._client.request(options), ApiKey)


class AsyncAccountResource(AsyncAPIResource):
    """The async twin of `AccountResource`."""

    @cached_property
    def keys(self) -> AsyncAccountKeys:
        return AsyncAccountKeys(self._client)

    async def retrieve(self, *, extra_headers: Mapping[str, str] | None = None, timeout: Timeout = None) -> Account:
        options = make_options("GET", "account", extra_headers=extra_headers, timeout=timeout)
        return parse_model(await self._client.request(options), Account)


class AsyncUsageResource(AsyncAPIResource):
    """The async twin of `UsageResource`."""

    async def list(
        self,
        *,
        start: date | str | None = None,
        end: date | str | None = None,
        extra_headers: Mapping[str, str] | None = None,
        timeout: Timeout = None,
    ) -> Usage:
        params = {"from": _day(start), "to": _day(end)}
        options = make_options("GET", "usage", params=params, extra_headers=extra_headers, timeout=timeout)
        return parse_model(await self._client.request(options), Usage)
