"""Reference providers for `startup.py` that do nothing but load this package's chosen dependencies: their
checks show what pydantic (which every check of this package uses) and requests (which a check that reads CDF
loads) cost on their own.

Kept apart from `startup.py` so that the plugin, which imports a provider's module by name, loads nothing else.
"""

from __future__ import annotations

from typing import Any

from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, Resource, ResourceProvider
from pydantic import BaseModel, ValidationError


class _Inputs(BaseModel):
    name: str


class PydanticCheck(ResourceProvider):
    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        try:
            _Inputs.model_validate(news)
        except ValidationError as exc:
            return CheckResult(news, [CheckFailure("name", str(exc))])
        return CheckResult(news, [])

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(props["name"], props)


class DependenciesCheck(PydanticCheck):
    """Also loads requests, as this package's check does when it reads CDF (it makes no request)."""

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        import requests  # noqa: F401

        return super().check(olds, news)


class PydanticFloor(Resource):
    def __init__(self, name: str) -> None:
        super().__init__(PydanticCheck(), name, {"name": name})


class DependenciesFloor(Resource):
    def __init__(self, name: str) -> None:
        super().__init__(DependenciesCheck(), name, {"name": name})
