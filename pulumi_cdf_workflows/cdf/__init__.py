"""A small CDF workflows client on requests and pydantic. It knows nothing about Pulumi."""
