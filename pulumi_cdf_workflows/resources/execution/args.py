"""A WorkflowExecution's arguments and outputs: the one place that says what each property is, what a change of
it does, its default, and whether it is secret. The provider and the resource class are derived from it."""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from pulumi_cdf_workflows.lifecycle.properties import OnChange, prop
from pulumi_cdf_workflows.validation.fields import (
    ClientCredentialsArgs,
    ConnectionArgs,
    ExecutionInput,
    Identifier,
    Metadata,
)

MAX_TIMEOUT_SECONDS = 24 * 3600  # CDF ends every execution after 24 h
DEFAULT_TIMEOUT_SECONDS = 3600.0


class ExecutionArgs(BaseModel):
    """Everything a WorkflowExecution is created from, validated against CDF's documented limits."""

    model_config = ConfigDict(extra="ignore", hide_input_in_errors=True)

    workflow_external_id: Identifier = prop(on_change=OnChange.REPLACE, description="external id of the workflow")
    version: Identifier = prop(on_change=OnChange.REPLACE, description='version of the workflow (1 means "1")')
    input: ExecutionInput = prop(
        None, on_change=OnChange.REPLACE, description="the execution's input: a JSON object of at most 100 KB"
    )
    metadata: Metadata = prop(
        None, on_change=OnChange.REPLACE, description="at most 10 pairs; keys at most 32 characters, values 255"
    )
    client_credentials: ClientCredentialsArgs | None = prop(
        None, on_change=OnChange.STORE, secret=True, description="credentials the execution's session is made with"
    )
    nonce: SecretStr | None = prop(
        None, on_change=OnChange.STORE, secret=True, description="bind to an existing session instead of a new one"
    )
    triggers: list[Any] | None = prop(
        None, on_change=OnChange.REPLACE, description="arbitrary values; any change runs the workflow again"
    )
    definition_hash: str | None = prop(
        None,
        on_change=OnChange.REPLACE,
        internal=True,
        description="the hash of the WorkflowVersion's definition (set by workflow_version=)",
    )
    wait_for_completion: bool = prop(
        False, on_change=OnChange.STORE, description="create waits for the execution to end; fails unless COMPLETED"
    )
    timeout_seconds: float = prop(
        DEFAULT_TIMEOUT_SECONDS, on_change=OnChange.STORE, description="how long create waits (at most 24 h)"
    )
    cancel_on_delete: bool = prop(
        False, on_change=OnChange.STORE, description="delete and replacement cancel it if it still runs"
    )
    connection: ConnectionArgs | None = prop(
        None, on_change=OnChange.STORE, secret=True, description="per-resource CDF connection"
    )
    deployed_by_stack: bool = prop(
        False,
        on_change=OnChange.STORE,
        internal=True,
        description="whether its workflow or version comes from a resource of this program (set by the class)",
    )

    @field_validator("timeout_seconds", mode="before")
    @classmethod
    def _timeout(cls, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"timeout_seconds must be a number of seconds, got {type(value).__name__}")
        if not math.isfinite(value) or value <= 0:
            raise ValueError(f"timeout_seconds must be greater than 0, got {value}")
        if value > MAX_TIMEOUT_SECONDS:
            raise ValueError(
                f"timeout_seconds is {value}; CDF ends every execution after {MAX_TIMEOUT_SECONDS} seconds "
                "(24 h), so a longer wait is never needed"
            )
        return float(value)

    @field_validator("nonce")
    @classmethod
    def _nonce_not_empty(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().strip():
            raise ValueError("nonce must not be empty; leave it out to create a session instead")
        return value

    @model_validator(mode="after")
    def _one_credential(self) -> ExecutionArgs:
        if self.nonce is not None and self.client_credentials is not None:
            raise ValueError(
                "nonce and client_credentials are both set; give one: a nonce binds the execution to an "
                "existing session, client_credentials create a new one"
            )
        return self


class ExecutionOutputs(BaseModel):
    """What a WorkflowExecution reports besides its non-secret arguments."""

    execution_id: str | None = Field(None, description="the CDF execution id (also the resource id)")
    status: str | None = Field(None, description="RUNNING, COMPLETED, FAILED, TIMED_OUT or TERMINATED")
    engine_execution_id: str | None = Field(None, description="CDF's engine execution id")
    created_time: int | None = Field(None, description="epoch milliseconds")
    start_time: int | None = Field(None, description="epoch milliseconds")
    end_time: int | None = Field(None, description="epoch milliseconds")
    reason_for_incompletion: str | None = Field(None, description="why it did not complete, as CDF says")
    executed_tasks: list[dict[str, Any]] | None = Field(
        None, description="task results: external id, status, type, times, reason, output up to 4 KB"
    )
    found_in_cdf: bool | None = Field(None, description="false once a refresh no longer finds it in CDF")
    project: str | None = Field(None, description="the CDF project it runs in")
    base_url: str | None = Field(None, description="the CDF base URL it runs at")
    credentials_fingerprint: dict[str, str] | None = Field(
        None, description="keyed hashes of the credentials given, to notice a change"
    )
