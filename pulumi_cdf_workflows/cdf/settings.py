"""Where and as whom the client talks to CDF."""

from __future__ import annotations

import ipaddress
import re
import typing
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

# Same host rule as cognite-sdk's VALID_URL_PATTERN: lower-case host, optional port and path, no query.
_BASE_URL_RE = re.compile(r"^https?://[a-z\d.:\-]+(/[^\s?#]*)?$")
_HTTP_URL_RE = re.compile(r"^https?://[^\s/?#]+(/[^\s#]*)?$")
_CLUSTER_RE = re.compile(r"^[a-z\d]([a-z\d.\-]*[a-z\d])?$")
# The OAuth client-credentials fields that go together, and the optional ones that refine the token request.
OAUTH_FIELDS = ("token_url", "client_id", "client_secret")
OAUTH_OPTIONS = ("scopes", "audience")


def _field(description: str, env: str) -> typing.Any:
    return Field(default=None, description=description, json_schema_extra={"env": env})


class ConnectionFields(BaseModel):
    """The fields that say where and as whom to reach CDF, each with the environment variable that sets it
    by the convention the Cognite Toolkit uses. The one list every layer's connection is built from."""

    # hide_input_in_errors: a validation error must not echo the secrets it was given.
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    project: str | None = _field("CDF project", "CDF_PROJECT")
    base_url: str | None = _field("CDF base URL", "CDF_URL")
    cluster: str | None = _field("CDF cluster", "CDF_CLUSTER")
    token_url: str | None = _field("OAuth token URL", "IDP_TOKEN_URL")
    client_id: str | None = _field("OAuth client id", "IDP_CLIENT_ID")
    client_secret: SecretStr | None = _field("OAuth client secret", "IDP_CLIENT_SECRET")
    scopes: list[str] | None = _field("OAuth scopes", "IDP_SCOPES")
    audience: str | None = _field("OAuth audience", "IDP_AUDIENCE")
    token: SecretStr | None = _field("static bearer token", "CDF_TOKEN")

    @field_validator("scopes", mode="before")
    @classmethod
    def _split_scopes(cls, value: typing.Any) -> typing.Any:
        # IDP_SCOPES and stack config give one string: scopes separated by spaces or commas.
        if isinstance(value, str):
            return [part for part in re.split(r"[\s,]+", value) if part]
        return value


# Named in the error above; the provider reads these (the client only takes allow_insecure_http).
INSECURE_HTTP_KEY, INSECURE_HTTP_ENV = "cdf:allowInsecureHttp", "CDF_ALLOW_INSECURE_HTTP"
INSECURE_HTTP_SETTING = f"`pulumi config set {INSECURE_HTTP_KEY} true` or {INSECURE_HTTP_ENV}=true"


