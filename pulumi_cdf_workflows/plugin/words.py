"""Messages and descriptions in the plugin's words: its users set `cdf-workflows:*` config and camelCase
properties, so the lifecycle's `cdf:validateOnPreview` and `timeout_seconds` are shown as
`cdf-workflows:validateOnPreview` and `timeoutSeconds`. One translation at the plugin's edge, so the lifecycle
keeps one text per message for both faces."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache

from pydantic import BaseModel

from pulumi_cdf_workflows.plugin.catalog import PACKAGE, RESOURCES
from pulumi_cdf_workflows.plugin.names import camel, model_of

# A stack config key (`cdf:deleteWaitSeconds`), not a word that ends in "cdf".
_CONFIG_KEY = re.compile(r"(?<![\w:-])cdf:(?=[a-zA-Z])")
# Python's doctest examples have no meaning in another language.
_DOCTEST = re.compile(r"^\s*>>>.*$(\n^\s*\.\.\..*$)*", re.MULTILINE)


def _fields(models: Iterable[type[BaseModel]]) -> set[str]:
    names: set[str] = set()
    for model in models:
        for name, info in model.model_fields.items():
            names.add(name)
            inner = model_of(info.annotation)
            if inner is not None:
                names |= _fields([inner])
    return names


@cache
def _property_names() -> re.Pattern[str]:
    models = [m for s in RESOURCES.values() for m in (s.provider.args_model, s.provider.outputs_model)]
    snake = sorted((n for n in _fields(models) if "_" in n), key=len, reverse=True)
    return re.compile(r"\b(" + "|".join(map(re.escape, snake)) + r")\b")


def in_plugin_words(text: str) -> str:
    """`text` with the Python face's config keys and property names as the plugin's users write them."""
    text = _CONFIG_KEY.sub(f"{PACKAGE}:", text)
    return _property_names().sub(lambda m: camel(m.group(1)), text)


def description(text: str) -> str:
    """A docstring or field description for the schema: in the plugin's words, without Python examples."""
    return in_plugin_words(_DOCTEST.sub("", text)).strip()
