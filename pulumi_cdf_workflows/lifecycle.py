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
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)

from pulumi_cdf_workflows import _plugin_errors
from pulumi_cdf_workflows.cdf import CdfClient, ConnectionSettings
from pulumi_cdf_workflows.cdf.errors import CdfError
from pulumi_cdf_workflows.cdf.settings import SECRET_FIELDS
from pulumi_cdf_workflows.config import STACK_CONFIG_KEYS, ConnectionConfigError, config_key, resolve_connection
from pulumi_cdf_workflows.inputs import ConnectionArgs, canonical_json, contains_unknown, is_unknown

# Connection fields that say where a resource lives (the rest say as whom), and the ones that can set each.
TARGET_FIELDS = {"project": ("project",), "base_url": ("base_url", "cluster")}


class ProviderError(Exception):
    """A failure the user can act on; the plugin shows its message without a Python traceback."""


_plugin_errors.show_without_traceback(ProviderError)

_clients: dict[tuple[str, ...], CdfClient] = {}
_clients_lock = threading.Lock()


def _client_key(settings: ConnectionSettings) -> tuple[str, ...]:
    key = []
    for name, value in sorted(settings):
        secret = getattr(value, "get_secret_value", None)
        key.append(f"{name}={secret() if secret else value!r}")
    return tuple(key)


def client_for(settings: ConnectionSettings) -> CdfClient:
    """One client (and so one keep-alive session) per connection per plugin process."""
    key = _client_key(settings)
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            client = _clients[key] = CdfClient(settings)
        return client


def report(label: str, message: str) -> None:
    # The engine shows a dynamic provider's stderr lines in `pulumi up` output as they arrive.
    print(f"[{label}] {message}", file=sys.stderr, flush=True)


def label(props: Mapping[str, Any], default: str) -> str:
    """How progress lines name a resource: `<stack>/<name>` when the resource passed it, else its id."""
    found = props.get("pulumi_resource") or props.get("external_id") or props.get("workflow_external_id")
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
    """Base of this package's providers: the stack configuration and the connection it resolves to."""

    # Inputs that carry secrets: the resource marks them secret in state and the provider never returns them
    # as outputs (the connection comes back without its secrets).
    secret_inputs: ClassVar[tuple[str, ...]] = ("connection",)

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
            return ["connection"]
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
                label(olds, type(self).__name__),
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


class UpsertProvider(CdfResourceProvider):
    """The lifecycle of a resource that CDF creates and updates with one upsert: Workflow, WorkflowVersion.

    check validates without calling CDF (a preview reads and writes nothing); diff replaces when an identity
    property or the place it lives (project, base URL set by the program or stack config) changes and updates
    in place otherwise; create and update upsert; refresh reads where it lives, and a resource CDF no longer
    has leaves the state (the next `up` creates it again); delete deletes, and "already gone" is fine.
    """

    kind = "resource"
    replace_properties: tuple[str, ...] = ()
    update_properties: tuple[str, ...] = ()

    # --- what each resource says -------------------------------------------------------------------------
    def _validate(self, props: Mapping[str, Any]) -> tuple[Any, list[tuple[str, str]]]:
        raise NotImplementedError

    def _resource_id(self, props: Mapping[str, Any]) -> str:
        raise NotImplementedError

    def _upsert(self, client: CdfClient, args: Any) -> dict[str, Any]:
        """Create or update in CDF; returns the outputs CDF's reply gives."""
        raise NotImplementedError

    def _retrieve(self, client: CdfClient, id_: str, props: Mapping[str, Any]) -> dict[str, Any] | None:
        raise NotImplementedError

    def _delete(self, client: CdfClient, id_: str, props: Mapping[str, Any]) -> None:
        raise NotImplementedError

    def _comparable(self, prop: str, value: Any) -> Any:
        """The value as CDF would store it, for diff (e.g. a definition with its defaults filled)."""
        return value

    # --- the lifecycle -----------------------------------------------------------------------------------
    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        _args, problems = self._validate(news)
        return CheckResult(news, [CheckFailure(prop, reason) for prop, reason in problems])

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        def changed(prop: str) -> bool:
            new = news.get(prop)
            return not same(self._comparable(prop, olds.get(prop)), self._comparable(prop, new))

        replaces = [p for p in self.replace_properties if changed(p)]
        replaces += self._target_changes(olds, news.get("connection"), f"deploys the {self.kind} there")
        updates = [p for p in self.update_properties if changed(p)]
        return DiffResult(changes=bool(replaces or updates), replaces=replaces, delete_before_replace=False)

    def _deploy(self, props: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        args, problems = self._validate(props)
        if problems or args is None:
            raise ProviderError("; ".join(f"{p}: {r}" for p, r in problems) or "inputs are still unknown")
        settings = self._settings(props.get("connection"))
        id_ = self._resource_id(props)
        try:
            from_cdf = self._upsert(client_for(settings), args)
        except CdfError as exc:
            raise ProviderError(f"Could not deploy {self.kind} {id_}: {exc}") from None
        outs = self._public(props)
        outs.update(from_cdf, project=settings.project, base_url=settings.base_url)
        return id_, outs

    def create(self, props: dict[str, Any]) -> CreateResult:
        id_, outs = self._deploy(props)
        return CreateResult(id_, outs)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(self._deploy(news)[1])

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        settings = self._settings_where_it_lives(props)
        try:
            found = self._retrieve(client_for(settings), id_, props)
        except CdfError as exc:
            where = f"CDF project '{settings.project}'"
            raise ProviderError(f"Could not read {self.kind} {id_} in {where}: {exc}") from None
        if found is None:
            if not props.get("project"):
                raise ProviderError(f"{self.kind} {id_} does not exist in CDF project '{settings.project}'")
            return ReadResult(None, {})  # gone: the engine forgets it, and the next `up` creates it again
        outs = self._public(props)
        outs.update(found, project=settings.project, base_url=settings.base_url)
        return ReadResult(id_, outs)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        settings = self._settings_where_it_lives(props)
        try:
            self._delete(client_for(settings), id_, props)
        except CdfError as exc:
            raise ProviderError(f"Could not delete {self.kind} {id_}: {exc}") from None
