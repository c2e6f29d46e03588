"""Where and as whom the provider talks to CDF: the resource's connection > stack config > environment."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pulumi import Input, Output
from pydantic import SecretStr, ValidationError

from pulumi_cdf_workflows.cdf.settings import (
    INSECURE_HTTP_ENV,
    INSECURE_HTTP_KEY,
    OAUTH_FIELDS,
    OAUTH_OPTIONS,
    SECRET_FIELDS,
    ConnectionFields,
    ConnectionSettings,
    environment_variable,
)
from pulumi_cdf_workflows.validation.fields import ConnectionArgs


@dataclass(frozen=True)
class _Field:
    name: str  # attribute of ConnectionArgs / ConnectionSettings
    config_key: str
    env_var: str
    description: str


def config_key(name: str) -> str:
    """The stack config key that sets connection field `name`: base_url -> cdf:baseUrl."""
    first, *rest = name.split("_")
    return "cdf:" + first + "".join(part.title() for part in rest)


FIELDS = tuple(
    _Field(name, config_key(name), environment_variable(name), str(info.description))
    for name, info in ConnectionFields.model_fields.items()
)
_BY_NAME = {f.name: f for f in FIELDS}
_OAUTH = (*OAUTH_FIELDS, *OAUTH_OPTIONS)
VALIDATE_ON_PREVIEW_KEY = "cdf:validateOnPreview"
# Seconds to wait for CDF's reply to one request (the client's read timeout).
READ_TIMEOUT_KEY, READ_TIMEOUT_ENV = "cdf:readTimeout", "CDF_READ_TIMEOUT"
# Seconds a workflow's delete waits for its running executions to end: CDF refuses to delete meanwhile.
DELETE_WAIT_KEY, DELETE_WAIT_ENV = "cdf:deleteWaitSeconds", "CDF_DELETE_WAIT_SECONDS"
DEFAULT_DELETE_WAIT_SECONDS = 600.0
STACK_CONFIG_KEYS = (
    *(f.config_key for f in FIELDS),
    VALIDATE_ON_PREVIEW_KEY,
    READ_TIMEOUT_KEY,
    DELETE_WAIT_KEY,
    INSECURE_HTTP_KEY,
)


class ConnectionConfigError(ValueError):
    """The connection cannot be resolved; the message names the settings that would fix it."""


def _hint(name: str) -> str:
    field = _BY_NAME[name]
    return (
        f"set connection.{name} on the resource, `pulumi config set {field.config_key} <value>`"
        f"{' --secret' if name in SECRET_FIELDS else ''}, or the environment variable {field.env_var}"
    )


def _source_values(
    resource: ConnectionArgs | None, stack_config: Mapping[str, Any], environ: Mapping[str, str]
) -> list[dict[str, Any]]:
    """The three sources in precedence order, each as {field: value} with empty values left out."""
    from_resource: dict[str, Any] = {}
    if resource is not None:
        for f in FIELDS:
            value = getattr(resource, f.name)
            if isinstance(value, SecretStr):
                value = value.get_secret_value()
            if value not in (None, "", []):
                from_resource[f.name] = value
    from_config = {f.name: stack_config[f.config_key] for f in FIELDS if stack_config.get(f.config_key)}
    from_env = {f.name: environ[f.env_var] for f in FIELDS if environ.get(f.env_var)}
    return [from_resource, from_config, from_env]


def _merge(sources: list[dict[str, Any]]) -> dict[str, Any]:
    """Per field, the first source that sets it wins. Whether to sign in with a static token or with OAuth
    client credentials is decided by the first source that sets any sign-in field, so a token in stack
    config is not mixed with IDP_* variables left in the shell; OAuth fields then fall back field by field."""
    merged: dict[str, Any] = {}
    for name in ("project", "base_url", "cluster"):
        for source in sources:
            if name in source:
                merged[name] = source[name]
                break
    if "base_url" in merged and "cluster" in merged:
        # base_url and cluster say the same thing; the higher-precedence one wins.
        base_rank = next(i for i, s in enumerate(sources) if "base_url" in s)
        cluster_rank = next(i for i, s in enumerate(sources) if "cluster" in s)
        merged.pop("cluster" if base_rank <= cluster_rank else "base_url")
    for rank, source in enumerate(sources):
        if "token" in source:
            merged["token"] = source["token"]
            break
        if any(name in source for name in _OAUTH):
            for name in _OAUTH:
                for lower in sources[rank:]:
                    if name in lower:
                        merged[name] = lower[name]
                        break
            break
    return merged


def resolve_connection(
    resource: ConnectionArgs | None,
    stack_config: Mapping[str, Any],
    environ: Mapping[str, str],
) -> ConnectionSettings:
    """Build client settings, or fail with a message naming the config key and env var that is missing."""
    merged = _merge(_source_values(resource, stack_config, environ))
    missing = []
    if "project" not in merged:
        missing.append(f"the CDF project is not set: {_hint('project')}")
    if "base_url" not in merged and "cluster" not in merged:
        missing.append(f"the CDF base URL is not set: {_hint('base_url')} (or {_hint('cluster')})")
    if "token" not in merged and not ("client_id" in merged or "client_secret" in merged):
        missing.append(
            "no CDF credentials are set: either a static token "
            f"({_hint('token')}) or OAuth client credentials ({_hint('client_id')}; {_hint('client_secret')}; "
            f"{_hint('token_url')})"
        )
    elif "token" not in merged:
        for name in OAUTH_FIELDS:
            if name not in merged:
                missing.append(f"the {_BY_NAME[name].description} is not set: {_hint(name)}")
    if missing:
        raise ConnectionConfigError("; ".join(missing))
    read_timeout = stack_config.get(READ_TIMEOUT_KEY) or environ.get(READ_TIMEOUT_ENV)
    if read_timeout:
        merged["read_timeout"] = read_timeout
    merged["allow_insecure_http"] = _flag(INSECURE_HTTP_KEY, INSECURE_HTTP_ENV, stack_config, environ)
    try:
        return ConnectionSettings(**merged)
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_input=False):
            name = ".".join(str(p) for p in error["loc"])
            message = str(error["msg"]).removeprefix("Value error, ")
            field = _BY_NAME.get(name)
            where = f" ({field.config_key} / {field.env_var})" if field else ""
            problems.append(f"connection.{name}{where}: {message}" if name else message)
        raise ConnectionConfigError("invalid CDF connection: " + "; ".join(problems)) from None


def _flag(key: str, env: str, stack_config: Mapping[str, Any], environ: Mapping[str, str]) -> bool:
    """A yes/no setting from stack config, else the environment; anything unclear is refused."""
    value = stack_config.get(key)
    if value is None or value == "":
        value = environ.get(env)
    if value is None or value == "":
        return False
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off"):
        return False
    raise ConnectionConfigError(f"{key} / {env} must be true or false, got {value!r}")


def validate_on_preview(stack_config: Mapping[str, Any]) -> bool:
    value = stack_config.get(VALIDATE_ON_PREVIEW_KEY)
    if value is None:
        return True
    return str(value).strip().lower() not in ("false", "0", "no", "off")


def delete_wait_seconds(stack_config: Mapping[str, Any], environ: Mapping[str, str]) -> float:
    """How long a workflow's delete waits for its running executions (stack config, environment, default)."""
    value = stack_config.get(DELETE_WAIT_KEY) or environ.get(DELETE_WAIT_ENV)
    if value is None or value == "":
        return DEFAULT_DELETE_WAIT_SECONDS
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = -1.0
    if not 0 <= seconds <= 24 * 3600:
        raise ConnectionConfigError(
            f"{DELETE_WAIT_KEY} / {DELETE_WAIT_ENV} must be a number of seconds from 0 to 86400, got {value!r}"
        )
    return seconds


