"""What requests would take from the environment (proxies, CA bundle), read once per URL.

With `trust_env` on, requests scans the environment on every request to find proxies, which cost about a
fifth of the CPU of a workflow run; the environment of a plugin process does not change while it runs.
"""

from __future__ import annotations

import os

import requests


def environment_transport(url: str) -> tuple[dict[str, str], bool | str]:
    """The proxies (honouring NO_PROXY) and the TLS verification setting requests would use for `url`."""
    proxies = requests.utils.get_environ_proxies(url)
    verify: bool | str = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
    return dict(proxies), verify


def quiet_session() -> requests.Session:
    """A session that does not read the environment per request: pass `environment_transport` instead."""
    session = requests.Session()
    session.trust_env = False
    return session
