"""Removes secrets, tokens and nonces from text a server sent back (servers do echo requests)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, quote_plus

MASK = "***"
# Shorter values are not real secrets (tokens, nonces and IdP secrets are long); masking them would
# garble every message they happen to occur in.
MIN_LENGTH = 6


def _forms(secrets: Iterable[str]) -> list[str]:
    # The raw value and its URL-encoded forms (a token endpoint may quote its form body back).
    forms = {f for s in secrets if len(s) >= MIN_LENGTH for f in (s, quote(s, safe=""), quote_plus(s))}
    return sorted(forms, key=len, reverse=True)


def redact_text(text: str, secrets: Iterable[str]) -> str:
    for secret in _forms(secrets):
        text = text.replace(secret, MASK)
    return text


def redact_json(value: Any, secrets: Iterable[str]) -> Any:
    """A copy of a JSON value with every string redacted."""
    secrets = list(secrets)
    if isinstance(value, str):
        return redact_text(value, secrets)
    if isinstance(value, dict):
        return {redact_text(str(k), secrets): redact_json(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_json(v, secrets) for v in value]
    return value
