"""What every resource's provider shares: stack configuration, where and as whom to reach CDF, one client per
connection per plugin process, progress on stderr, canonical comparison, and errors shown without a traceback.

Pulumi pickles each provider instance into every resource's state and runs it in the dynamic-provider plugin
(`python -m pulumi.dynamic`), so providers hold nothing: configuration arrives in `configure()` and clients
are built lazily and cached in this module.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import sys
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from pulumi.dynamic import (
    CheckFailure,
    ConfigureRequest,
    ResourceProvider,
)
from pydantic import BaseModel

from pulumi_cdf_workflows.cdf.errors import CdfError
from pulumi_cdf_workflows.cdf.settings import SECRET_FIELDS, ConnectionSettings
from pulumi_cdf_workflows.lifecycle import plugin_errors, plugin_host
from pulumi_cdf_workflows.lifecycle.connection import (
    STACK_CONFIG_KEYS,
    ConnectionConfigError,
    config_key,
    resolve_connection,
    validate_on_preview,
)
from pulumi_cdf_workflows.lifecycle.permissions import (
    ANYWHERE,
    WORKFLOWS,
    DataSet,
    Principal,
    first_notice,
    missing,
    principal_of,
    refusal,
    sign_in_problem,
)
from pulumi_cdf_workflows.lifecycle.properties import OnChange, arguments, output_names, secret_arguments
from pulumi_cdf_workflows.validation.fields import (
    ClientCredentialsArgs,
    ConnectionArgs,
    canonical_json,
    contains_unknown,
    is_unknown,
)

if TYPE_CHECKING:
    from pulumi_cdf_workflows.cdf.client import CdfClient
    from pulumi_cdf_workflows.cdf.models import CdfClientCredentials

# Connection fields that say where a resource lives (the rest say as whom), and the ones that can set each.
TARGET_FIELDS = {"project": ("project",), "base_url": ("base_url", "cluster")}


class ProviderError(Exception):
    """A failure the user can act on; the plugin shows its message without a Python traceback."""


plugin_errors.show_without_traceback(ProviderError)

_clients: dict[tuple[str, ...], CdfClient] = {}
_clients_lock = threading.Lock()


def _client_key(settings: ConnectionSettings) -> tuple[str, ...]:
    key = []
    for name, value in sorted(settings):
        secret = getattr(value, "get_secret_value", None)
        key.append(f"{name}={secret() if secret else value!r}")
    return tuple(key)


def client_for(settings: ConnectionSettings) -> CdfClient:
    """One client (and so one keep-alive session) per connection per plugin process. The client (requests, the
    API's models) is imported here, on first use: a check that asks CDF nothing does not load it."""
    from pulumi_cdf_workflows.cdf.client import CdfClient

    key = _client_key(settings)
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            client = _clients[key] = CdfClient(settings)
        return client


def report(label: str, message: str) -> None:
    sink = plugin_host.progress_to.get()
    if sink is not None:  # the provider plugin logs it on the resource's own row
        sink(message)
        return
    # The engine shows a dynamic provider's stderr lines in `pulumi up` output as they arrive.
    print(f"[{label}] {message}", file=sys.stderr, flush=True)


def label(props: Mapping[str, Any], default: str, resource: str | None = None) -> str:
    """How progress lines name a resource: `<stack>/<name>` when known (the provider carries it; state written
    by 0.1 kept it in `pulumi_resource`), else its CDF id."""
    found = resource or props.get("pulumi_resource") or props.get("external_id") or props.get("workflow_external_id")
    return str(found or default)


def public_connection(connection: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The connection without its secrets: what outputs may hold."""
    if not connection:
        return None
    return {k: v for k, v in connection.items() if k not in SECRET_FIELDS and v is not None}


def same(old: Any, new: Any) -> bool:
    """Equal by meaning: key order and 1 vs 1.0 do not count, and None, {} and [] are all "nothing"."""
    if is_unknown(new) or contains_unknown(new):
        return False
    empty: tuple[Any, ...] = (None, {}, [])
    if old in empty and new in empty:
        return True
    return canonical_json(old) == canonical_json(new)


_FINGERPRINT_SCHEME = "hmac-sha256"
# State written by 0.1.0 holds PBKDF2 fingerprints without a scheme; they are still compared as such.
_LEGACY_FINGERPRINT_ROUNDS = 20_000


def _absent(value: Any) -> bool:
    return value is None or value == {} or value == ""


def _fingerprint(value: Any, salt: str) -> str:
    """A keyed hash, so state can tell that a credential changed without holding it. Client secrets, nonces
    and tokens are long random values: a fast keyed hash with a random key per resource is enough."""
    return hmac.new(salt.encode(), canonical_json(value).encode(), hashlib.sha256).hexdigest()[:32]


def fingerprints(props: Mapping[str, Any], names: Iterable[str]) -> dict[str, str]:
    """Keyed hashes of the secret-bearing inputs that are given, so state can tell that one changed."""
    result = {"scheme": _FINGERPRINT_SCHEME, "salt": secrets.token_hex(16)}
    for name in names:
        if not _absent(props.get(name)):
            result[name] = _fingerprint(props.get(name), result["salt"])
    return result


def fingerprints_changed(stored: Any, values: Mapping[str, Any], names: Iterable[str]) -> list[str]:
    """The secret-bearing inputs among `names` whose value no longer matches the fingerprint state keeps (one
    still unknown in a preview counts as changed). None when state keeps no fingerprints."""
    if not isinstance(stored, Mapping) or "salt" not in stored:
        return []
    return [
        name
        for name in names
        if contains_unknown(values.get(name)) or not fingerprint_matches(stored, name, values.get(name))
    ]


def cdf_credentials(credentials: ClientCredentialsArgs | None) -> CdfClientCredentials | None:
    """Checked client credentials as the client takes them."""
    from pulumi_cdf_workflows.cdf.models import CdfClientCredentials

    if credentials is None:
        return None
    return CdfClientCredentials(client_id=credentials.client_id, client_secret=credentials.client_secret)


def fingerprint_matches(stored: Mapping[str, Any], name: str, value: Any) -> bool:
    """Does `value` match the fingerprint stored for input `name` (absent matches absent)?"""
    salt = str(stored["salt"])
    if stored.get("scheme") == _FINGERPRINT_SCHEME:
        if _absent(value):
            return stored.get(name) is None
        return hmac.compare_digest(_fingerprint(value, salt), str(stored.get(name)))
    digest = hashlib.pbkdf2_hmac("sha256", canonical_json(value).encode(), salt.encode(), _LEGACY_FINGERPRINT_ROUNDS)
    return digest.hex()[:32] == stored.get(name)


class CdfResourceProvider(ResourceProvider):
    """Base of this package's providers: the stack configuration and the connection it resolves to.

    Each resource pickles its own provider instance into its state; the instance holds only `<stack>/<name>`
    and the Pulumi project, which name the resource in progress lines and run markers (the dynamic provider
    is not told them).

    A subclass names its resource's `args_model` and `outputs_model` (see `properties`); the lists below are
    derived from them, so a property is declared in one place.
    """

    args_model: ClassVar[type[BaseModel]]
    outputs_model: ClassVar[type[BaseModel]]
    # Derived from the models:
    secret_inputs: ClassVar[tuple[str, ...]] = ("connection",)  # secret in state, never an output
    replace_properties: ClassVar[tuple[str, ...]] = ()  # a change replaces
    update_properties: ClassVar[tuple[str, ...]] = ()  # a change is written in place (secret ones: fingerprints)
    setting_properties: ClassVar[tuple[str, ...]] = ()  # a change is stored; nothing is written or run
    outputs: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "args_model" in cls.__dict__:
            secret = secret_arguments(cls.args_model)
            cls.secret_inputs = secret
            cls.replace_properties = arguments(cls.args_model, OnChange.REPLACE)
            cls.update_properties = tuple(p for p in arguments(cls.args_model, OnChange.UPDATE) if p not in secret)
            cls.setting_properties = tuple(p for p in arguments(cls.args_model, OnChange.STORE) if p not in secret)
        if "outputs_model" in cls.__dict__:
            cls.outputs = output_names(cls.outputs_model)

    def __init__(self, resource: str | None = None, pulumi_project: str | None = None) -> None:
        super().__init__()
        self.resource = resource
        self.pulumi_project = pulumi_project

    def _resource_identity(self) -> str | None:
        """`<project>/<stack>/<name>`: which resource of which stack this is (None for state written by 0.1)."""
        resource, project = getattr(self, "resource", None), getattr(self, "pulumi_project", None)
        return f"{project}/{resource}" if resource and project else None

    def _label(self, props: Mapping[str, Any]) -> str:
        return label(props, type(self).__name__, getattr(self, "resource", None))

    def _public(self, props: Mapping[str, Any]) -> dict[str, Any]:
        """The props as outputs may hold them: no provider blob, no secret-bearing input."""
        outs = {k: v for k, v in props.items() if k != "__provider" and k not in self.secret_inputs}
        outs["connection"] = public_connection(props.get("connection"))
        return outs

    def configure(self, req: ConfigureRequest) -> None:
        config: dict[str, Any] = {}
        for key in STACK_CONFIG_KEYS:
            value = req.config.get(key)
            if value is not None:
                config[key] = value
        self._stack_config = config

    def _config(self) -> dict[str, Any]:
        return getattr(self, "_stack_config", {})

    def _settings(self, connection: ConnectionArgs | Mapping[str, Any] | None) -> ConnectionSettings:
        """The resource's connection > stack config > environment."""
        if connection is not None and not isinstance(connection, ConnectionArgs):
            connection = ConnectionArgs.model_validate(
                {k: v for k, v in connection.items() if v is not None and k in ConnectionArgs.model_fields}
            )
        try:
            return resolve_connection(connection, self._config(), os.environ)
        except ConnectionConfigError as exc:
            raise ProviderError(str(exc)) from None

    def _checked_settings(self, inputs: Mapping[str, Any], failures: list[CheckFailure]) -> ConnectionSettings | None:
        """For check: the settings a known connection resolves to, or a failure on `connection` (which also names
        plain http to another host) before anything is sent. None while other failures or unknowns remain."""
        connection = inputs.get("connection")
        if failures or contains_unknown(connection):
            return None
        try:
            return self._settings(connection)
        except ProviderError as exc:
            failures.append(CheckFailure("connection", str(exc)))
            return None

    def _permission_failures(
        self,
        settings: ConnectionSettings,
        props: Mapping[str, Any],
        kind: str,
        operation: str,
        id_: str,
        data_set: Callable[[Principal], DataSet],
        credentials: ClientCredentialsArgs | None = None,
    ) -> list[CheckFailure]:
        """For check, with `cdf:validateOnPreview` on: a failure when the deploying principal lacks what `operation`
        needs. `data_set` finds the workflow's data set (it may read CDF) when the principal's scope depends on it.
        When the token cannot be inspected, says so once and checks nothing: it never fails a deploy that could
        succeed. A resource's own `credentials` must sign in: its session is made with them at `up`."""
        if not validate_on_preview(self._config()):
            return []
        failures = self._credentials_failures(settings, kind, credentials)
        key = _client_key(settings)
        principal = principal_of(settings, lambda: client_for(settings).inspect_token(), key)
        if isinstance(principal, str):
            if first_notice(key):
                report(self._label(props), f"permissions were not checked before the deploy: {principal}")
            return failures
        where = data_set(principal)
        lacks = missing(principal, kind, operation, settings.project, where)
        if lacks:
            failures.append(
                CheckFailure("", refusal(kind, operation, id_, where, principal.name, settings.project, lacks))
            )
        return failures

    @staticmethod
    def _credentials_failures(
        settings: ConnectionSettings, kind: str, credentials: ClientCredentialsArgs | None
    ) -> list[CheckFailure]:
        """A failure when the resource's own client credentials cannot sign in at the connection's token URL (read
        only: the identity provider alone is asked, once per credentials per process). Only OAuth connections have
        a token URL to ask."""
        if credentials is None or not settings.uses_oauth:
            return []
        theirs = settings.model_copy(
            update={"client_id": credentials.client_id, "client_secret": credentials.client_secret}
        )
        problem = sign_in_problem(lambda: client_for(theirs).sign_in(), _client_key(theirs))
        if problem is None:
            return []
        return [
            CheckFailure(
                "client_credentials",
                f"client {credentials.client_id} cannot sign in at {settings.token_url}: {problem}. The {kind}'s "
                "session is made with these credentials at `up`, and CDF would refuse it",
            )
        ]

    def _workflow_data_set(self, settings: ConnectionSettings, workflow_external_id: str, who: Principal) -> DataSet:
        """The data set of a workflow in CDF, for the permission check, read only when the principal's scope depends
        on it: None when in none; ANYWHERE when it is not there yet (this program may deploy it) or unreadable."""
        if who.in_all_of_project(WORKFLOWS, "WRITE", settings.project):
            return None
        try:
            found = client_for(settings).retrieve_workflow(workflow_external_id)
        except CdfError:
            return ANYWHERE
        return ANYWHERE if found is None else found.data_set_id

    def _settings_where_it_lives(self, props: Mapping[str, Any]) -> ConnectionSettings:
        """The project and URL stored at create, with the credentials the connection resolves to now."""
        fields = ConnectionArgs.model_fields
        connection = {k: v for k, v in (props.get("connection") or {}).items() if v is not None and k in fields}
        if props.get("project") and props.get("base_url"):
            connection.update(project=props["project"], base_url=props["base_url"])
            connection.pop("cluster", None)
        return self._settings(connection)

    def _target_changes(self, olds: Mapping[str, Any], connection: Any, moving: str) -> list[str]:
        """["connection"] when the program or stack config now points the resource at another project or URL.
        A change that comes only from the shell's environment keeps it where it lives, and says so: an `up`
        from another shell must not run or deploy anything twice."""
        if contains_unknown(connection):
            # Only an unknown project or URL can move it; unknown credentials leave it where it lives.
            if not isinstance(connection, Mapping) or any(
                contains_unknown(connection.get(field)) for fields in TARGET_FIELDS.values() for field in fields
            ):
                return ["connection"]
            connection = {k: v for k, v in connection.items() if not contains_unknown(v)}
        if not olds.get("project") or not olds.get("base_url"):
            return []
        try:
            settings = self._settings(connection)
        except (ProviderError, ValueError):
            return []  # check reports an unresolvable connection
        moved = [name for name in TARGET_FIELDS if getattr(settings, name) != olds[name]]
        if any(self._target_set_by_stack(name, connection) for name in moved):
            return ["connection"]
        if moved:
            report(
                self._label(olds),
                f"the environment now points at CDF project '{settings.project}' at {settings.base_url}; this "
                f"stays in '{olds['project']}' at {olds['base_url']}, where it was created, and nothing runs. To "
                f"move it, set cdf:project / cdf:baseUrl (or the resource's connection): that {moving}.",
            )
        return []

    def _target_set_by_stack(self, name: str, connection: Mapping[str, Any] | None) -> bool:
        """Did the program or the stack config choose this part of the target (not the shell's environment)?"""
        fields = TARGET_FIELDS[name]
        if connection and any(connection.get(field) for field in fields):
            return True
        config = self._config()
        return any(config.get(config_key(field)) for field in fields)