def secure_or_loopback(url: str) -> bool:
    """https, or http to a loopback address (127.0.0.0/8, ::1, localhost)."""
    parts = urlsplit(url)
    if parts.scheme.lower() != "http":
        return True
    host = (parts.hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def environment_variable(name: str) -> str:
    """The environment variable that sets connection field `name`."""
    extra = ConnectionFields.model_fields[name].json_schema_extra
    assert isinstance(extra, dict)
    return str(extra["env"])


CONNECTION_FIELDS = tuple(ConnectionFields.model_fields)
# Fields that hold secrets: kept as SecretStr, redacted from errors, never returned.
SECRET_FIELDS = tuple(
    name for name, info in ConnectionFields.model_fields.items() if SecretStr in typing.get_args(info.annotation)
)


class ConnectionSettings(ConnectionFields):
    """A CDF project, its base URL and the credentials to call it with.

    Give ``base_url`` or ``cluster`` (``https://{cluster}.cognitedata.com``), and either OAuth client
    credentials (``token_url``, ``client_id``, ``client_secret``; optional ``scopes``/``audience``) or a
    static bearer ``token``. After validation ``base_url`` is always set and ``scopes`` defaults to
    ``[f"{base_url}/.default"]`` for OAuth.

    >>> s = ConnectionSettings(project="p", cluster="westeurope-1", token="static-abc")
    >>> s.base_url
    'https://westeurope-1.cognitedata.com'
    """

    model_config = ConfigDict(extra="forbid", validate_default=True, hide_input_in_errors=True)

    project: str  # required here; every other connection field is inherited as optional
    connect_timeout: float = Field(default=5.0, gt=0, description="seconds to establish a connection")
    read_timeout: float = Field(default=30.0, gt=0, description="seconds to wait for a reply")
    max_retries: int = Field(default=5, ge=0, description="retries of one request (not counting the first)")
    max_retry_wait: float = Field(
        default=60.0, ge=0, description="seconds one request may spend in retries, backoff included"
    )
    allow_insecure_http: bool = Field(
        default=False,
        description="allow plain http:// to hosts other than loopback (tokens and secrets then cross unencrypted)",
    )

    @field_validator("project")
    @classmethod
    def _check_project(cls, value: str) -> str:
        if not value.strip() or value != value.strip():
            raise ValueError("project must be a non-empty name without surrounding whitespace")
        return value

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.rstrip("/")
        if not _BASE_URL_RE.match(value):
            raise ValueError(
                f"base_url {value!r} is not a valid URL: expected http(s)://host[:port] with a lower-case "
                "host, "
                "e.g. https://westeurope-1.cognitedata.com"
            )
        return value

    @field_validator("cluster")
    @classmethod
    def _check_cluster(cls, value: str | None) -> str | None:
        if value is not None and not _CLUSTER_RE.match(value):
            raise ValueError(f"cluster {value!r} is not a valid cluster name (e.g. 'westeurope-1', 'api')")
        return value

    @field_validator("token_url")
    @classmethod
    def _check_token_url(cls, value: str | None) -> str | None:
        if value is not None and not _HTTP_URL_RE.match(value):
            raise ValueError(f"token_url {value!r} is not a valid http(s) URL")
        return value

    @field_validator("client_id", "audience")
    @classmethod
    def _check_non_empty(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("must not be empty; leave it out instead")
        return value

    @field_validator("scopes")
    @classmethod
    def _check_scopes(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and (not value or any(not s.strip() or " " in s for s in value)):
            raise ValueError("scopes must be a non-empty list of scopes, each without spaces")
        return value

    @model_validator(mode="after")
    def _check_combination(self) -> ConnectionSettings:
        if self.base_url and self.cluster:
            raise ValueError("give either base_url or cluster, not both")
        if not self.base_url:
            if not self.cluster:
                raise ValueError("base_url or cluster is required (e.g. cluster='westeurope-1')")
            self.base_url = f"https://{self.cluster}.cognitedata.com"
        if self.client_secret is not None and not self.client_secret.get_secret_value():
            raise ValueError("client_secret must not be empty")
        if self.token is not None and not self.token.get_secret_value():
            raise ValueError("token must not be empty")

        given = [name for name in OAUTH_FIELDS if getattr(self, name) is not None]
        extras = [name for name in OAUTH_OPTIONS if getattr(self, name) is not None]
        if self.token is not None:
            if given or extras:
                raise ValueError(
                    f"give either token (static token) or OAuth client credentials, not both: "
                    f"token was given together with {', '.join(given + extras)}"
                )
            return self
        if not given:
            raise ValueError(
                "no credentials: give token_url, client_id and client_secret (OAuth client credentials) "
                "or token (static token)"
            )
        missing = [name for name in OAUTH_FIELDS if name not in given]
        if missing:
            raise ValueError(
                f"OAuth client credentials are incomplete: {', '.join(missing)} missing "
                f"(given: {', '.join(given)}); token_url, client_id and client_secret go together"
            )
        if self.scopes is None:
            self.scopes = [f"{self.base_url}/.default"]
        return self

    @model_validator(mode="after")
    def _check_encrypted(self) -> ConnectionSettings:
        # Bearer tokens go to base_url and client secrets to token_url: plain http only where nothing leaves
        # the machine (the emulator), unless the user said otherwise.
        if self.allow_insecure_http:
            return self
        for name in ("base_url", "token_url"):
            url = getattr(self, name)
            if url is not None and not secure_or_loopback(url):
                raise ValueError(
                    f"{name} {url!r} uses plain http to a host that is not this machine, so "
                    f"{'bearer tokens' if name == 'base_url' else 'the client secret'} would cross the network "
                    f"unencrypted: use https, or allow it explicitly with {INSECURE_HTTP_SETTING}"
                )
        return self

    @property
    def uses_oauth(self) -> bool:
        """True for OAuth client credentials, False for a static token."""
        return self.token is None

    @property
    def api_base(self) -> str:
        """``{base_url}/api/v1/projects/{project}``, with the project URL-encoded."""
        from urllib.parse import quote

        return f"{self.base_url}/api/v1/projects/{quote(self.project, safe='')}"
