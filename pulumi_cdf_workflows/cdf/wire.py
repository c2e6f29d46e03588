"""The client's wire: settings, token, one keep-alive session, and one request with the retry rules of its
kind (never resend what may have acted), errors that name what failed and never hold a secret."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar
from urllib.parse import quote

import requests
from pydantic import BaseModel, ValidationError

from pulumi_cdf_workflows._version import __version__
from pulumi_cdf_workflows.cdf._environment import environment_transport, quiet_session
from pulumi_cdf_workflows.cdf._redact import redact_json, redact_text
from pulumi_cdf_workflows.cdf._retry import RetryPolicy, SendFailed, send_with_retries
from pulumi_cdf_workflows.cdf.auth import (
    BearerAuth,
    ClientCredentialsTokenProvider,
    StaticTokenProvider,
    TokenProvider,
)
from pulumi_cdf_workflows.cdf.errors import (
    CdfApiError,
    CdfAuthError,
    CdfConnectionError,
    CdfError,
    CdfNotFoundError,
    RequestOutcomeUnknownError,
)
from pulumi_cdf_workflows.cdf.models import (
    CdfClientCredentials,
    CdfCreatedSession,
    CdfTokenInspection,
)
from pulumi_cdf_workflows.cdf.settings import ConnectionSettings

API_SUBVERSION = "20230101"
APP_NAME = "pulumi-cdf-workflows"

_M = TypeVar("_M", bound=BaseModel)
_C = TypeVar("_C", bound="WireClient")
# Builds the error for a state-changing request whose outcome is unknown:
# (what went wrong, HTTP status or None, CDF's message or None, request id or None).
OutcomeUnknown = Callable[[str, "int | None", "str | None", "str | None"], CdfError]


def path_segment(segment: str) -> str:
    return quote(str(segment), safe="")


class WireClient:
    """The wire of the client: one project, its connection, sessions, and one request with the retry
    rules of its kind. The calls themselves are in ``executions.py`` and ``deploy.py``."""

    _page_limit = 1000  # items per list request (the API's maximum)

    def __init__(
        self,
        settings: ConnectionSettings,
        *,
        sleep: Callable[[float], None] = time.sleep,
        policy: RetryPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``sleep`` waits between retries and ``clock`` (monotonic seconds) dates tokens: tests pass their own."""
        self.settings = settings
        self._http = quiet_session()
        self._proxies, self._verify = environment_transport(settings.api_base)
        self._timeout = (settings.connect_timeout, settings.read_timeout)
        self._policy = policy or RetryPolicy(
            max_retries=settings.max_retries, max_total_wait=settings.max_retry_wait, sleep=sleep
        )
        self._auth: TokenProvider
        if settings.token is not None:
            self._auth = StaticTokenProvider(settings.token)
        else:
            assert settings.token_url and settings.client_id and settings.client_secret  # settings validated
            self._auth = ClientCredentialsTokenProvider(
                token_url=settings.token_url,
                client_id=settings.client_id,
                client_secret=settings.client_secret,
                scopes=settings.scopes,
                audience=settings.audience,
                http=self._http,
                timeout=self._timeout,
                policy=self._policy,
                clock=clock,
            )

    @property
    def _in_project(self) -> str:
        return f"in project {self.settings.project!r}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(project={self.settings.project!r}, base_url={self.settings.base_url!r})"

    def __enter__(self: _C) -> _C:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the keep-alive connections."""
        self._http.close()

    # ---------------------------------------------------------------- sessions

    def create_session(
        self, client_credentials: CdfClientCredentials | None = None, token_exchange: bool = False
    ) -> CdfCreatedSession:
        """``POST /sessions``: one session, by the SDK's rules.

        ``client_credentials`` given: a client-credentials session with those; else ``token_exchange``:
        a token-exchange session; else the connection's own OAuth client id/secret, or token exchange
        when the connection uses a static token.
        """
        secrets: list[str] = []
        if client_credentials is not None:
            item: dict[str, Any] = client_credentials.dump()
            secrets.append(client_credentials.client_secret.get_secret_value())
            kind = f"client-credentials session for client id {client_credentials.client_id!r}"
        elif token_exchange or not self.settings.uses_oauth:
            item = {"tokenExchange": True}
            kind = "token-exchange session"
        else:
            assert self.settings.client_id and self.settings.client_secret
            item = {
                "clientId": self.settings.client_id,
                "clientSecret": self.settings.client_secret.get_secret_value(),
            }
            kind = f"client-credentials session for client id {self.settings.client_id!r}"
        what = f"Creating a {kind} {self._in_project}"
        body = self._request("POST", "/sessions", what=what, body={"items": [item]}, safe=True, secrets=secrets)
        return self._load(CdfCreatedSession, self._first_item(body, what), what)

    def inspect_token(self) -> CdfTokenInspection:
        """``GET /api/v1/token/inspect``: who the client is and what it may do (needs projectsAcl:LIST and
        groupsAcl:LIST, and the IDENTITY scope)."""
        what = f"Inspecting the token of {self._principal()}"
        reply = self._request("GET", "/token/inspect", what=what, safe=True, in_project=False)
        return self._load(CdfTokenInspection, reply, what)

    def sign_in(self) -> None:
        """Get a token (the identity provider alone is asked; nothing is sent to CDF)."""
        self._auth.token()

    def _principal(self) -> str:
        return f"client {self.settings.client_id}" if self.settings.uses_oauth else "the static token"

    def revoke_sessions(self, session_ids: Iterable[int]) -> None:
        """``POST /sessions/revoke``: the sessions can no longer be used (a revoked one is not an error)."""
        items = [{"id": session_id} for session_id in session_ids]
        if items:
            what = f"Revoking session(s) {', '.join(str(i['id']) for i in items)} {self._in_project}"
            self._request("POST", "/sessions/revoke", what=what, body={"items": items}, safe=True)

    # ---------------------------------------------------------------- the wire

    def _headers(self) -> dict[str, str]:
        return {
            "cdf-version": API_SUBVERSION,
            "x-cdp-app": APP_NAME,
            "x-cdp-sdk": f"{APP_NAME}:{__version__}",
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": f"{APP_NAME}/{__version__} python-requests/{requests.__version__}",
        }

    def _request(
        self,
        method: str,
        path: str,
        *,
        what: str,
        safe: bool,
        body: dict[str, Any] | None = None,
        outcome_unknown: OutcomeUnknown | None = None,
        secrets: Iterable[str] = (),
        only_404_is_not_found: bool = False,
        in_project: bool = True,
    ) -> Any:
        """Send one API request with the retry rules of its kind; return the decoded JSON reply.

        ``safe`` requests are retried on 429/502/503/504 and any connection error; unsafe ones only on
        429 and connections that never got established. ``outcome_unknown`` builds the error for an
        unsafe request whose reply was lost. ``secrets`` are redacted from every error message.
        """
        # Most calls are the project's; a few (token inspect) are the API's own, under /api/v1.
        url = (self.settings.api_base if in_project else f"{self.settings.base_url}/api/v1") + path
        secrets = [s for s in secrets if s]
        data = None
        if body is not None:
            try:
                data = json.dumps(body, allow_nan=False).encode()
            except ValueError as exc:
                raise CdfError(f"{what}: the request body is not valid JSON ({exc})") from None
        token = ""
        renewed = False

        def send() -> requests.Response:
            nonlocal token, renewed
            token = self._auth.token()
            while True:
                secrets.append(token)  # every token this request used is redacted from its errors
                resp = self._http.request(
                    method,
                    url,
                    proxies=self._proxies,
                    verify=self._verify,
                    data=data,
                    headers=self._headers(),
                    auth=BearerAuth(token),
                    timeout=self._timeout,
                    allow_redirects=False,
                )
                if resp.status_code != 401 or renewed:
                    return resp
                renewed = True  # CDF did not act on a request it refused as unauthenticated: renew once
                new_token = self._auth.renew(token)
                if new_token is None:
                    return resp
                token = new_token

        try:
            resp = send_with_retries(self._policy, send, safe=safe, what=what)
        except SendFailed as failed:
            reason = self._redact(self._describe_exception(failed.error, failed.never_sent), secrets, token)
            if not safe and not failed.never_sent:
                assert outcome_unknown is not None
                raise outcome_unknown(reason, None, None, None) from None
            raise CdfConnectionError(f"{what} failed: {reason} (after {failed.attempts} attempts)") from None
        if not 200 <= resp.status_code < 300:
            raise self._api_error(resp, what, secrets, token, outcome_unknown, only_404_is_not_found)
        try:
            return self._decode(resp, what)
        except CdfApiError as exc:
            if outcome_unknown is None:
                raise
            # CDF accepted the request; only its reply is unreadable.
            reason = f"CDF answered {resp.status_code} with a body that is not JSON"
            raise outcome_unknown(reason, resp.status_code, None, exc.request_id) from None

    def _describe_exception(self, exc: requests.RequestException, never_sent: bool) -> str:
        if isinstance(exc, requests.exceptions.ConnectTimeout):
            return f"could not connect to {self.settings.base_url} within {self.settings.connect_timeout} s"
        if never_sent:
            return f"could not connect to {self.settings.base_url} (connection refused or unreachable)"
        if isinstance(exc, requests.exceptions.ReadTimeout):
            return f"the request was sent but no reply came within {self.settings.read_timeout} s"
        return f"the request was sent but the connection was lost before a reply ({type(exc).__name__})"

    def _api_error(
        self,
        resp: requests.Response,
        what: str,
        secrets: list[str],
        token: str,
        outcome_unknown: OutcomeUnknown | None,
        only_404_is_not_found: bool,
    ) -> CdfError:
        status = resp.status_code
        request_id = resp.headers.get("X-Request-ID")
        known = self._secrets(secrets, token)
        cdf_message, missing, duplicated = _parse_envelope(resp)
        cdf_message = redact_text(cdf_message, known)
        missing, duplicated = redact_json(missing, known), redact_json(duplicated, known)
        if outcome_unknown is not None and status >= 500:
            return outcome_unknown(
                f"CDF answered {status} ({cdf_message}) after the request was sent",
                status,
                cdf_message,
                request_id,
            )
        message = f"{what} failed: CDF answered {status}: {cdf_message}"
        if missing:
            message += f"; missing: {json.dumps(missing)}"
        if duplicated:
            message += f"; duplicated: {json.dumps(duplicated)}"
        if status == 401:
            message += "; the credentials were refused" + (
                " even after renewing the token" if self.settings.uses_oauth else " (static token)"
            )
        message += request_id_note(request_id)
        cls: type[CdfApiError] = CdfApiError
        if status in (401, 403):
            cls = CdfAuthError
        elif status == 404 or (status in (400, 422) and missing and not only_404_is_not_found):
            cls = CdfNotFoundError
        return cls(
            message,
            status=status,
            cdf_message=cdf_message,
            request_id=request_id,
            missing=missing,
            duplicated=duplicated,
        )

    def _secrets(self, secrets: list[str], token: str) -> list[str]:
        known = [*secrets, token]
        if self.settings.client_secret is not None:
            known.append(self.settings.client_secret.get_secret_value())
        if self.settings.token is not None:
            known.append(self.settings.token.get_secret_value())
        return known

    def _redact(self, text: str, secrets: list[str], token: str) -> str:
        return redact_text(text, self._secrets(secrets, token))

    @staticmethod
    def _decode(resp: requests.Response, what: str) -> Any:
        if not resp.content:
            return None
        try:
            return resp.json()
        except ValueError:
            raise CdfApiError(
                f"{what}: CDF answered {resp.status_code} with a body that is not JSON",
                status=resp.status_code,
                request_id=resp.headers.get("X-Request-ID"),
            ) from None

    @staticmethod
    def _first_item(reply: Any, what: str) -> Any:
        items = reply.get("items") if isinstance(reply, dict) else None
        if not isinstance(items, list) or not items:
            raise CdfApiError(f"{what}: the reply has no items")
        return items[0]

    @staticmethod
    def _load(model: type[_M], data: Any, what: str) -> _M:
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            fields = ", ".join(".".join(str(p) for p in e["loc"]) or "<root>" for e in exc.errors())
            raise CdfApiError(f"{what}: the reply is not a valid {model.__name__} (fields: {fields})") from None


def request_id_note(request_id: str | None) -> str:
    return f" (X-Request-ID: {request_id})" if request_id else ""


def run_outcome_unknown(what: str, action: str, execution_id: str) -> OutcomeUnknown:
    return outcome_unknown_error(
        what,
        f"The {action} may have been applied: retrieve execution {execution_id!r} to see its status before "
        f"sending the {action} again.",
    )


def outcome_unknown_error(what: str, advice: str) -> OutcomeUnknown:
    """Builds the error for a request whose outcome is unknown: what failed, why, and what to do about it."""

    def build(reason: str, status: int | None, cdf_message: str | None, request_id: str | None) -> CdfError:
        return RequestOutcomeUnknownError(
            f"{what}: {reason}. {advice}" + request_id_note(request_id),
            status=status,
            cdf_message=cdf_message,
            request_id=request_id,
        )

    return build


def _parse_envelope(resp: requests.Response) -> tuple[str, list[dict[str, Any]], list[dict[str, Any]]]:
    """CDF's error envelope ``{"error": {"code", "message", "missing"?, "duplicated"?}}`` (or a string)."""
    try:
        body = resp.json()
    except ValueError:
        return (resp.text[:500].strip() or resp.reason or "no message"), [], []
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        message = str(error.get("message") or resp.reason or "no message")
        missing = error.get("missing") if isinstance(error.get("missing"), list) else []
        duplicated = error.get("duplicated") if isinstance(error.get("duplicated"), list) else []
        return message, list(missing or []), list(duplicated or [])
    if isinstance(error, str):
        return error, [], []
    return (resp.text[:500].strip() or resp.reason or "no message"), [], []
