"""Typed objects at the client's boundary, loaded from the API's JSON.

Attributes are snake_case with the API's camelCase names as aliases; unknown fields are kept (the
API may add some). Statuses are plain strings spelled as the API spells them; ``CdfWorkflowStatus`` names them.
Each is named ``Cdf`` + the API's name for the object, so that ``CdfWorkflowExecution`` (what CDF
returns) is never mistaken for the Pulumi resource ``WorkflowExecution`` (what a program declares).
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict, SecretStr
from pydantic.alias_generators import to_camel


class _ApiModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="allow")

    def dump(self) -> dict[str, Any]:
        """The object as the API spells it (camelCase, unset fields left out)."""
        return self.model_dump(by_alias=True, exclude_none=True, mode="json")


class CdfWorkflowStatus(str, Enum):
    """Statuses of a workflow execution. Fields hold plain strings; these compare equal to them."""

    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    TIMED_OUT = "TIMED_OUT"
    TERMINATED = "TERMINATED"

    @classmethod
    def is_terminal(cls, status: str) -> bool:
        """True when an execution with this status will not change any more (unless retried)."""
        return status in _TERMINAL


_TERMINAL = frozenset(s.value for s in CdfWorkflowStatus if s is not CdfWorkflowStatus.RUNNING)


class CdfClientCredentials(BaseModel):
    """An IdP client id and secret, used to create a client-credentials session."""

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    client_id: str
    client_secret: SecretStr

    def dump(self) -> dict[str, str]:
        """The session item body: ``{"clientId", "clientSecret"}`` (contains the secret)."""
        return {"clientId": self.client_id, "clientSecret": self.client_secret.get_secret_value()}


class CdfTokenInspection(_ApiModel):
    """What ``GET /token/inspect`` says of a token: its subject, its projects and its capabilities, each kept as
    the API's JSON (``{"workflowOrchestrationAcl": {"actions": [...], "scope": {...}}, "projectScope": {...}}``)."""

    subject: str | None = None
    projects: list[dict[str, Any]] = []
    capabilities: list[dict[str, Any]] = []


class CdfCreatedSession(_ApiModel):
    """A session created by ``POST /sessions``. The nonce is a SecretStr: it never shows in a repr."""

    id: int
    status: str
    nonce: SecretStr
    type: str | None = None
    client_id: str | None = None


class CdfWorkflowExecution(_ApiModel):
    """An execution as returned by run, cancel, retry and the executions list."""

    id: str
    workflow_external_id: str
    status: str
    created_time: int
    version: str | None = None
    engine_execution_id: str | None = None
    start_time: int | None = None
    end_time: int | None = None
    reason_for_incompletion: str | None = None
    metadata: dict[str, str] | None = None

    @property
    def is_terminal(self) -> bool:
        return CdfWorkflowStatus.is_terminal(self.status)


class CdfWorkflowTaskExecution(_ApiModel):
    """One executed task of a detailed execution."""

    id: str | None = None
    external_id: str
    status: str
    task_type: str | None = None
    input: dict[str, Any] | None = None
    output: dict[str, Any] | None = None
    parent_task_external_id: str | None = None
    version: str | None = None
    start_time: int | None = None
    end_time: int | None = None
    reason_for_incompletion: str | None = None


class CdfWorkflowDefinition(_ApiModel):
    """A version's definition: its hash and its tasks (task definitions kept as the API's JSON)."""

    hash: str | None = None
    description: str | None = None
    tasks: list[dict[str, Any]] = []


class CdfWorkflowExecutionDetailed(CdfWorkflowExecution):
    """An execution with its definition, input and executed tasks (``GET .../executions/{id}``)."""

    workflow_definition: CdfWorkflowDefinition | None = None
    executed_tasks: list[CdfWorkflowTaskExecution] = []
    input: dict[str, Any] | None = None


class CdfWorkflow(_ApiModel):
    external_id: str
    description: str | None = None
    data_set_id: int | None = None
    max_concurrent_executions: int | None = None
    created_time: int | None = None
    last_updated_time: int | None = None


class CdfWorkflowVersion(_ApiModel):
    workflow_external_id: str
    version: str
    workflow_definition: CdfWorkflowDefinition
    created_time: int | None = None
    last_updated_time: int | None = None


class CdfWorkflowTrigger(_ApiModel):
    """A trigger as CDF returns it: never with its authentication."""

    external_id: str
    trigger_rule: dict[str, Any]
    workflow_external_id: str
    workflow_version: str
    input: dict[str, Any] | None = None
    metadata: dict[str, str] | None = None
    created_time: int | None = None
    last_updated_time: int | None = None
    is_paused: bool | None = None


__all__ = [
    "CdfClientCredentials",
    "CdfCreatedSession",
    "CdfTokenInspection",
    "CdfWorkflow",
    "CdfWorkflowDefinition",
    "CdfWorkflowExecution",
    "CdfWorkflowExecutionDetailed",
    "CdfWorkflowStatus",
    "CdfWorkflowTaskExecution",
    "CdfWorkflowTrigger",
    "CdfWorkflowVersion",
]
