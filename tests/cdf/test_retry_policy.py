"""The backoff policy and the classification of connection failures, without a server."""

from __future__ import annotations

import socket
from email.utils import formatdate

import pytest
import requests

from pulumi_cdf_workflows.cdf._retry import RetryPolicy, connection_not_established, parse_retry_after


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_full_jitter_grows_exponentially_and_is_capped() -> None:
    policy = RetryPolicy(rand=lambda: 1.0, base=0.5, max_backoff=4.0)
    assert [policy.backoff(n) for n in range(5)] == [0.5, 1.0, 2.0, 4.0, 4.0]
    assert RetryPolicy(rand=lambda: 0.0).backoff(3) == 0.0


def test_retries_are_bounded_in_count() -> None:
    policy = RetryPolicy(max_retries=2, rand=lambda: 0.5)
    assert policy.next_wait(0, policy.clock(), None) is not None
    assert policy.next_wait(1, policy.clock(), None) is not None
    assert policy.next_wait(2, policy.clock(), None) is None


def test_retries_are_bounded_in_total_time() -> None:
    clock = FakeClock()
    policy = RetryPolicy(max_retries=100, max_total_wait=10.0, clock=clock, rand=lambda: 1.0)
    assert policy.next_wait(0, 0.0, None) == 0.5
    clock.now = 9.8
    assert policy.next_wait(1, 0.0, None) is None


def test_retry_after_is_honoured_and_not_shortened() -> None:
    clock = FakeClock()
    policy = RetryPolicy(max_total_wait=10.0, clock=clock, rand=lambda: 0.0)
    assert policy.next_wait(0, 0.0, 3.0) == 3.0
    assert policy.next_wait(0, 0.0, 11.0) is None


def test_parse_retry_after() -> None:
    assert parse_retry_after("2") == 2.0
    assert parse_retry_after("0.25") == 0.25
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    in_the_past = formatdate(0, usegmt=True)
    assert parse_retry_after(in_the_past) == 0.0


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_connection_refused_is_classified_as_never_sent() -> None:
    with pytest.raises(requests.ConnectionError) as info:
        requests.get(f"http://127.0.0.1:{_closed_port()}/", timeout=(1, 1))
    assert connection_not_established(info.value)


def test_read_timeout_is_not_classified_as_never_sent() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]
        with pytest.raises(requests.ReadTimeout) as info:
            requests.get(f"http://127.0.0.1:{port}/", timeout=(1, 0.2))
    assert not connection_not_established(info.value)


def test_dropped_connection_is_not_classified_as_never_sent() -> None:
    import threading

    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]

        def accept_and_close() -> None:
            conn, _ = server.accept()
            conn.recv(65536)
            conn.close()

        thread = threading.Thread(target=accept_and_close)
        thread.start()
        with pytest.raises(requests.ConnectionError) as info:
            requests.get(f"http://127.0.0.1:{port}/", timeout=(1, 2))
        thread.join()
    assert not connection_not_established(info.value)


def test_connect_timeout_is_classified_as_never_sent() -> None:
    # A listener that never accepts, its backlog filled: the next SYN is dropped and the connect times out.
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(0)
        port = server.getsockname()[1]
        fillers = []
        try:
            for _ in range(3):
                filler = socket.socket()
                filler.setblocking(False)
                filler.connect_ex(("127.0.0.1", port))
                fillers.append(filler)
            with pytest.raises(requests.ConnectionError) as info:
                requests.get(f"http://127.0.0.1:{port}/", timeout=(0.2, 1))
        finally:
            for filler in fillers:
                filler.close()
    assert isinstance(info.value, requests.ConnectTimeout)
    assert connection_not_established(info.value)


def test_redaction_masks_raw_and_url_encoded_forms_but_not_short_values() -> None:
    from pulumi_cdf_workflows.cdf._redact import redact_json, redact_text

    assert redact_text("a=s3cr+t/x b=s3cr%2Bt%2Fx", ["s3cr+t/x"]) == "a=*** b=***"
    assert redact_text("a=my+secret b=my%2Bsecret c=my secret", ["my secret"]) == "a=*** b=my%2Bsecret c=***"
    assert redact_text("running wf n", ["n"]) == "running wf n"
    assert redact_json({"k": ["x secret-value y"]}, ["secret-value"]) == {"k": ["x *** y"]}
