"""Show the provider's own errors in `pulumi up` as their message, not as a Python traceback.

The dynamic-provider plugin (`python -m pulumi.dynamic`, running as `__main__`) reports every exception
with `traceback.format_exc()`. For errors that already say what went wrong and what to do, a traceback
only buries the message, so this swaps that module's `traceback` for one that leaves those out.
Anything else (a bug) keeps its full traceback.
"""

from __future__ import annotations

import sys
import traceback
from types import ModuleType
from typing import Any

_clean_types: list[type[BaseException]] = []


class _TracebackWithoutOurErrors:
    def __init__(self, real: ModuleType) -> None:
        self._real = real

    def format_exc(self, *args: Any, **kwargs: Any) -> str:
        error = sys.exc_info()[1]
        if error is not None and isinstance(error, tuple(_clean_types)):
            return str(error)
        return str(self._real.format_exc(*args, **kwargs))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


def show_without_traceback(error_type: type[BaseException]) -> None:
    """Register an exception type whose message is enough; patch the plugin if this is the plugin."""
    if error_type not in _clean_types:
        _clean_types.append(error_type)
    main = sys.modules.get("__main__")
    if main is None or not hasattr(main, "DynamicResourceProviderServicer"):
        return  # not inside the dynamic-provider plugin
    if getattr(main, "traceback", None) is traceback:
        main.traceback = _TracebackWithoutOurErrors(traceback)  # type: ignore[attr-defined]