@dataclass
class CdfConnection:
    """Per-resource CDF connection. Every field is optional and overrides stack config (`cdf:*`) and the
    environment (`CDF_*`, `IDP_*`) field by field. `client_secret` and `token` are always kept secret.

    Secrets given here are used to run the workflow but are not kept in the resource's outputs, so
    `pulumi refresh` and `cancel_on_delete` read them from stack config or the environment: prefer
    `pulumi config set --secret cdf:clientSecret ...` for the connection's own secret.
    """

    project: Input[str] | None = None
    base_url: Input[str] | None = None
    cluster: Input[str] | None = None
    token_url: Input[str] | None = None
    client_id: Input[str] | None = None
    client_secret: Input[str] | None = None
    scopes: Input[Sequence[Input[str]]] | Input[str] | None = None
    audience: Input[str] | None = None
    token: Input[str] | None = None

    def to_props(self) -> dict[str, Any]:
        props: dict[str, Any] = {}
        for f in FIELDS:
            value = getattr(self, f.name)
            if value is None:
                continue
            props[f.name] = Output.secret(value) if f.name in SECRET_FIELDS else value
        return props


@dataclass
class ClientCredentials:
    """OAuth client credentials that the execution's CDF session is created with.

    `client_secret` is always treated as a secret, also when given as a plain string.
    """

    client_id: Input[str]
    client_secret: Input[str]

    def to_props(self) -> dict[str, Any]:
        return {"client_id": self.client_id, "client_secret": Output.secret(self.client_secret)}


def credentials_props(value: ClientCredentials | Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A `client_credentials` argument as resource properties, the secret marked secret."""
    if value is None:
        return None
    if isinstance(value, ClientCredentials):
        return value.to_props()
    return ClientCredentials(client_id=value["client_id"], client_secret=value["client_secret"]).to_props()


def connection_props(value: CdfConnection | Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A resource's `connection` argument as resource properties, its secrets marked secret."""
    if value is None:
        return None
    if isinstance(value, CdfConnection):
        return value.to_props()
    return CdfConnection(**value).to_props()
