"""Bearer tokens: a static token, or OAuth2 client credentials with a process-wide cache.

Client-credentials tokens are cached for the whole process, shared by every client instance, keyed by
(token URL, client id, scopes, audience) plus a digest of the secret (so a wrong or rotated secret never
reuses a token fetched with another). A token is renewed 30 s before it expires, or after three quarters of
its lifetime when it lives less than two minutes (else a short-lived token would be fetched for every
request); one renewal at a time per key, so many threads asking at once cause one request to the IdP.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import requests
import requests.auth
from pydantic import SecretStr

from pulumi_cdf_workflows.cdf._environment import environment_transport
from pulumi_cdf_workflows.cdf._redact import redact_text
from pulumi_cdf_workflows.cdf._retry import RetryPolicy, SendFailed, send_with_retries
from pulumi_cdf_workflows.cdf.errors import CdfAuthError, CdfConnectionError

EXPIRY_LEEWAY_SECONDS = 30.0
# The share of a token's lifetime left when it is renewed, where that is less than the leeway above.
RENEW_AT_REMAINING_SHARE = 0.25

_Key = tuple[str, str, tuple[str, ...], str | None, str]


@dataclass(frozen=True)
class _CachedToken:
    access_token: str
    expires_at: float  # on the monotonic clock
    renew_at: float  # on the monotonic clock, before expires_at


_cache: dict[_Key, _CachedToken] = {}
_key_locks: dict[_Key, threading.Lock] = {}
_guard = threading.Lock()


def clear_token_cache() -> None:
    """Forget every cached token (tests use it; a process otherwise never needs to)."""
    with _guard:
        _cache.clear()


def _lock_for(key: _Key) -> threading.Lock:
    with _guard:
        return _key_locks.setdefault(key, threading.Lock())


class BearerAuth(requests.auth.AuthBase):
    """Sets ``Authorization: Bearer``. Passed as ``auth=`` so a ~/.netrc entry cannot replace it."""

    def __init__(self, token: str) -> None:
        self._token = token

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = f"Bearer {self._token}"
        return r

    def __repr__(self) -> str:
        return "BearerAuth(***)"


class _NoAuth(requests.auth.AuthBase):
    """No Authorization header (credentials go in the form body); also keeps ~/.netrc out."""

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        return r


class TokenProvider(Protocol):
    """Gives the bearer token for the next request."""

    def token(self) -> str:
        """A token valid for at least the next few seconds."""
        ...

    def renew(self, rejected: str) -> str | None:
        """A new token after CDF rejected ``rejected`` with 401, or None when no new one can be had."""
        ...


class StaticTokenProvider:
    """A fixed bearer token; it cannot be renewed."""

    def __init__(self, token: SecretStr) -> None:
        self._token = token

    def token(self) -> str:
        return self._token.get_secret_value()

    def renew(self, rejected: str) -> str | None:
        return None

    def __repr__(self) -> str:
        return "StaticTokenProvider(token=SecretStr('**********'))"


class ClientCredentialsTokenProvider:
    """OAuth2 client-credentials grant (credentials in the form body, as authlib sends them)."""

    def __init__(
        self,
        *,
        token_url: str,
        client_id: str,
        client_secret: SecretStr,
        scopes: list[str] | None,
        audience: str | None,
        http: requests.Session,
        timeout: tuple[float, float],
        policy: RetryPolicy,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.token_url = token_url
        self.client_id = client_id
        self._secret = client_secret
        self.scopes = list(scopes or [])
        self.audience = audience
        self._http = http
        self._proxies, self._verify = environment_transport(token_url)
        self._timeout = timeout
        self._policy = policy
        self._clock = clock
        digest = hashlib.sha256(client_secret.get_secret_value().encode()).hexdigest()
        self._key: _Key = (token_url, client_id, tuple(self.scopes), audience, digest)

    def __repr__(self) -> str:
        return f"ClientCredentialsTokenProvider(token_url={self.token_url!r}, client_id={self.client_id!r})"

    def token(self) -> str:
        cached = _cache.get(self._key)
        if cached is not None and self._fresh(cached):
            return cached.access_token
        with _lock_for(self._key):
            cached = _cache.get(self._key)  # another thread may have renewed it meanwhile
            if cached is not None and self._fresh(cached):
                return cached.access_token
            return self._fetch_and_store().access_token

    def renew(self, rejected: str) -> str | None:
        with _lock_for(self._key):
            cached = _cache.get(self._key)
            if cached is not None and cached.access_token != rejected and self._fresh(cached):
                return cached.access_token  # someone already replaced the rejected token
            return self._fetch_and_store().access_token

    def _fresh(self, cached: _CachedToken) -> bool:
        return self._clock() < cached.renew_at

    def _fetch_and_store(self) -> _CachedToken:
        body = self._fetch()
        token = body.get("access_token")
        if not isinstance(token, str) or not token:
            raise CdfAuthError(self._describe("the reply has no access_token"))
        try:
            expires_in = float(body.get("expires_in", 3600))
        except (TypeError, ValueError):
            expires_in = 3600.0
        now = self._clock()
        leeway = min(EXPIRY_LEEWAY_SECONDS, RENEW_AT_REMAINING_SHARE * max(expires_in, 0.0))
        cached = _CachedToken(access_token=token, expires_at=now + expires_in, renew_at=now + expires_in - leeway)
        _cache[self._key] = cached
        return cached

    def _fetch(self) -> dict[str, Any]:
        form = {"grant_type": "client_credentials", "client_id": self.client_id}
        if self.scopes:
            form["scope"] = " ".join(self.scopes)
        if self.audience:
            form["audience"] = self.audience
        form["client_secret"] = self._secret.get_secret_value()
        headers = {
            "Content-Type": "application/x-www-form-urlencoded;charset=UTF-8",
            "Accept": "application/json",
        }

        def send() -> requests.Response:
            return self._http.post(
                self.token_url,
                proxies=self._proxies,
                verify=self._verify,
                data=form,
                headers=headers,
                auth=_NoAuth(),
                timeout=self._timeout,
                allow_redirects=False,  # a 307 would resend the secret to wherever it points
            )

        try:
            resp = send_with_retries(self._policy, send, safe=True, what=f"token request to {self.token_url}")
        except SendFailed as failed:
            raise CdfConnectionError(
                self._describe(f"could not reach the token endpoint ({type(failed.error).__name__})")
            ) from None
        if not 200 <= resp.status_code < 300:
            raise self._error_from(resp)
        try:
            parsed = resp.json()
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict):
            raise CdfAuthError(self._describe("the reply is not a JSON object"), status=resp.status_code)
        return parsed

    def _error_from(self, resp: requests.Response) -> CdfAuthError:
        error: str | None = None
        description: str | None = None
        try:
            body = resp.json()
        except ValueError:
            body = None
        if isinstance(body, dict):
            err = body.get("error")
            if isinstance(err, dict):  # some IdPs nest it
                error = str(err.get("code") or err.get("error") or "") or None
                description = str(err.get("message") or err.get("error_description") or "") or None
            elif err is not None:
                error = str(err)
            if body.get("error_description"):
                description = str(body["error_description"])
        if error is None and description is None:
            description = resp.text[:300] or resp.reason
        detail = ": ".join(p for p in (error, description) if p)
        detail = self._redact(detail)
        return CdfAuthError(
            self._describe(f"the identity provider answered {resp.status_code}: {detail}"),
            status=resp.status_code,
            cdf_message=detail,
            request_id=resp.headers.get("X-Request-ID"),
        )

    def _redact(self, text: str) -> str:
        return redact_text(text, [self._secret.get_secret_value()])

    def _describe(self, what: str) -> str:
        return f"Could not get an access token from {self.token_url} for client id {self.client_id!r}: {what}"
