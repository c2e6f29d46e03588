"""The provider plugin `cdf-workflows`: the four resources served to every Pulumi language, not only Python.

Run as `pulumi-resource-cdf-workflows` (or `python -m pulumi_cdf_workflows.plugin`). It delegates every call to
the dynamic providers in `pulumi_cdf_workflows.resources`, so each rule lives once; this package only converts
between the plugin protocol (camelCase property values, secrets, unknowns) and the dicts those providers take,
and derives the package schema from their argument models. Nothing imports it but its entry points.
"""
