"""What each operation of each resource needs of the deploying principal, and the preview check that compares it
with what the principal has.

The one table is `NEEDS`: per (resource kind, operation), the capabilities CDF's API reference lists for the calls
that operation makes, with the source of each. A workflow in a data set needs the action scoped to `all` or to
that data set; its versions, executions and triggers take the workflow's data set (the workflows user guide:
"All read or write operations on the workflow or related resources (versions, executions, tasks, and triggers)
require access to this data set"). Not documented, and so not checked: what the principal of a resource's own
`client_credentials` needs (its tasks run as it); preview only signs in with them (`sign_in_problem`).

Sources. [DOCS x]: https://docs.cognite.com/20230101/x, its "Required capabilities" line. [TOKENS]: the token
concept page: "Token inspection requires the IDENTITY scope and the projectsAcl:LIST and groupsAcl:LIST
capabilities."
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from pulumi_cdf_workflows.cdf.errors import CdfAuthError, CdfError
from pulumi_cdf_workflows.cdf.settings import ConnectionSettings

if TYPE_CHECKING:
    from pulumi_cdf_workflows.cdf.models import CdfTokenInspection

WORKFLOWS, SESSIONS = "workflowOrchestrationAcl", "sessionsAcl"


@dataclass(frozen=True)
class Need:
    """One capability an operation needs: an ACL's action, scoped by the workflow's data set where `by_data_set`."""

    acl: str
    action: str
    by_data_set: bool
    source: str

    def named(self, data_set: int | None) -> str:
        where = f" scoped to data set {data_set}" if self.by_data_set and data_set is not None else ""
        scope = " (scope all: the workflow is in no data set)" if self.by_data_set and data_set is None else ""
        return f"{self.acl}:{self.action}{where}{scope}"


def _woa(action: str, page: str) -> Need:
    return Need(WORKFLOWS, action, True, f"[DOCS {page}]")


_SESSION = Need(SESSIONS, "CREATE", False, "[DOCS sessions/create-sessions]")
NEEDS: dict[tuple[str, str], tuple[Need, ...]] = {
    ("workflow", "create"): (_woa("WRITE", "workflows/create-or-update-a-workflow"),),
    ("workflow", "update"): (_woa("WRITE", "workflows/create-or-update-a-workflow"),),
    ("workflow", "read"): (_woa("READ", "workflows/retrieve-a-workflow (the workflows user guide)"),),
    ("workflow", "delete"): (_woa("WRITE", "workflows/delete-workflows"),),
    ("workflow version", "create"): (_woa("WRITE", "workflow-versions/create-or-update-a-workflow-version"),),
    ("workflow version", "update"): (_woa("WRITE", "workflow-versions/create-or-update-a-workflow-version"),),
    ("workflow version", "read"): (_woa("READ", "workflow-versions/retrieve-a-workflow-version"),),
    ("workflow version", "delete"): (_woa("WRITE", "workflow-versions/delete-workflow-versions"),),
    # A run creates a session first (unless it is given a nonce): sessionsAcl:CREATE.
    ("workflow execution", "run"): (_woa("WRITE", "workflow-executions/run-a-workflow"), _SESSION),
    ("workflow execution", "run with a nonce"): (_woa("WRITE", "workflow-executions/run-a-workflow"),),
    ("workflow execution", "read"): (_woa("READ", "workflow-executions/retrieve-workflow-execution-details"),),
    ("workflow execution", "cancel"): (_woa("WRITE", "workflow-executions/cancel-a-workflow-execution"),),
    # Every trigger upsert binds a new session.
    ("workflow trigger", "create"): (_woa("WRITE", "workflow-triggers/create-or-update-triggers"), _SESSION),
    ("workflow trigger", "update"): (_woa("WRITE", "workflow-triggers/create-or-update-triggers"), _SESSION),
    ("workflow trigger", "read"): (_woa("READ", "workflow-triggers/list-triggers (the triggers page)"),),
    ("workflow trigger", "delete"): (_woa("WRITE", "workflow-triggers/delete-triggers (the triggers page)"),),
}
INSPECT = "projectsAcl:LIST and groupsAcl:LIST (and the IDENTITY scope)"  # [TOKENS]


def _holds(capability: Mapping[str, Any], project: str) -> bool:
    scope = capability.get("projectScope")
    if not isinstance(scope, Mapping) or "allProjects" in scope:
        return True
    projects = scope.get("projects")
    return isinstance(projects, list) and project in projects


def _reaches(scope: Any, data_set: DataSet) -> bool:
    if not isinstance(scope, Mapping) or "all" in scope:
        return True
    if isinstance(data_set, _Anywhere):
        return True  # the workflow is not known yet: any scope might be the right one
    ids = scope.get("datasetScope", {}).get("ids") if isinstance(scope.get("datasetScope"), Mapping) else None
    return data_set is not None and isinstance(ids, list) and any(str(i) == str(data_set) for i in ids)


class _Anywhere:
    """A data set not known at preview (the workflow is not deployed yet)."""


ANYWHERE = _Anywhere()
# A workflow's data set: its id, None when it is in none, ANYWHERE when not known at preview.
DataSet = int | None | _Anywhere


@dataclass(frozen=True)
class Principal:
    """Who deploys, and what CDF says it may do."""

    name: str
    capabilities: tuple[Mapping[str, Any], ...]

    def has(self, need: Need, project: str, data_set: DataSet) -> bool:
        for capability in self.capabilities:
            grant = capability.get(need.acl)
            if not isinstance(grant, Mapping) or need.action not in (grant.get("actions") or []):
                continue
            if _holds(capability, project) and (not need.by_data_set or _reaches(grant.get("scope"), data_set)):
                return True
        return False

    def in_all_of_project(self, acl: str, action: str, project: str) -> bool:
        """Whether it has the action with scope `all` (then no workflow needs reading for its data set)."""
        return self.has(Need(acl, action, True, ""), project, None)


def missing(principal: Principal, kind: str, operation: str, project: str, data_set: DataSet) -> list[str]:
    """The needs of `operation` the principal lacks, each named with its scope."""
    shown = None if isinstance(data_set, _Anywhere) else data_set
    return [need.named(shown) for need in NEEDS[(kind, operation)] if not principal.has(need, project, data_set)]


def refusal(kind: str, operation: str, id_: str, data_set: DataSet, who: str, project: str,
            lacks: list[str]) -> str:  # fmt: skip
    """The check failure: what cannot be done, and what the principal lacks."""
    where = f" in data set {data_set}" if isinstance(data_set, int) else ""
    return (
        f"cannot {operation} {kind} '{id_}'{where}: the deploying principal ({who}) lacks {' and '.join(lacks)} "
        f"in CDF project '{project}'"
    )


def explain_403(error: Exception, kind: str, operation: str) -> str:
    """For an error CDF answered 403 at `up`: what the call needed, from the same table (else nothing)."""
    needs = NEEDS.get((kind, operation), ())
    if getattr(error, "status", None) != 403 or not needs:
        return ""
    named = " and ".join(
        f"{n.acl}:{n.action}" + (" in the workflow's data set" if n.by_data_set else "") for n in needs
    )
    return f". To {operation} a {kind}, the principal needs {named} (CDF's API reference)"


_lock = threading.Lock()
_Key = tuple[str, ...]
_V = TypeVar("_V")


def _remembered(cache: dict[_Key, _V], key: _Key, ask: Callable[[], tuple[_V, bool]]) -> _V:
    """What `ask` answers for `key`, asked once per process; an answer it says not to keep is asked again."""
    with _lock:
        if key in cache:
            return cache[key]
    answer, keep = ask()
    if not keep:
        return answer
    with _lock:
        return cache.setdefault(key, answer)


_inspected: dict[_Key, Principal | str] = {}
_noticed: set[_Key] = set()
_signed_in: dict[_Key, str | None] = {}


def principal_of(settings: ConnectionSettings, inspect: Callable[[], CdfTokenInspection], key: _Key) -> Principal | str:
    """The principal a connection deploys as (one token inspect per connection per process), or why it could not be
    inspected."""

    def ask() -> tuple[Principal | str, bool]:
        client = f"client {settings.client_id}" if settings.uses_oauth else None
        try:
            found = inspect()
        except CdfError as exc:
            return f"{client or 'a static token'} may not inspect its token, which needs {INSPECT}: {exc}", True
        capabilities = tuple(c for c in found.capabilities if isinstance(c, Mapping))
        return Principal(client or f"token subject {found.subject}", capabilities), True

    return _remembered(_inspected, key, ask)


def first_notice(key: _Key) -> bool:
    """True once per connection and process: the notice that permissions could not be checked is said once."""
    with _lock:
        if key in _noticed:
            return False
        _noticed.add(key)
        return True


def sign_in_problem(sign_in: Callable[[], None], key: _Key) -> str | None:
    """Why credentials cannot sign in (the identity provider refused them), or None; asked once per credentials
    per process. Any other failure (the network) is not the credentials' fault: it fails nothing, and is not kept."""

    def ask() -> tuple[str | None, bool]:
        try:
            sign_in()
        except CdfAuthError as exc:
            return str(exc), True
        except CdfError:
            return None, False
        return None, True

    return _remembered(_signed_in, key, ask)
