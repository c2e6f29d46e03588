"""Route table: (method, path regex, CdfResponses method name, needs a bearer token); test controls live under
CONTROL_PREFIX (controls.py), never under /api/."""

from __future__ import annotations

import re

CONTROL_PREFIX = "/_emulator/"

_P = r"/api/v1/projects/(?P<project>[^/]+)"
_SEG = r"[^/]+"

url_paths: list[tuple[str, re.Pattern[str], str, bool]] = [
    (method, re.compile(f"^{pattern}$"), handler, auth)
    for method, pattern, handler, auth in [
        ("POST", r"/oauth2/token", "oauth_token", False),
        ("GET", r"/api/v1/token/inspect", "token_inspect", True),
        ("POST", _P + r"/sessions", "create_session", True),
        ("GET", _P + r"/sessions", "list_sessions", True),
        ("POST", _P + r"/sessions/byids", "retrieve_sessions", True),
        ("POST", _P + r"/sessions/revoke", "revoke_sessions", True),
        ("POST", _P + r"/workflows/executions/list", "list_executions", True),
        ("GET", _P + rf"/workflows/executions/(?P<execution>{_SEG})", "get_execution", True),
        ("POST", _P + rf"/workflows/executions/(?P<execution>{_SEG})/cancel", "cancel", True),
        ("POST", _P + rf"/workflows/executions/(?P<execution>{_SEG})/retry", "retry", True),
        ("POST", _P + rf"/workflows/tasks/(?P<task>{_SEG})/update", "update_task", True),
        # Before the /workflows/{workflow} routes, which would take "triggers" for a workflow's external id.
        ("POST", _P + r"/workflows/triggers/delete", "delete_triggers", True),
        ("POST", _P + rf"/workflows/triggers/(?P<trigger>{_SEG})/pause", "pause_trigger", True),
        ("POST", _P + rf"/workflows/triggers/(?P<trigger>{_SEG})/resume", "resume_trigger", True),
        ("GET", _P + rf"/workflows/triggers/(?P<trigger>{_SEG})/history", "trigger_history", True),
        ("POST", _P + r"/workflows/triggers", "upsert_triggers", True),
        ("GET", _P + r"/workflows/triggers", "list_triggers", True),
        ("POST", _P + r"/workflows/versions/list", "list_versions", True),
        ("POST", _P + r"/workflows/versions/delete", "delete_versions", True),
        ("POST", _P + r"/workflows/versions", "upsert_versions", True),
        ("POST", _P + r"/workflows/delete", "delete_workflows", True),
        ("POST", _P + r"/workflows", "upsert_workflow", True),
        ("GET", _P + r"/workflows", "list_workflows", True),
        ("POST", _P + rf"/workflows/(?P<workflow>{_SEG})/versions/(?P<version>{_SEG})/run", "run", True),
        ("GET", _P + rf"/workflows/(?P<workflow>{_SEG})/versions/(?P<version>{_SEG})", "get_version", True),
        ("GET", _P + rf"/workflows/(?P<workflow>{_SEG})", "get_workflow", True),
    ]
]
