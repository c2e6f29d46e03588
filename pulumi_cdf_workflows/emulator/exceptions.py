"""Errors raised by the emulator's state and wire layers.

Every error becomes a reply in one place (`responses.error_reply`): CDF's envelope
`{"error": {"code", "message", ["missing"], ["duplicated"]}}`, or OAuth's `{"error", "error_description"}`.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An API error; `status` is the HTTP status, `message` goes into the CDF error envelope."""

    status = 400

    def __init__(
        self,
        message: str,
        *,
        missing: list[dict[str, Any]] | None = None,
        duplicated: list[dict[str, Any]] | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.missing = missing
        self.duplicated = duplicated
        if status is not None:
            self.status = status

    def envelope(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.status, "message": self.message}
        if self.missing:
            error["missing"] = self.missing
        if self.duplicated:
            error["duplicated"] = self.duplicated
        return {"error": error}


class BadRequest(ApiError):
    status = 400


class Unauthorized(ApiError):
    status = 401


class Forbidden(ApiError):
    """The caller lacks a capability the endpoint requires (permissions.py); nothing was changed."""

    status = 403

    # CDF's 403 wording as public sources show it: cognite-sdk-python's tests/tests_unit/test_api/test_files.py and
    # cognite-sdk-scala's sessions tests (a 403 on POST /sessions) quote it as a real reply.
    # guess: the workflows endpoints answer with this same message; the functions API has been seen to answer
    # "Insufficient access rights. Required capabilities functionsAcl:READ not present on token" (toolkit#500).
    MESSAGE = "Resource not found. This may also be due to insufficient access rights."

    def __init__(self, message: str = MESSAGE) -> None:
        super().__init__(message)


class NotFound(ApiError):
    status = 404


class Conflict(ApiError):
    status = 409


class OAuthError(Exception):
    """An error of the OAuth token endpoint (RFC 6749 §5.2 shape, not CDF's envelope)."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status

    def body(self) -> dict[str, Any]:
        return {"error": self.error, "error_description": self.description}
