"""The CDF client: one class over the wire (``wire.py``), the executions API (``executions.py``) and the
workflows, versions and triggers APIs (``deploy.py``)."""

from __future__ import annotations

from pulumi_cdf_workflows.cdf.deploy import DeployCalls
from pulumi_cdf_workflows.cdf.executions import ExecutionCalls
from pulumi_cdf_workflows.cdf.wire import API_SUBVERSION, APP_NAME

__all__ = ["API_SUBVERSION", "APP_NAME", "CdfClient"]


class CdfClient(ExecutionCalls, DeployCalls):
    """A client for the CDF sessions, workflows, versions, executions and triggers APIs of one project.

    One ``requests.Session`` per client (keep-alive); tokens are shared process-wide (see ``auth``).

    >>> client = CdfClient(ConnectionSettings(project="p", base_url=url, token="static-abc"))
    >>> client.run("my-workflow", "1", input={"a": 1}).status
    'RUNNING'
    """
