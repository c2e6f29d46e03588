"""Connection resolution: resource connection > stack config > environment, with errors naming the fix."""

from __future__ import annotations

import pytest

from pulumi_cdf_workflows.lifecycle.connection import ConnectionConfigError, resolve_connection, validate_on_preview
from pulumi_cdf_workflows.validation.fields import ConnectionArgs

OAUTH_ENV = {
    "CDF_PROJECT": "env-project",
    "CDF_CLUSTER": "westeurope-1",
    "IDP_TOKEN_URL": "https://login.example.com/token",
    "IDP_CLIENT_ID": "env-client",
    "IDP_CLIENT_SECRET": "env-secret",
}


def test_environment_alone_is_enough() -> None:
    settings = resolve_connection(None, {}, OAUTH_ENV)
    assert settings.project == "env-project"
    assert settings.base_url == "https://westeurope-1.cognitedata.com"
    assert settings.client_id == "env-client"
    assert settings.scopes == ["https://westeurope-1.cognitedata.com/.default"]


def test_stack_config_overrides_environment_and_resource_overrides_both() -> None:
    config = {"cdf:project": "config-project", "cdf:baseUrl": "http://127.0.0.1:9"}
    settings = resolve_connection(None, config, OAUTH_ENV)
    assert settings.project == "config-project"
    assert settings.base_url == "http://127.0.0.1:9"
    resource = ConnectionArgs(project="resource-project")
    assert resolve_connection(resource, config, OAUTH_ENV).project == "resource-project"


def test_a_token_in_stack_config_is_not_mixed_with_oauth_variables_in_the_shell() -> None:
    settings = resolve_connection(None, {"cdf:token": "static-abc"}, OAUTH_ENV)
    assert settings.token is not None
    assert settings.client_id is None


def test_scopes_may_be_space_or_comma_separated() -> None:
    env = {**OAUTH_ENV, "IDP_SCOPES": "a/.default, b/.default c"}
    assert resolve_connection(None, {}, env).scopes == ["a/.default", "b/.default", "c"]


def test_missing_settings_name_the_config_key_and_environment_variable() -> None:
    with pytest.raises(ConnectionConfigError) as caught:
        resolve_connection(None, {}, {})
    message = str(caught.value)
    for hint in ("cdf:project", "CDF_PROJECT", "cdf:baseUrl", "CDF_URL", "cdf:token", "CDF_TOKEN", "IDP_CLIENT_ID"):
        assert hint in message


def test_half_configured_oauth_names_what_is_missing() -> None:
    env = {k: v for k, v in OAUTH_ENV.items() if k != "IDP_CLIENT_SECRET"}
    with pytest.raises(ConnectionConfigError, match=r"cdf:clientSecret.*IDP_CLIENT_SECRET"):
        resolve_connection(None, {}, env)


def test_invalid_values_name_the_field_and_never_the_secret() -> None:
    with pytest.raises(ConnectionConfigError) as caught:
        resolve_connection(None, {"cdf:baseUrl": "ftp://Bad Host"}, OAUTH_ENV)
    assert "base_url" in str(caught.value)
    assert "env-secret" not in str(caught.value)


@pytest.mark.parametrize(
    ("config", "env", "expected"),
    [
        ({"cdf:readTimeout": "120"}, {"CDF_READ_TIMEOUT": "7"}, 120.0),
        ({}, {"CDF_READ_TIMEOUT": "7"}, 7.0),
        ({}, {}, 30.0),
    ],
    ids=["stack-config-wins", "environment-when-config-is-silent", "default"],
)
def test_read_timeout_comes_from_stack_config_then_environment_then_default(
    config: dict[str, str], env: dict[str, str], expected: float
) -> None:
    settings = resolve_connection(None, config, {**OAUTH_ENV, **env})
    assert settings.read_timeout == expected


@pytest.mark.parametrize(("value", "expected"), [(None, True), ("false", False), ("False", False), ("true", True)])
def test_validate_on_preview_can_be_switched_off(value: str | None, expected: bool) -> None:
    config = {} if value is None else {"cdf:validateOnPreview": value}
    assert validate_on_preview(config) is expected


def test_every_connection_field_is_in_the_typed_argument_the_readme_and_the_secret_handling() -> None:
    # One list of connection fields (cdf.settings.ConnectionFields) feeds the config keys, the environment
    # variables and validation; the typed Pulumi argument must offer each of them, and the README name each.
    import dataclasses
    from pathlib import Path

    from pulumi_cdf_workflows import CdfConnection
    from pulumi_cdf_workflows.cdf.settings import CONNECTION_FIELDS, SECRET_FIELDS
    from pulumi_cdf_workflows.lifecycle.connection import FIELDS

    assert [f.name for f in dataclasses.fields(CdfConnection)] == list(CONNECTION_FIELDS)
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    for field in FIELDS:
        assert f"`{field.config_key}`" in readme and f"`{field.env_var}`" in readme, field
    props = CdfConnection(**{name: f"value-of-{name}" for name in CONNECTION_FIELDS}).to_props()
    secret = {name for name, value in props.items() if not isinstance(value, str)}
    assert secret == set(SECRET_FIELDS) == {"client_secret", "token"}


def test_empty_connection_values_are_refused_rather_than_silently_falling_back() -> None:
    for field in ("project", "audience", "scopes", "token"):
        with pytest.raises(ValueError, match=rf"connection\.{field} must not be empty"):
            ConnectionArgs.model_validate({field: ""})
