"""What every endpoint requires of its caller: the one table (RULES, by the handler names of urls.py), with the
source of each line, and which data sets a request's workflows put the check in.

Sources. [DOCS x]: the API reference page https://docs.cognite.com/20230101/x, its "Required capabilities" line.
[GUIDE]: the workflows user guide (docs.cognite.com/cdf/data_workflows/workflow_user_guide): "You can assign a
workflow to a data set during workflow creation. All read or write operations on the workflow or related resources
(versions, executions, tasks, and triggers) require access to this data set." [TOKENS]: docs.cognite.com/api-
reference/concepts/20230101/tokens: "Token inspection requires the IDENTITY scope and the projectsAcl:LIST and
groupsAcl:LIST capabilities." Lines whose page was not found say so in `guess`.

The data-set rule [GUIDE]: a workflow in a data set needs the action with scope `all` or a `datasetScope` naming
that data set; a workflow in none needs scope `all`. Versions, executions (and their tasks) and triggers take their
workflow's data set. Every check also needs the action in some scope of the request's project. Lists answer only
the items the caller may read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pulumi_cdf_workflows.emulator.backend import CdfBackend
from pulumi_cdf_workflows.emulator.capabilities import Grants, Reach, Target, parse_capabilities
from pulumi_cdf_workflows.emulator.exceptions import Forbidden

WORKFLOWS = "workflowOrchestrationAcl"
SESSIONS = "sessionsAcl"

# Where a request's data sets come from: (backend, project, path parameters, body) -> the data sets it touches.
Locate = Callable[[CdfBackend, str, dict[str, str], Any], list[Target]]


@dataclass(frozen=True)
class Rule:
    needs: tuple[tuple[str, str], ...]  # (ACL, action) pairs, all required
    locate: Locate | None  # None: the call touches no data set
    source: str
    guess: str = ""  # what the sources do not say, and what the emulator does instead
    any_project: bool = False  # the call is not project-scoped: a capability in any project will do


def _items(body: Any) -> list[dict[str, Any]]:
    """The body's items, as far as they are objects (a malformed body is the handler's 400, after this check)."""
    items = body.get("items") if isinstance(body, dict) else None
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []


def workflow_data_set(backend: CdfBackend, project: str, xid: Any, absent: Target = Reach.ANY) -> Target:
    """The data set of a workflow (None: in none); `absent` when there is no such workflow."""
    workflow = backend.workflows.find(project, xid) if isinstance(xid, str) else None
    return absent if workflow is None else workflow.data_set_id


def _path_workflow(backend: CdfBackend, project: str, params: dict[str, str], _body: Any) -> list[Target]:
    return [workflow_data_set(backend, project, params["workflow"])]


def _workflow_upsert(backend: CdfBackend, project: str, _params: dict[str, str], body: Any) -> list[Target]:
    # guess: the data set written and the one the workflow is in now both count (moving a workflow out of a data
    # set is a write in it). A workflow written without dataSetId is in no data set, which takes scope all.
    targets: list[Target] = []
    for item in _items(body):
        written = item.get("dataSetId")
        targets.append(written if isinstance(written, int) and not isinstance(written, bool) else None)
        targets.append(workflow_data_set(backend, project, item.get("externalId")))
    return targets


def _workflow_ids(backend: CdfBackend, project: str, _params: dict[str, str], body: Any) -> list[Target]:
    return [workflow_data_set(backend, project, i.get("externalId")) for i in _items(body)]


def _version_upsert(backend: CdfBackend, project: str, _params: dict[str, str], body: Any) -> list[Target]:
    # An upsert creates an unknown workflow, in no data set (workflows.py), which takes scope all.
    return [workflow_data_set(backend, project, i.get("workflowExternalId"), None) for i in _items(body)]


def _version_ids(backend: CdfBackend, project: str, _params: dict[str, str], body: Any) -> list[Target]:
    return [workflow_data_set(backend, project, i.get("workflowExternalId")) for i in _items(body)]


def _execution(backend: CdfBackend, project: str, params: dict[str, str], _body: Any) -> list[Target]:
    found = backend.executions.find(project, params["execution"])
    return [Reach.ANY if found is None else workflow_data_set(backend, project, found.workflow_external_id, None)]


def _task(backend: CdfBackend, project: str, params: dict[str, str], _body: Any) -> list[Target]:
    found = backend.executions.find_task(project, params["task"])
    return [Reach.ANY if found is None else workflow_data_set(backend, project, found[0].workflow_external_id, None)]


def _trigger_data_set(backend: CdfBackend, project: str, xid: Any) -> Target:
    trigger = backend.triggers.find(project, xid) if isinstance(xid, str) else None
    return Reach.ANY if trigger is None else workflow_data_set(backend, project, trigger.workflow_external_id, None)


def _path_trigger(backend: CdfBackend, project: str, params: dict[str, str], _body: Any) -> list[Target]:
    return [_trigger_data_set(backend, project, params["trigger"])]


def _body_triggers(backend: CdfBackend, project: str, _params: dict[str, str], body: Any) -> list[Target]:
    # guess: an upsert that moves a trigger to another workflow needs the action on both workflows' data sets.
    return [
        target
        for item in _items(body)
        for target in (
            _trigger_data_set(backend, project, item.get("externalId")),
            workflow_data_set(backend, project, item.get("workflowExternalId")),
        )
    ]


def _wf(action: str, locate: Locate | None, source: str, guess: str = "") -> Rule:
    return Rule(((WORKFLOWS, action),), locate, source, guess)


def _sessions(action: str, source: str, guess: str = "") -> Rule:
    return Rule(((SESSIONS, action),), None, source, guess)


# The `guess` texts of the table below, each a `# guess:` of its own:
# guess: where an endpoint's own page was not found, READ for reads and WRITE for writes, as on every page found.
_BY_PATTERN = "guess: its page was not found; READ for reads, WRITE for writes, as on every workflows page found"
# guess: a list needs READ in some scope of the project and answers only the items the caller may read.
_LISTED = "guess: a list needs READ in some scope and answers only the items the caller may read"
# guess: an execution (or its task) whose workflow is gone counts as in no data set.
_ORPHAN = "guess: an execution whose workflow is gone counts as in no data set"
# guess: a write that moves a workflow or trigger needs the action in the data set it leaves and the one it enters.
_MOVES = "guess: the data set written and the one the workflow (or trigger's workflow) is in now must both be allowed"

RULES: dict[str, Rule] = {
    "token_inspect": Rule(
        (("projectsAcl", "LIST"), ("groupsAcl", "LIST")), None, "[TOKENS]",
        "guess: in any project and any scope; the IDENTITY OAuth scope is not emulated", any_project=True),
    "create_session": _sessions(
        "CREATE", "[DOCS sessions/create-sessions]",
        "guess: only the caller is checked, also for a session on another client's credentials (no source says "
        "what that client needs)"),
    "list_sessions": _sessions("LIST", "[DOCS sessions/list-sessions]"),
    "retrieve_sessions": _sessions("LIST", "[DOCS sessions/retrieve-sessions-with-given-ids]"),
    "revoke_sessions": _sessions(
        "DELETE", "[DOCS sessions/revoke-sessions]; without sessionsAcl:LIST only ids come back [SDK RevokedSession]"),
    "upsert_workflow": _wf("WRITE", _workflow_upsert, "[DOCS workflows/create-or-update-a-workflow]; [GUIDE]", _MOVES),
    "get_workflow": _wf("READ", _path_workflow, "[GUIDE]", _BY_PATTERN),
    "list_workflows": _wf("READ", None, "[GUIDE]", f"{_BY_PATTERN}; {_LISTED}"),
    "delete_workflows": _wf("WRITE", _workflow_ids, "[DOCS workflows/delete-workflows]; [GUIDE]"),
    "upsert_versions": _wf(
        "WRITE", _version_upsert, "[DOCS workflow-versions/create-or-update-a-workflow-version]; [GUIDE]",
        "an unknown workflow is created in no data set, so its first version needs scope all"),
    "get_version": _wf("READ", _path_workflow, "[DOCS workflow-versions/retrieve-a-workflow-version]; [GUIDE]"),
    "list_versions": _wf("READ", None, "[DOCS workflow-versions/filter-workflow-versions]; [GUIDE]", _LISTED),
    "delete_versions": _wf("WRITE", _version_ids, "[DOCS workflow-versions/delete-workflow-versions]; [GUIDE]"),
    "run": _wf("WRITE", _path_workflow, "[DOCS workflow-executions/run-a-workflow]; [GUIDE]"),
    "get_execution": _wf(
        "READ", _execution, "[DOCS workflow-executions/retrieve-workflow-execution-details]; [GUIDE]", _ORPHAN),
    "list_executions": _wf(
        "READ", None, "[DOCS workflow-executions/filter-workflow-executions]; [GUIDE]", f"{_LISTED}; {_ORPHAN}"),
    "cancel": _wf("WRITE", _execution, "[DOCS workflow-executions/cancel-a-workflow-execution]; [GUIDE]", _ORPHAN),
    "retry": _wf("WRITE", _execution, "[DOCS workflow-executions/retry-workflow-execution]; [GUIDE]", _ORPHAN),
    "update_task": _wf("WRITE", _task, "[DOCS 20230101-beta tasks/update-task-status]; [GUIDE]", _ORPHAN),
    "upsert_triggers": _wf(
        "WRITE", _body_triggers, "[DOCS workflow-triggers/create-or-update-triggers]; [GUIDE]",
        f"guess: the upsert page's capability line was not seen (the triggers page says read and write); {_MOVES}"),
    "list_triggers": _wf("READ", None, "[GUIDE]; docs.cognite.com/cdf/data_workflows/triggers", _LISTED),
    "delete_triggers": _wf(
        "WRITE", _body_triggers, "[GUIDE]; docs.cognite.com/cdf/data_workflows/triggers", _BY_PATTERN),
    "trigger_history": _wf("READ", _path_trigger, "[DOCS workflow-triggers/get-the-run-history-of-a-trigger]"),
    "pause_trigger": _wf("WRITE", _path_trigger, "[DOCS workflow-triggers/pause-a-trigger]; [GUIDE]"),
    "resume_trigger": _wf("WRITE", _path_trigger, "[DOCS 20230101-beta workflow-triggers/resume-a-trigger]"),
}  # fmt: skip

UNCHECKED = frozenset({"oauth_token"})  # the emulator's stand-in for an identity provider, not a CDF endpoint


def check(
    handler: str, grants: Grants | None, backend: CdfBackend, project: str | None, params: dict[str, str], body: Any
) -> None:
    """Raises Forbidden (403) unless the caller may make this call; call it with the backend's lock held."""
    rule = RULES.get(handler)
    if grants is None or rule is None:
        return
    scope_project = None if rule.any_project or project is None else project
    targets: list[Target] = [Reach.ANY]
    if rule.locate is not None and project is not None:
        targets += rule.locate(backend, project, params, body)
    for acl, action in rule.needs:
        if not all(grants.allows(scope_project, acl, action, target) for target in targets):
            raise Forbidden()


def may_read(grants: Grants | None, project: str, data_set: Target) -> bool:
    """Whether a list shows an item of a workflow in `data_set`."""
    return grants is None or grants.allows(project, WORKFLOWS, "READ", data_set)


def all_access() -> Grants:
    """What a client given nothing may do, as token inspect shows it: every action this table requires."""
    actions: dict[str, set[str]] = {}
    for rule in RULES.values():
        for acl, action in rule.needs:
            actions.setdefault(acl, set()).add(action)
    return parse_capabilities(
        [{acl: {"actions": sorted(acts), "scope": {"all": {}}}} for acl, acts in sorted(actions.items())]
    )
