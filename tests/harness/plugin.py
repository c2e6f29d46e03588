"""Drive a real provider plugin over gRPC: the Python dynamic-provider plugin (``python -u -m pulumi.dynamic``) by
default, or any other plugin command (this package's ``pulumi-resource-cdf-workflows``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import grpc
from google.protobuf import empty_pb2
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from ._values import deserialize, serialize, wrap_secret
from .results import CHANGES, CheckResult, ConfigureResult, DiffResult, ReadResult

REPO_ROOT = Path(__file__).resolve().parents[2]
TESTS_DIR = REPO_ROOT / "tests"

_MAX_MESSAGE = 400 * 1024 * 1024


class PluginError(Exception):
    """A gRPC call to the plugin failed. ``details`` is the Python traceback the plugin sent."""

    def __init__(self, method: str, code: grpc.StatusCode, details: str) -> None:
        super().__init__(f"{method} failed with {code}: {details}")
        self.method = method
        self.code = code
        self.details = details


class PluginStartError(RuntimeError):
    """The plugin process exited or printed no port in time."""


def _split_urn(urn: str) -> tuple[str, str]:
    """Return ``(type, name)`` of ``urn:pulumi:<stack>::<project>::<qualified type>::<name>``."""
    parts = urn.split("::", 3)
    if len(parts) != 4 or not parts[0].startswith("urn:pulumi:"):
        raise ValueError(f"not a Pulumi URN: {urn!r}")
    return parts[2].split("$")[-1], parts[3]


def plugin_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """``os.environ`` plus ``extra``, with the repo root and ``tests/`` prepended to ``PYTHONPATH``
    so providers pickled by reference (``pulumi_cdf_workflows...``, ``harness...``,
    ``tests.harness...``) import in the plugin."""
    env = dict(os.environ)
    env.update(extra or {})
    paths = [str(REPO_ROOT), str(TESTS_DIR)]
    if env.get("PYTHONPATH"):
        paths.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(paths)
    return env


class PluginProcess:
    """A real plugin in a subprocess, as the engine launches it: the dynamic-provider plugin, or ``command``.

    Use as a context manager. All methods take and return plain dicts and are safe to call from several
    threads at once (the dynamic plugin itself serves 4 calls at a time). Outgoing property maps have secret
    wrappers stripped (as the engine does for the dynamic plugin: it answers ``acceptSecrets: false``) unless
    ``send_secrets`` (a plugin that accepts secrets gets them wrapped); numbers come back as floats; unknowns
    come back as :data:`harness.UNKNOWN`; secrets in answers keep their wrapper (see :func:`harness.is_secret`).
    """

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        cwd: str | os.PathLike[str] | None = None,
        start_timeout: float = 20.0,
        call_timeout: float = 60.0,
        command: Sequence[str] | None = None,
        send_secrets: bool = False,
    ) -> None:
        self._env = plugin_env(env)
        self._command = list(command) if command is not None else [sys.executable, "-u", "-m", "pulumi.dynamic"]
        self._send_secrets = send_secrets
        self._cwd = str(cwd) if cwd is not None else str(REPO_ROOT)
        self._start_timeout = start_timeout
        self.call_timeout = call_timeout
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._channel: Any = None
        self._stub: Any = None
        self.port: int | None = None

    # -- lifecycle -------------------------------------------------------------------------------

    def __enter__(self) -> PluginProcess:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def stdout_path(self) -> Path:
        return self._tmpdir() / "stdout"

    @property
    def stderr_path(self) -> Path:
        return self._tmpdir() / "stderr"

    def _tmpdir(self) -> Path:
        if self._tmp is None:
            raise RuntimeError("plugin not started")
        return Path(self._tmp.name)

    def start(self) -> None:
        if self._proc is not None:
            raise RuntimeError("plugin already started")
        self._tmp = tempfile.TemporaryDirectory(prefix="pulumi-dynamic-plugin-")
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self._proc = subprocess.Popen(
                self._command,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                env=self._env,
                cwd=self._cwd,
            )
        try:
            self.port = self._wait_for_port()
            self._channel = grpc.insecure_channel(
                f"127.0.0.1:{self.port}",
                options=[
                    ("grpc.max_receive_message_length", _MAX_MESSAGE),
                    ("grpc.max_send_message_length", _MAX_MESSAGE),
                ],
            )
            grpc.channel_ready_future(self._channel).result(timeout=self._start_timeout)
            self._stub = provider_pb2_grpc.ResourceProviderStub(self._channel)
        except BaseException:
            self.stop()
            raise

    def _wait_for_port(self) -> int:
        assert self._proc is not None
        deadline = time.monotonic() + self._start_timeout
        while time.monotonic() < deadline:
            text = self.stdout_path.read_bytes()
            if b"\n" in text:
                first = text.split(b"\n", 1)[0].strip()
                try:
                    return int(first)
                except ValueError as exc:
                    raise PluginStartError(
                        f"plugin printed {first!r} instead of a port; stderr:\n{self.stderr_text()}"
                    ) from exc
            if self._proc.poll() is not None:
                raise PluginStartError(f"plugin exited with {self._proc.returncode}; stderr:\n{self.stderr_text()}")
            time.sleep(0.02)
        raise PluginStartError(f"plugin printed no port in {self._start_timeout}s")

    def stop(self) -> None:
        """Close the channel and kill the plugin (the engine kills plugins too). Idempotent.
        The captured stdout/stderr stay readable after ``stop``; they are kept in memory."""
        if self._channel is not None:
            self._channel.close()
            self._channel = None
            self._stub = None
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.terminate()
                try:
                    self._proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self._proc.kill()
                    self._proc.wait(timeout=5)
            self._proc = None
        if self._tmp is not None:
            self._final_stdout = self.stdout_path.read_text(errors="replace")
            self._final_stderr = self.stderr_path.read_text(errors="replace")
            self._tmp.cleanup()
            self._tmp = None

    @property
    def returncode(self) -> int | None:
        return None if self._proc is None else self._proc.poll()

    @property
    def pid(self) -> int | None:
        """The plugin's process id while it runs (benchmarks read its CPU time from /proc)."""
        return None if self._proc is None else self._proc.pid

    def stderr_text(self) -> str:
        """Everything the plugin wrote to stderr so far (or until ``stop``)."""
        if self._tmp is None:
            return getattr(self, "_final_stderr", "")
        return self.stderr_path.read_text(errors="replace")

    def stdout_text(self) -> str:
        """Everything the plugin wrote to stdout (the first line is the port)."""
        if self._tmp is None:
            return getattr(self, "_final_stdout", "")
        return self.stdout_path.read_text(errors="replace")

    # -- calls -----------------------------------------------------------------------------------

    def _call(self, method: str, request: Any) -> Any:
        if self._stub is None:
            raise RuntimeError("plugin not started")
        try:
            return getattr(self._stub, method)(request, timeout=self.call_timeout)
        except grpc.RpcError as exc:
            raise PluginError(method, exc.code(), exc.details() or "") from None

    def _serialize(self, props: Mapping[str, Any]) -> Any:
        return serialize(props, keep_secrets=self._send_secrets)

    def get_plugin_info(self) -> str:
        return str(self._call("GetPluginInfo", empty_pb2.Empty()).version)

    def configure(self, config: Mapping[str, Any], *, secret_keys: Iterable[str] = ()) -> ConfigureResult:
        """Send the stack config (keys like ``"cdf:project"``) as the engine does: in ``args`` (keys in
        ``secret_keys`` wrapped as secrets, which the plugin unwraps) and as string ``variables``.
        The plugin applies it to each provider when it first deserializes that provider, so call this
        before the first resource call."""
        secrets = set(secret_keys)
        args = {k: wrap_secret(v) if k in secrets else v for k, v in config.items()}
        request = provider_pb2.ConfigureRequest(
            variables={k: v if isinstance(v, str) else str(v) for k, v in config.items()},
            acceptSecrets=True,
            acceptResources=True,
            sends_old_inputs=True,
            sends_old_inputs_to_delete=True,
        )
        request.args.CopyFrom(serialize(args, keep_secrets=True))
        resp = self._call("Configure", request)
        return ConfigureResult(
            accept_secrets=bool(resp.acceptSecrets),
            accept_resources=bool(resp.acceptResources),
            supports_preview=bool(resp.supportsPreview),
        )

    def check(self, urn: str, olds: Mapping[str, Any], news: Mapping[str, Any]) -> CheckResult:
        type_, name = _split_urn(urn)
        resp = self._call(
            "Check",
            provider_pb2.CheckRequest(
                urn=urn, name=name, type=type_, olds=self._serialize(olds), news=self._serialize(news)
            ),
        )
        return CheckResult(
            inputs=deserialize(resp.inputs),
            failures=[(f.property, f.reason) for f in resp.failures],
        )

    def diff(
        self,
        urn: str,
        id: str,
        olds: Mapping[str, Any],
        news: Mapping[str, Any],
        *,
        old_inputs: Mapping[str, Any] | None = None,
        ignore_changes: Iterable[str] = (),
    ) -> DiffResult:
        type_, name = _split_urn(urn)
        request = provider_pb2.DiffRequest(
            id=id,
            urn=urn,
            name=name,
            type=type_,
            olds=self._serialize(olds),
            news=self._serialize(news),
            ignoreChanges=list(ignore_changes),
        )
        if old_inputs is not None:
            request.old_inputs.CopyFrom(self._serialize(old_inputs))
        resp = self._call("Diff", request)
        return DiffResult(
            changes=CHANGES.get(resp.changes, "UNKNOWN"),
            replaces=list(resp.replaces),
            delete_before_replace=bool(resp.deleteBeforeReplace),
        )

    def create(
        self, urn: str, props: Mapping[str, Any], timeout: float = 0.0, *, preview: bool = False
    ) -> tuple[str, dict[str, Any]]:
        """Returns ``(id, outs)``. ``timeout`` is the request's custom timeout in seconds (0 = none);
        the gRPC deadline is ``call_timeout``. ``preview`` asks what a preview would show."""
        type_, name = _split_urn(urn)
        resp = self._call(
            "Create",
            provider_pb2.CreateRequest(
                urn=urn, name=name, type=type_, properties=self._serialize(props), timeout=timeout, preview=preview
            ),
        )
        return str(resp.id), deserialize(resp.properties)

    def read(
        self,
        urn: str,
        id: str,
        props: Mapping[str, Any] | None,
        inputs: Mapping[str, Any] | None = None,
    ) -> ReadResult:
        """Refresh passes the stored outputs as ``props``; ``Resource.get`` passes ``props=None`` (or
        ``{}``) and the program's inputs as ``inputs``."""
        type_, name = _split_urn(urn)
        request = provider_pb2.ReadRequest(id=id, urn=urn, name=name, type=type_)
        if props is not None:
            request.properties.CopyFrom(self._serialize(props))
        if inputs is not None:
            request.inputs.CopyFrom(self._serialize(inputs))
        resp = self._call("Read", request)
        return ReadResult(
            id=str(resp.id) or None,
            outs=deserialize(resp.properties),
            inputs=deserialize(resp.inputs) if resp.HasField("inputs") else None,
        )

    def update(
        self,
        urn: str,
        id: str,
        olds: Mapping[str, Any],
        news: Mapping[str, Any],
        *,
        old_inputs: Mapping[str, Any] | None = None,
        timeout: float = 0.0,
    ) -> dict[str, Any]:
        type_, name = _split_urn(urn)
        request = provider_pb2.UpdateRequest(
            id=id,
            urn=urn,
            name=name,
            type=type_,
            olds=self._serialize(olds),
            news=self._serialize(news),
            timeout=timeout,
        )
        if old_inputs is not None:
            request.old_inputs.CopyFrom(self._serialize(old_inputs))
        resp = self._call("Update", request)
        return deserialize(resp.properties)

    def delete(
        self,
        urn: str,
        id: str,
        props: Mapping[str, Any],
        *,
        old_inputs: Mapping[str, Any] | None = None,
        timeout: float = 0.0,
    ) -> None:
        type_, name = _split_urn(urn)
        request = provider_pb2.DeleteRequest(
            id=id, urn=urn, name=name, type=type_, properties=self._serialize(props), timeout=timeout
        )
        if old_inputs is not None:
            request.old_inputs.CopyFrom(self._serialize(old_inputs))
        self._call("Delete", request)

    def get_schema(self) -> dict[str, Any]:
        """The plugin's package schema, parsed."""
        schema: dict[str, Any] = json.loads(self._call("GetSchema", provider_pb2.GetSchemaRequest(version=0)).schema)
        return schema

    def cancel(self) -> None:
        self._call("Cancel", empty_pb2.Empty())
