"""What the four resource classes share on the Pulumi surface."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
from pulumi import Output, ResourceOptions

from pulumi_cdf_workflows.lifecycle.provider import CdfResourceProvider


class CdfResource(pulumi.dynamic.Resource):
    """A dynamic resource whose outputs are declared (so a preview shows them as unknown, not missing) and
    whose secret-bearing inputs are always secret in state; both lists come from its provider's models."""

    def __init__(
        self,
        provider: type[CdfResourceProvider],
        resource_name: str,
        props: Mapping[str, Any],
        opts: ResourceOptions | None,
    ) -> None:
        unknown = set(props) - set(provider.args_model.model_fields)
        if unknown:
            raise TypeError(f"{type(self).__name__} does not declare the arguments {sorted(unknown)} in its model")
        # The provider carries `<stack>/<name>` for its progress lines and run markers: the engine does not tell a
        # dynamic provider which resource it serves, and an input for it would show in every `preview --diff`.
        instance = provider(f"{pulumi.get_stack()}/{resource_name}", pulumi.get_project())
        secrets = ResourceOptions(additional_secret_outputs=list(provider.secret_inputs))
        all_props = {**props, **{name: None for name in provider.outputs if name not in props}}
        super().__init__(instance, resource_name, all_props, ResourceOptions.merge(opts, secrets))


class DeployedResource(CdfResource):
    """What every deployed resource (Workflow, WorkflowVersion, WorkflowTrigger) reports."""

    created_time: Output[int]
    """Epoch milliseconds."""
    last_updated_time: Output[int]
    """Epoch milliseconds."""
    project: Output[str]
    """The CDF project it lives in."""
    base_url: Output[str]
    """The CDF base URL it lives at."""
    adopt: Output[bool]
    claim_id: Output[str]
    """A random id this resource got when it took charge of the object in CDF."""
