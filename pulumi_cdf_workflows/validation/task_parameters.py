"""Each task type's `parameters`, checked with a pydantic model of its own that forbids keys CDF does not know.

Shapes and limits come from the Cognite Toolkit (`cognitedata/toolkit`,
`cognite_toolkit/_cdf_tk/yaml_classes/workflow_version.py`), cognite-sdk (`cognitedata/cognite-sdk-python`,
`cognite/client/data_classes/workflows.py`) and CDF's API spec; docs/validation.md lists each rule's source.
Where a source says a field may be a `${...}` reference (a task's output, the workflow's input), a reference
string is accepted in place of the value.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Callable, Mapping
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from pulumi_cdf_workflows.validation.fields import check_identifier, restore_integers
from pulumi_cdf_workflows.validation.suggestions import closest, describe, unknown_key

REFERENCE = re.compile(r"\$\{[^}]+\}")  # one reference: `${a}${b}` is two
MAX_FUNCTION_DATA_BYTES = 100 * 1024  # OAS; Toolkit: "Limited to 100KB in size"
MAX_CDF_BODY_BYTES = 1024 * 1024  # SDK: "Limited to 1024KiB in size" (the spec copy says 100 KB)
MAX_RESOURCE_PATH = 128  # OAS
MAX_QUERY_PARAMETERS = 5  # OAS
MIN_REQUEST_TIMEOUT_MS = 100  # OAS
DEFAULT_REQUEST_TIMEOUT_MS = 10_000  # OAS; SDK
CDF_METHODS = ("POST", "GET", "PUT", "DELETE")  # OAS: POST, GET, PUT; SDK adds DELETE
CDF_VERSION_HEADERS = ("alpha", "beta")
CONCURRENCY_POLICIES = ("fail", "waitForCurrent", "restartAfterCurrent")
MAX_SIMULATION_INPUTS = 200
MAX_FUNCTION_APP_PATH = 255
MAX_FUNCTION_APP_PARAMETERS = 10
FUNCTION_APP_METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH")
MAX_INLINE_TASKS = 200  # as for a version's own tasks (OAS: 1-100; DOCS limits: 200 tasks per execution)


def is_reference(value: Any) -> bool:
    """A `${...}` reference, resolved by CDF when the task runs (e.g. `${extract.output.ids}`)."""
    return isinstance(value, str) and REFERENCE.fullmatch(value) is not None


def _one_of(choices: tuple[str, ...], *, optional: bool = False) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if (optional and value is None) or is_reference(value) or (isinstance(value, str) and value in choices):
            return value
        raise ValueError(f"must be one of {', '.join(choices)} or a ${{...}} reference, got {describe(value)}")

    return check


def _json_of_at_most(limit: int, shown: str) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if value is None or is_reference(value):
            return value
        try:
            size = len(json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode())
        except (TypeError, ValueError) as exc:
            raise ValueError(f"must be JSON: {exc}") from None
        if size > limit:
            raise ValueError(f"is {size} bytes as JSON; CDF allows at most {limit} bytes ({shown})")
        return value

    return check


def _query_parameters(value: Any) -> Any:
    if value is None or is_reference(value):
        return value
    if not isinstance(value, Mapping):
        raise ValueError(f"must be an object or a ${{...}} reference, got {describe(value)}")
    if len(value) > MAX_QUERY_PARAMETERS:
        raise ValueError(f"has {len(value)} entries; CDF allows at most {MAX_QUERY_PARAMETERS}")
    return value


def _request_timeout(value: Any) -> Any:
    if value is None or is_reference(value):
        return value
    if isinstance(value, bool) or not isinstance(value, int) or value < MIN_REQUEST_TIMEOUT_MS:
        raise ValueError(
            f"must be a whole number of milliseconds of at least {MIN_REQUEST_TIMEOUT_MS}, or a ${{...}} "
            f"reference, got {describe(value)}"
        )
    return value


def _dynamic_tasks(value: Any) -> Any:
    if is_reference(value):
        return value
    raise ValueError(
        f"must be a ${{...}} reference to a list of task definitions made by an earlier task (e.g. "
        f"'${{prepare.output.tasks}}'), got {describe(value)}"
    )


def _simulation_value(value: Any) -> Any:
    def scalar(item: Any) -> bool:
        return isinstance(item, str | int | float) and not isinstance(item, bool)

    if scalar(value) or (isinstance(value, list) and all(scalar(item) for item in value)):
        return value
    raise ValueError(f"must be a string, a number or a list of them, got {describe(value)}")


class _Parameters(BaseModel):
    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, hide_input_in_errors=True)


Text = Annotated[StrictStr, Field(min_length=1)]


class FunctionRef(_Parameters):
    external_id: Text
    data: Annotated[Any, BeforeValidator(_json_of_at_most(MAX_FUNCTION_DATA_BYTES, "100 KB"))] = None


class FunctionParameters(_Parameters):
    function: FunctionRef
    is_async_complete: StrictBool | None = None


class TransformationRef(_Parameters):
    external_id: Text
    concurrency_policy: Literal["fail", "waitForCurrent", "restartAfterCurrent"] | None = None
    use_transformation_credentials: StrictBool | None = None


class TransformationParameters(_Parameters):
    transformation: TransformationRef


class CdfRequest(_Parameters):
    resource_path: Annotated[Text, Field(max_length=MAX_RESOURCE_PATH)]
    method: Annotated[Any, BeforeValidator(_one_of(CDF_METHODS))]
    query_parameters: Annotated[Any, BeforeValidator(_query_parameters)] = None
    body: Annotated[Any, BeforeValidator(_json_of_at_most(MAX_CDF_BODY_BYTES, "1024 KiB"))] = None
    request_timeout_in_millis: Annotated[Any, BeforeValidator(_request_timeout)] = None
    cdf_version_header: Annotated[Any, BeforeValidator(_one_of(CDF_VERSION_HEADERS, optional=True))] = None


class CdfParameters(_Parameters):
    cdf_request: CdfRequest


class DynamicRef(_Parameters):
    tasks: Annotated[Any, BeforeValidator(_dynamic_tasks)]


class DynamicParameters(_Parameters):
    dynamic: DynamicRef


class SubworkflowRef(_Parameters):
    """Either a version of another workflow, or tasks defined inline (checked as tasks, by the caller)."""

    workflow_external_id: Annotated[Text, Field(max_length=255)] | None = None
    version: Annotated[Text, Field(max_length=255)] | None = None
    tasks: Annotated[list[Any], Field(min_length=1, max_length=MAX_INLINE_TASKS)] | None = None

    @field_validator("workflow_external_id", "version")
    @classmethod
    def _identifier(cls, value: str | None, info: ValidationInfo) -> str | None:
        # CDF's identifier rule, as for any workflow external id or version (no edge whitespace, no NUL).
        return None if value is None else check_identifier(str(info.field_name), value)

    @model_validator(mode="after")
    def _one_form(self) -> SubworkflowRef:
        by_reference = self.workflow_external_id is not None or self.version is not None
        if self.tasks is None and not (self.workflow_external_id and self.version):
            raise ValueError("needs either tasks (defined inline) or workflowExternalId and version")
        if self.tasks is not None and by_reference:
            raise ValueError("takes either tasks or workflowExternalId and version, not both")
        return self


class SubworkflowParameters(_Parameters):
    subworkflow: SubworkflowRef


class SimulationUnit(_Parameters):
    name: Text


class SimulationInput(_Parameters):
    reference_id: Text
    value: Annotated[Any, BeforeValidator(_simulation_value)]
    unit: SimulationUnit | None = None


class SimulationRef(_Parameters):
    routine_external_id: Text
    run_time: StrictInt | None = None
    inputs: Annotated[list[SimulationInput], Field(max_length=MAX_SIMULATION_INPUTS)] | None = None


class SimulationParameters(_Parameters):
    simulation: SimulationRef


class FunctionAppRef(_Parameters):
    external_id: Text
    path: Annotated[StrictStr, Field(max_length=MAX_FUNCTION_APP_PATH)]
    method: Annotated[Any, BeforeValidator(_one_of(FUNCTION_APP_METHODS, optional=True))] = None
    parameters: Annotated[dict[str, StrictStr], Field(max_length=MAX_FUNCTION_APP_PARAMETERS)] | None = None
    body: Any = None


class FunctionAppParameters(_Parameters):
    function_app: FunctionAppRef


# Per task type: its parameters model, and the shape as failures show it.
MODELS: dict[str, type[_Parameters]] = {
    "function": FunctionParameters,
    "transformation": TransformationParameters,
    "cdf": CdfParameters,
    "dynamic": DynamicParameters,
    "subworkflow": SubworkflowParameters,
    "simulation": SimulationParameters,
    "functionApp": FunctionAppParameters,
}
SHAPES = {
    "function": '{"function": {"externalId", "data"?}, "isAsyncComplete"?}',
    "transformation": '{"transformation": {"externalId", "concurrencyPolicy"?, "useTransformationCredentials"?}}',
    "cdf": '{"cdfRequest": {"resourcePath", "method", "queryParameters"?, "body"?, "requestTimeoutInMillis"?, '
    '"cdfVersionHeader"?}}',
    "dynamic": '{"dynamic": {"tasks": "${...}"}}',
    "subworkflow": '{"subworkflow": {"workflowExternalId", "version"}} or {"subworkflow": {"tasks": [...]}}',
    "simulation": '{"simulation": {"routineExternalId", "runTime"?, "inputs"?}}',
    "functionApp": '{"functionApp": {"externalId", "path", "method"?, "parameters"?, "body"?}}',
}
# The key each type's parameters are under (a task of one type given another type's parameters is a common slip).
ROOT_KEYS = {kind: next(iter(model.model_fields.values())).alias or "" for kind, model in MODELS.items()}


def _keys(model: type[BaseModel]) -> list[str]:
    return [field.alias or name for name, field in model.model_fields.items()]


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if inspect.isclass(annotation) and issubclass(annotation, BaseModel):
        return annotation
    for argument in get_args(annotation):
        if (found := _model_in(argument)) is not None:
            return found
    return None


def _model_at(model: type[BaseModel], loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    current: type[BaseModel] | None = model
    for part in loc:
        if current is None or isinstance(part, int):
            continue
        field = next((f for n, f in current.model_fields.items() if (f.alias or n) == part), None)
        current = None if field is None else _model_in(field.annotation)
    return current


def _path(loc: tuple[int | str, ...]) -> str:
    return "parameters" + "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc)


def _message(model: type[BaseModel], error: Mapping[str, Any]) -> str:
    loc, kind, ctx = tuple(error["loc"]), error["type"], error.get("ctx") or {}
    path, got = _path(loc), describe(error.get("input"))
    if kind == "missing":
        return f"{path} is required"
    if kind == "extra_forbidden":
        known = _keys(_model_at(model, loc[:-1]) or model)
        where = _path(loc[:-1])
        return f"{where}: {unknown_key(loc[-1], known, where)}"
    if kind == "value_error":
        return f"{path} {str(error['msg']).removeprefix('Value error, ')}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"{path} must be an object, got {got}"
    if kind in ("string_too_long", "too_long"):
        value = error.get("input")
        size = ctx.get("actual_length") or (len(value) if isinstance(value, str | list | dict) else "?")
        unit = "characters" if kind == "string_too_long" else "entries"
        return f"{path} has {size} {unit}; CDF allows at most {ctx.get('max_length')}"
    if kind in ("string_too_short", "too_short"):
        return f"{path} must not be empty"
    if kind == "literal_error":
        return f"{path} must be {ctx.get('expected')}, got {got}"
    kinds = {"string_type": "a string", "bool_type": "true or false", "int_type": "a whole number"}
    if kind in kinds:
        return f"{path} must be {kinds[kind]}, got {got}"
    if kind == "list_type":
        return f"{path} must be a list, got {got}"
    text = str(error["msg"])
    return f"{path}: {text[:1].lower()}{text[1:]}, got {got}"


def parameter_problems(task_type: str, parameters: Mapping[str, Any]) -> list[str]:
    """What CDF would refuse in a task's parameters, each naming the path (`parameters.function.externalId`),
    the limit and the value; [] for a type this module does not know."""
    model = MODELS.get(task_type)
    if model is None:
        return []
    root = ROOT_KEYS[task_type]
    if root not in parameters:
        for other, key in ROOT_KEYS.items():
            if key in parameters and other != task_type:
                return [
                    f"parameters holds {key!r}, the parameters of a {other} task; a {task_type} task takes "
                    f"{SHAPES[task_type]}"
                ]
    try:
        model.model_validate(restore_integers(dict(parameters)))
    except ValidationError as exc:
        errors = exc.errors()
    else:
        return []
    # A misspelt key is also a missing one: say it once, as the misspelling.
    misspelt = set()
    for error in errors:
        loc = tuple(error["loc"])
        if error["type"] == "extra_forbidden":
            misspelt.add((loc[:-1], closest(loc[-1], _keys(_model_at(model, loc[:-1]) or model))))
    return [
        _message(model, error)
        for error in errors
        if not (error["type"] == "missing" and (tuple(error["loc"])[:-1], error["loc"][-1]) in misspelt)
    ]


def inline_tasks(task_type: Any, parameters: Any) -> list[Any] | None:
    """A subworkflow task's inline tasks, when it has a list of them."""
    if task_type != "subworkflow" or not isinstance(parameters, Mapping):
        return None
    inner = parameters.get("subworkflow")
    tasks = inner.get("tasks") if isinstance(inner, Mapping) else None
    return tasks if isinstance(tasks, list) else None


def with_defaults(task_type: Any, parameters: Any) -> Any:
    """The parameters as CDF stores them: structural nulls dropped and the documented defaults filled
    (function isAsyncComplete false; transformation concurrencyPolicy "fail" and useTransformationCredentials
    false; cdf requestTimeoutInMillis 10000). Inline subworkflow tasks are left to the caller."""
    if not isinstance(parameters, Mapping):
        return parameters
    result = {k: v for k, v in parameters.items() if v is not None}
    for key, inner in result.items():
        if isinstance(inner, Mapping) and key == ROOT_KEYS.get(str(task_type)):
            result[key] = {k: v for k, v in inner.items() if v is not None}
    if task_type == "function":
        result["isAsyncComplete"] = result.get("isAsyncComplete") or False
    elif task_type == "transformation" and isinstance(result.get("transformation"), dict):
        result["transformation"].setdefault("concurrencyPolicy", "fail")
        result["transformation"].setdefault("useTransformationCredentials", False)
    elif task_type == "cdf" and isinstance(result.get("cdfRequest"), dict):
        result["cdfRequest"].setdefault("requestTimeoutInMillis", DEFAULT_REQUEST_TIMEOUT_MS)
    return result
