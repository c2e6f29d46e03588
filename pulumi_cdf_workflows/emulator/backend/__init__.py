"""The emulated CDF's backend: plain Python objects that hold the state and apply CDF's rules, no HTTP.

`CdfBackend` composes parts that each own their state and talk to each other only through typed methods:

    auth        tokens, bearer authentication, capabilities, projects seen (auth.py)
    sessions    the sessions API and the nonces runs and triggers bind     (sessions.py)
    workflows   workflows and their versions                               (workflows.py)
    runner      how an execution moves through its tasks; test outcomes    (runner.py)
    executions  runs, the maxConcurrentExecutions queue, cancel, retry     (executions.py)
    triggers    the trigger API and what is due to fire                    (triggers.py)
    scheduler   the thread that ends tasks on time; advance / set the clock (scheduler.py)

Each part knows only the parts listed above it. What spans parts upward (a workflow upsert that frees slots, a
workflow delete that takes its triggers) is a method of `CdfBackend`. The wire layer (responses.py) parses
requests and calls these methods with typed arguments.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from pulumi_cdf_workflows.emulator import parsing
from pulumi_cdf_workflows.emulator.backend.auth import Auth
from pulumi_cdf_workflows.emulator.backend.executions import Executions
from pulumi_cdf_workflows.emulator.backend.runner import Runner
from pulumi_cdf_workflows.emulator.backend.scheduler import Scheduler
from pulumi_cdf_workflows.emulator.backend.sessions import Sessions
from pulumi_cdf_workflows.emulator.backend.shared import Shared
from pulumi_cdf_workflows.emulator.backend.triggers import Triggers
from pulumi_cdf_workflows.emulator.backend.workflows import Workflows
from pulumi_cdf_workflows.emulator.clock import Clock
from pulumi_cdf_workflows.emulator.exceptions import BadRequest, NotFound
from pulumi_cdf_workflows.emulator.models import Execution, Session, Trigger, Workflow, WorkflowFields, WorkflowVersion
from pulumi_cdf_workflows.emulator.validation import single_item

__all__ = ["CdfBackend"]


class CdfBackend:
    """All emulated CDF state for every project. Thread-safe: every part takes the one lock (`lock`)."""

    def __init__(
        self,
        *,
        clients: dict[str, str] | None = None,
        capabilities: dict[str, Any] | None = None,
        task_duration: float = 0.05,
        token_ttl: float = 3600,
        nonce_ttl: float = 60,
        ttl_clock: Callable[[], float] = time.monotonic,
        clock: Clock | None = None,
    ) -> None:
        self.shared = Shared(clock if clock is not None else Clock(), ttl_clock)
        self.auth = Auth(self.shared, clients, token_ttl, capabilities)
        self.sessions = Sessions(self.shared, self.auth, nonce_ttl)
        self.workflows = Workflows(self.shared)
        self.runner = Runner(self.shared, task_duration)
        self.executions = Executions(self.shared, self.workflows, self.sessions, self.runner)
        self.triggers = Triggers(self.shared, self.workflows, self.sessions, self.executions)
        self.scheduler = Scheduler(self.shared, self.executions, self.triggers)

    @property
    def lock(self) -> Any:
        """Hold it to read several objects consistently (the wire layer formats replies under it)."""
        return self.shared.lock

    @property
    def clock(self) -> Clock:
        return self.shared.clock

    def now_ms(self) -> int:
        """The emulator's current time in epoch milliseconds (real time until a test moves it)."""
        return self.shared.now_ms()

    # ----- lifecycle

    def start(self) -> None:
        """Executions go on by themselves from now on, at real speed (the scheduler thread)."""
        self.scheduler.start()

    def shutdown(self, timeout: float = 2.0) -> None:
        """Stops the scheduler thread; executions keep their state and go on after `start`."""
        self.scheduler.stop(timeout)

    def reset(self) -> None:
        """Forgets projects, sessions, workflows, executions, triggers, outcomes and clock moves; tokens stay valid."""
        with self.lock:
            for part in (self.auth, self.sessions, self.workflows, self.runner, self.executions, self.triggers):
                part.reset()
            self.shared.clock.reset()
            self.shared.wake()

    # ----- what spans parts

    def save_workflow(self, project: str, fields: WorkflowFields) -> Workflow:
        """Upserts a workflow; a raised maxConcurrentExecutions starts runs that waited for a slot."""
        with self.lock:
            workflow = self.workflows.upsert(project, fields)
            self.executions.admit(project, fields.external_id)
            return workflow

    def delete_workflows(self, project: str, xids: list[str], ignore_unknown: bool) -> None:
        """Deletes workflows with their versions and triggers (whose sessions are revoked); all or nothing.

        CDF refuses while any execution of them runs [SDK-IT], queued ones included: they have not finished.
        """
        with self.lock:
            missing = self.workflows.missing(project, xids)
            if missing and not ignore_unknown:
                raise NotFound("Workflows not found", missing=[{"externalId": x} for x in missing])
            running = self.executions.running(project, xids)
            if running:
                busy = "; workflow ".join(f"{x!r} while it has running executions ({n})" for x, n in running.items())
                raise BadRequest(f"Cannot delete workflow {busy}: cancel them or wait for them to finish")
            self.workflows.delete(project, xids)
            for xid in xids:
                self.triggers.delete_for_workflow(project, xid)

    # ----- kept for tests that reach the backend directly (tests/provider, tests/cdf, tests/e2e): they pass
    # ----- API bodies, which are parsed as the wire layer parses them

    @property
    def page_size(self) -> int | None:
        """When set, the executions list answers at most this many items per page (CDF may answer fewer)."""
        return self.executions.page_size

    @page_size.setter
    def page_size(self, value: int | None) -> None:
        self.executions.page_size = value

    @property
    def _nonces(self) -> dict[str, Session]:
        """Sessions by nonce (the request log redacts nonces; tests read them here)."""
        return self.sessions.by_nonce

    def get_workflow(self, project: str, xid: str) -> Workflow:
        return self.workflows.get(project, xid)

    def get_version(self, project: str, xid: str, version: str) -> WorkflowVersion:
        return self.workflows.get_version(project, xid, version)

    def upsert_workflow(self, project: str, items: Any) -> list[Workflow]:
        return [self.save_workflow(project, parsing.workflow(single_item(items, "workflow")))]

    def list_workflows(self, project: str, limit: Any, cursor: Any) -> tuple[list[Workflow], str | None]:
        page = parsing.page(limit, cursor)
        return self.workflows.list_workflows(project, page.limit, page.cursor)

    def list_versions(
        self, project: str, filters: Any, limit: Any, cursor: Any
    ) -> tuple[list[WorkflowVersion], str | None]:
        page = parsing.page(limit, cursor)
        return self.workflows.list_versions(project, parsing.workflow_filter(filters), page.limit, page.cursor)

    def delete_versions(self, project: str, items: Any, ignore_unknown: bool) -> None:
        self.workflows.delete_versions(project, parsing.version_ids(items), ignore_unknown)

    def cancel(self, project: str, execution_id: str, body: Any) -> Execution:
        return self.executions.cancel(project, parsing.execution_id(execution_id), parsing.cancel_reason(body))

    def list_triggers(
        self,
        project: str,
        limit: Any,
        cursor: Any,
        workflow_external_id: str | None = None,
        workflow_version: str | None = None,
    ) -> tuple[list[Trigger], str | None]:
        page = parsing.page(limit, cursor)
        return self.triggers.list_triggers(project, page.limit, page.cursor, workflow_external_id, workflow_version)
