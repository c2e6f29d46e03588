"""Capabilities a client is given, in CDF's JSON shape, and whether they allow an action in a project and data set.

The shape is the one token inspect returns and cognite-sdk-python reads (`cognite/client/data_classes/
capabilities.py`, `ProjectCapability`): one ACL with its actions and one action scope, plus the project scope::

    {"workflowOrchestrationAcl": {"actions": ["READ", "WRITE"], "scope": {"datasetScope": {"ids": [123]}}},
     "projectScope": {"projects": ["my-project"]}}

Action scopes: `{"all": {}}` covers everything; `{"datasetScope": {"ids": [...]}}` the resources in those data sets
(a resource without a data set is covered only by `all`). Project scopes: `{"allProjects": {}}` or
`{"projects": [...]}`. What endpoints require is permissions.py's table.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from enum import Enum
from typing import Any, Literal

ALL_SCOPE = "all"
DATASET_SCOPE = "datasetScope"
ALL_PROJECTS: dict[str, Any] = {"allProjects": {}}


class Reach(Enum):
    ANY = "any"


# Where an action is wanted: a data set's id, None for a resource in no data set, or Reach.ANY where any scope of
# the capability will do (a call tied to no data set, a list, or a resource that does not exist).
Target = int | None | Literal[Reach.ANY]


@dataclass(frozen=True)
class Grant:
    """One capability: an ACL's actions in one action scope, in some projects (None: all projects)."""

    acl: str
    actions: frozenset[str]
    scope: str  # the action scope's name: "all", "datasetScope" or another (see `allows`)
    data_set_ids: frozenset[int]
    projects: frozenset[str] | None
    shown: dict[str, Any]  # as given, with the project scope filled in: what token inspect answers

    def allows(self, project: str | None, acl: str, action: str, target: Target = Reach.ANY) -> bool:
        """`project` None: in any project (token inspect is not project-scoped)."""
        if acl != self.acl or action not in self.actions:
            return False
        if project is not None and self.projects is not None and project not in self.projects:
            return False
        if target is Reach.ANY or self.scope == ALL_SCOPE:
            return True
        # guess: an action scope other than all and datasetScope (e.g. groupsAcl's currentuserscope, or a scope
        # this table does not know) grants the action only where any scope will do, never on a data set.
        return self.scope == DATASET_SCOPE and target in self.data_set_ids


class Grants:
    """Everything a client was given; `None` in its place (Auth.grants) means a client that may do everything."""

    def __init__(self, grants: list[Grant]) -> None:
        self.grants = grants

    def allows(self, project: str | None, acl: str, action: str, target: Target = Reach.ANY) -> bool:
        return any(g.allows(project, acl, action, target) for g in self.grants)

    def to_json(self) -> list[dict[str, Any]]:
        return [copy.deepcopy(g.shown) for g in self.grants]

    def named_projects(self) -> set[str]:
        return {p for g in self.grants for p in g.projects or ()}

    def all_projects(self) -> bool:
        return any(g.projects is None for g in self.grants)


def parse_capabilities(value: Any) -> Grants:
    """A list of capabilities in CDF's shape; ValueError naming what is wrong."""
    if not isinstance(value, list):
        raise ValueError("capabilities must be a list of CDF capability objects")
    return Grants([_grant(item, f"capabilities[{i}]") for i, item in enumerate(value)])


def parse_client_capabilities(value: Any) -> dict[str, Grants]:
    """`{client id or token subject: [capabilities]}`, as the constructor and the CLI's file take them."""
    if not isinstance(value, dict) or not all(isinstance(k, str) and k for k in value):
        raise ValueError("capabilities must map client ids (or token subjects) to lists of capabilities")
    return {client: parse_capabilities(caps) for client, caps in value.items()}


def _grant(item: Any, where: str) -> Grant:
    if not isinstance(item, dict):
        raise ValueError(f"{where} must be an object")
    # guess: a capability given without a projectScope (as in a group's capabilities) applies in every project.
    project_scope = item.get("projectScope", ALL_PROJECTS)
    acls = [k for k in item if k != "projectScope"]
    if len(acls) != 1:
        raise ValueError(f"{where} must name exactly one ACL (e.g. workflowOrchestrationAcl), besides projectScope")
    acl = acls[0]
    body = item[acl]
    if not isinstance(body, dict) or set(body) - {"actions", "scope"}:
        raise ValueError(f"{where}.{acl} must be an object with actions and scope")
    actions = body.get("actions")
    if not isinstance(actions, list) or not actions or not all(isinstance(a, str) and a for a in actions):
        raise ValueError(f"{where}.{acl}.actions must be a non-empty list of action names")
    scope, ids = _action_scope(body.get("scope"), f"{where}.{acl}.scope")
    return Grant(
        acl=acl,
        actions=frozenset(actions),
        scope=scope,
        data_set_ids=ids,
        projects=_project_scope(project_scope, f"{where}.projectScope"),
        shown={acl: copy.deepcopy(body), "projectScope": copy.deepcopy(project_scope)},
    )


def _one_key(value: Any, where: str) -> tuple[str, Any]:
    if not isinstance(value, dict) or len(value) != 1:
        raise ValueError(f"{where} must be an object with exactly one key")
    ((name, data),) = value.items()
    return name, data


def _action_scope(value: Any, where: str) -> tuple[str, frozenset[int]]:
    name, data = _one_key(value, where)
    if not isinstance(data, dict):
        raise ValueError(f"{where}.{name} must be an object")
    if name != DATASET_SCOPE:
        return name, frozenset()
    ids = data.get("ids")
    if not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        raise ValueError(f"{where}.datasetScope.ids must be a list of data set ids (integers)")
    return name, frozenset(ids)


def _project_scope(value: Any, where: str) -> frozenset[str] | None:
    name, data = _one_key(value, where)
    if name == "allProjects" and isinstance(data, dict):
        return None
    projects = data if name == "projects" else None
    if not isinstance(projects, list) or not all(isinstance(p, str) and p for p in projects):
        raise ValueError(f'{where} must be {{"allProjects": {{}}}} or {{"projects": [project names]}}')
    return frozenset(projects)
