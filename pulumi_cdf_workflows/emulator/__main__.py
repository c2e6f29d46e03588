"""Server mode: `python -m pulumi_cdf_workflows.emulator [--host H] [--port P] [--client ID:SECRET ...]
[--capabilities FILE]`."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any

from pulumi_cdf_workflows.emulator.capabilities import parse_client_capabilities
from pulumi_cdf_workflows.emulator.server import CdfEmulator


def _client(value: str) -> tuple[str, str]:
    client_id, sep, secret = value.partition(":")
    if not sep or not client_id or not secret:
        raise argparse.ArgumentTypeError("expected ID:SECRET")
    return client_id, secret


def _capabilities(path: str) -> dict[str, Any]:
    try:
        value = json.loads(Path(path).read_text(encoding="utf-8"))
        parse_client_capabilities(value)
    except (OSError, ValueError) as exc:
        raise argparse.ArgumentTypeError(f"{path}: {exc}") from exc
    result: dict[str, Any] = value
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pulumi_cdf_workflows.emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument(
        "--client",
        type=_client,
        action="append",
        default=None,
        metavar="ID:SECRET",
        help="accepted OAuth client (repeatable); without it any non-empty credentials work",
    )
    parser.add_argument(
        "--capabilities",
        type=_capabilities,
        default=None,
        metavar="FILE",
        help='a JSON object {"client id or token subject": [CDF capabilities]}; clients left out may do everything',
    )
    parser.add_argument("--task-duration", type=float, default=0.05, metavar="S", help="seconds per task")
    parser.add_argument("--token-ttl", type=float, default=3600, metavar="S")
    parser.add_argument("--nonce-ttl", type=float, default=60, metavar="S")
    args = parser.parse_args(argv)

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    emu = CdfEmulator(
        host=args.host,
        port=args.port,
        clients=dict(args.client) if args.client else None,
        capabilities=args.capabilities,
        task_duration=args.task_duration,
        token_ttl=args.token_ttl,
        nonce_ttl=args.nonce_ttl,
    )
    emu.start()
    try:
        print(emu.base_url, flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        emu.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
