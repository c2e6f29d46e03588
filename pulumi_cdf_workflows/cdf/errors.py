"""Errors raised by the CDF client.

One small hierarchy. Every error carries what the user asked for in its message (project, workflow,
version, execution id) and, when CDF answered, the HTTP status, CDF's own message, the X-Request-ID
and the envelope's ``missing``/``duplicated`` lists. Messages never contain a secret, token or nonce:
the client redacts those before building an error.
"""

from __future__ import annotations

from typing import Any


class CdfError(Exception):
    """Base class of every error raised by :mod:`pulumi_cdf_workflows.cdf`."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        cdf_message: str | None = None,
        request_id: str | None = None,
        missing: list[dict[str, Any]] | None = None,
        duplicated: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.cdf_message = cdf_message
        self.request_id = request_id
        self.missing: list[dict[str, Any]] = missing or []
        self.duplicated: list[dict[str, Any]] = duplicated or []

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only constructor arguments: rebuild from the instance dict so errors survive pickling.
        return (_rebuild, (type(self), self.message, self.__dict__.copy()))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, status={self.status!r}, request_id={self.request_id!r})"


class CdfApiError(CdfError):
    """CDF answered with an error status (after any retries the request allowed)."""


class CdfNotFoundError(CdfApiError):
    """The workflow, version or execution does not exist: a 404, or a 400/422 that lists the id as `missing`
    (except where a call says only a 404 counts: a refused execution read says nothing about existence)."""


class CdfAuthError(CdfApiError):
    """The token endpoint refused the credentials, or CDF answered 401/403."""


class WorkflowBusyError(CdfApiError):
    """CDF refused to delete a workflow because executions of it are running."""


class CdfConnectionError(CdfError):
    """CDF (or the token endpoint) could not be reached, or did not answer in time, after retries."""


class RequestOutcomeUnknownError(CdfError):
    """A request that changes state was sent but its outcome is unknown (read timeout, dropped
    connection or 5xx). The request itself is not sent again (sending twice could apply it twice); a call
    that can be repeated safely in another form says so (a trigger upsert is repeated with a new session)."""


class ExecutionMayHaveStartedError(RequestOutcomeUnknownError):
    """A run request was sent but the reply was lost or unreadable; the execution may have started.

    ``execution_id`` is set when CDF accepted the run and its reply named the execution."""

    def __init__(
        self,
        message: str,
        *,
        project: str,
        workflow_external_id: str,
        version: str,
        status: int | None = None,
        cdf_message: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message, status=status, cdf_message=cdf_message, request_id=request_id)
        self.project = project
        self.workflow_external_id = workflow_external_id
        self.version = version
        self.execution_id: str | None = None


def _rebuild(cls: type[CdfError], message: str, state: dict[str, Any]) -> CdfError:
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    error.__dict__.update(state)
    return error


__all__ = [
    "CdfApiError",
    "CdfAuthError",
    "CdfConnectionError",
    "CdfError",
    "CdfNotFoundError",
    "ExecutionMayHaveStartedError",
    "RequestOutcomeUnknownError",
    "WorkflowBusyError",
]
