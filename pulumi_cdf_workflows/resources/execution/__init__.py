"""WorkflowExecution: one run of a CDF workflow version, as a resource. Its Pulumi class is in `resource.py`, its
arguments and outputs in `args.py`, its lifecycle in `provider.py` (with `recovery.py`, `waiting.py` and
`cancelling.py`). The plugin imports only the provider's side, not the Pulumi classes."""
