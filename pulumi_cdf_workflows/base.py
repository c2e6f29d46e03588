"""What the four resource classes share on the Pulumi surface."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pulumi
from pulumi import ResourceOptions

from pulumi_cdf_workflows.lifecycle import CdfResourceProvider


class CdfResource(pulumi.dynamic.Resource):
    """A dynamic resource whose outputs are declared (so a preview shows them as unknown, not missing) and
    whose provider's secret-bearing inputs are always secret in state."""

    def __init__(
        self,
        provider: type[CdfResourceProvider],
        resource_name: str,
        props: Mapping[str, Any],
        outputs: Iterable[str],
        opts: ResourceOptions | None,
    ) -> None:
        # The provider carries `<stack>/<name>` for its progress lines: the engine does not tell a dynamic
        # provider which resource it serves, and an input for it would show in every `preview --diff`.
        instance = provider(f"{pulumi.get_stack()}/{resource_name}", pulumi.get_project())
        secrets = ResourceOptions(additional_secret_outputs=list(provider.secret_inputs))
        all_props = {**props, **{name: None for name in outputs}}
        super().__init__(instance, resource_name, all_props, ResourceOptions.merge(opts, secrets))
