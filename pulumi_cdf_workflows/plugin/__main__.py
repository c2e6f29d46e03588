"""`python -m pulumi_cdf_workflows.plugin <engine address>`: the same as `pulumi-resource-cdf-workflows`."""

from pulumi_cdf_workflows.plugin.server import run

run()
