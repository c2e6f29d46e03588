"""ConnectionSettings: which combinations are valid, and what the errors say."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

from pulumi_cdf_workflows.cdf import ConnectionSettings
from pulumi_cdf_workflows.cdf.settings import secure_or_loopback

OAUTH: dict[str, Any] = {
    "token_url": "https://login.example.com/tenant/oauth2/v2.0/token",
    "client_id": "my-client",
    "client_secret": "s3cr3t-value",
}


def _error(**kwargs: Any) -> str:
    with pytest.raises(ValidationError) as info:
        ConnectionSettings(**kwargs)
    return str(info.value)


def test_cluster_becomes_base_url() -> None:
    s = ConnectionSettings(project="p", cluster="westeurope-1", **OAUTH)
    assert s.base_url == "https://westeurope-1.cognitedata.com"


def test_trailing_slash_is_stripped() -> None:
    s = ConnectionSettings(project="p", base_url="http://127.0.0.1:8123/", token="static-x")
    assert s.base_url == "http://127.0.0.1:8123"
    assert s.api_base == "http://127.0.0.1:8123/api/v1/projects/p"


def test_default_scopes_follow_base_url() -> None:
    s = ConnectionSettings(project="p", cluster="api", **OAUTH)
    assert s.scopes == ["https://api.cognitedata.com/.default"]


def test_explicit_scopes_and_audience_are_kept() -> None:
    s = ConnectionSettings(project="p", cluster="api", scopes=["a/.default", "b"], audience="aud", **OAUTH)
    assert s.scopes == ["a/.default", "b"]
    assert s.audience == "aud"


def test_defaults_for_timeouts_and_retries() -> None:
    s = ConnectionSettings(project="p", cluster="api", token="static-x")
    assert (s.connect_timeout, s.read_timeout, s.max_retries, s.max_retry_wait) == (5.0, 30.0, 5, 60.0)


@pytest.mark.parametrize(
    "base_url", ["ftp://x.cognitedata.com", "https://Upper.Case.com", "not a url", "https://x.com?q=1"]
)
def test_invalid_base_url_names_the_field(base_url: str) -> None:
    message = _error(project="p", base_url=base_url, token="static-x")
    assert "base_url" in message


def test_invalid_cluster_names_the_field() -> None:
    assert "cluster" in _error(project="p", cluster="West Europe", token="static-x")


def test_base_url_and_cluster_together_are_refused() -> None:
    message = _error(project="p", base_url="https://a.cognitedata.com", cluster="a", token="static-x")
    assert "base_url" in message and "cluster" in message


def test_neither_base_url_nor_cluster() -> None:
    message = _error(project="p", token="static-x")
    assert "base_url or cluster is required" in message


def test_empty_project_names_the_field() -> None:
    assert "project" in _error(project=" ", cluster="api", token="static-x")


def test_neither_token_nor_oauth() -> None:
    message = _error(project="p", cluster="api")
    assert "token_url" in message and "client_secret" in message and "token" in message


def test_token_and_oauth_together_are_refused() -> None:
    message = _error(project="p", cluster="api", token="static-x", **OAUTH)
    assert "not both" in message and "token_url" in message


def test_token_with_scopes_is_refused() -> None:
    assert "scopes" in _error(project="p", cluster="api", token="static-x", scopes=["x"])


@pytest.mark.parametrize("left_out", ["token_url", "client_id", "client_secret"])
def test_half_of_oauth_names_the_missing_field(left_out: str) -> None:
    partial = {k: v for k, v in OAUTH.items() if k != left_out}
    message = _error(project="p", cluster="api", **partial)
    assert f"{left_out} missing" in message


def test_invalid_token_url_names_the_field() -> None:
    assert "token_url" in _error(project="p", cluster="api", **(OAUTH | {"token_url": "login.example.com"}))


def test_non_positive_timeout_names_the_field() -> None:
    assert "read_timeout" in _error(project="p", cluster="api", token="static-x", read_timeout=0)


def test_unknown_field_is_refused() -> None:
    assert "clientSecret" in _error(project="p", cluster="api", token="static-x", clientSecret="x")


def test_secrets_never_show_in_repr_str_or_errors() -> None:
    s = ConnectionSettings(project="p", cluster="api", **OAUTH)
    t = ConnectionSettings(project="p", cluster="api", token=SecretStr("static-very-secret"))
    for text in (repr(s), str(s), repr(t), str(t), repr(s.model_dump()), repr(t.model_dump())):
        assert "s3cr3t-value" not in text
        assert "static-very-secret" not in text
    message = _error(project="p", cluster="api", token="static-very-secret", **OAUTH)
    assert "s3cr3t-value" not in message and "static-very-secret" not in message


@pytest.mark.parametrize(
    ("field", "url", "what"),
    [
        ("base_url", "http://api.cognitedata.com", "bearer tokens"),
        ("base_url", "http://10.0.0.5:8080", "bearer tokens"),
        ("token_url", "http://login.example.com/token", "the client secret"),
    ],
)
def test_plain_http_to_another_host_is_refused_naming_the_opt_in(field: str, url: str, what: str) -> None:
    settings: dict[str, Any] = {"project": "p", "base_url": "https://api.cognitedata.com", **OAUTH, field: url}
    message = _error(**settings)
    assert f"{field} {url!r} uses plain http" in message
    assert what in message
    assert "cdf:allowInsecureHttp" in message and "CDF_ALLOW_INSECURE_HTTP" in message


@pytest.mark.parametrize("host", ["127.0.0.1:8123", "127.8.9.1", "localhost:9000"])
def test_plain_http_to_this_machine_is_accepted(host: str) -> None:
    settings = ConnectionSettings(project="p", base_url=f"http://{host}", **{**OAUTH, "token_url": f"http://{host}/t"})
    assert settings.base_url == f"http://{host}"


def test_plain_http_elsewhere_is_accepted_when_allowed() -> None:
    settings = ConnectionSettings(
        project="p", base_url="http://cdf.internal", token="static-x", allow_insecure_http=True
    )
    assert settings.base_url == "http://cdf.internal"


def test_ipv6_loopback_counts_as_this_machine() -> None:
    assert secure_or_loopback("http://[::1]:8080/token")
    assert not secure_or_loopback("http://[2001:db8::1]/token")
    assert secure_or_loopback("https://login.example.com/token")
