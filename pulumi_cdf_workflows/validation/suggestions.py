"""How check failures show a wrong value and a likely fix: "did you mean ...?" for a misspelt key or name."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any


def describe(value: Any) -> str:
    """A value as a failure shows it: its repr, cut to 60 characters."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def closest(word: Any, known: Iterable[str]) -> str | None:
    """The known word `word` is most likely a misspelling of, if any is close (difflib's measure)."""
    if not isinstance(word, str):
        return None
    candidates = [k for k in known if k != word]
    matches = difflib.get_close_matches(word, candidates, n=1)
    if not matches:  # a difference of case only ("externalid") scores low with difflib
        matches = [k for k in candidates if k.lower() == word.lower()][:1]
    return matches[0] if matches else None


def did_you_mean(word: Any, known: Iterable[str]) -> str:
    """'; did you mean 'x'?' for the closest known word, or '' when none is close (or `word` is no string)."""
    match = closest(word, known)
    return f"; did you mean {match!r}?" if match else ""


def unknown_key(key: Any, known: Iterable[str], what: str) -> str:
    """A key CDF does not know: the key, what the object takes (`what`, e.g. "a task"), and the likely fix."""
    names = list(known)
    return f"unknown key {key!r} ({what} takes {', '.join(names)}){did_you_mean(key, names)}"
