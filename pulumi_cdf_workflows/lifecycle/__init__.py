"""What every resource's lifecycle shares: the resource class's base, the provider's base and the deployed
resources' lifecycle, the connection, property declarations, and what the dynamic-provider plugin lends."""
