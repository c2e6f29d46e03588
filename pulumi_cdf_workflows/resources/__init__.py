"""One module per resource: its Pulumi class, its arguments and outputs, and its provider's lifecycle."""
