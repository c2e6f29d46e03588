"""Per-task-type `parameters` of a workflow version's tasks: what each type takes, and the defaults CDF fills.

Written from CDF's public sources, never from this project's provider:
- OAS: the CDF API spec copy in cognitedata/cognite-sdk-js `packages/stable/src/.cognite-openapi-snapshot.json`
  (summarised in cdf-deploy-api.md);
- SDK: cognitedata/cognite-sdk-python `cognite/client/data_classes/workflows.py` (FunctionTaskParameters,
  TransformationTaskParameters, CDFTaskParameters, DynamicTaskParameters, SubworkflowTaskParameters,
  SubworkflowReferenceParameters, SimulationTaskParameters) and `data_classes/simulators/runs.py`
  (SimulationInputOverride);
- TOOLKIT: cognitedata/toolkit `cognite_toolkit/_cdf_tk/yaml_classes/workflow_version.py`, whose models refuse
  unknown keys (`extra="forbid"` in `yaml_classes/base.py`), and `cruds/_resource_cruds/workflow.py`
  (WorkflowVersionCRUD.dump_resource: the defaults CDF returns, which it ignores when comparing; toolkit#1758).

Unknown keys inside `parameters` and inside the per-type object are refused with 400.
"""
# guess: that CDF refuses unknown keys is inferred from the toolkit's models, which mirror the API and forbid extra
# keys; the API documents no such rule. CDF's wording for these refusals is in no public source either; the
# messages here are the emulator's own.

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from typing import Any

from pulumi_cdf_workflows.emulator.exceptions import BadRequest
from pulumi_cdf_workflows.emulator.validation import validate_identifier

# Checks an inline subworkflow's task list like a version's own (definitions.py): (tasks, parent task id) -> tasks.
InlineTasks = Callable[[Any, str], list[dict[str, Any]]]

_REFERENCE = re.compile(r"^\$\{[^}]+\}$")
MAX_FUNCTION_DATA_BYTES = 102400  # "Limited to 100KB in size" [TOOLKIT CogniteFunctionRef.data; OAS]
# guess: the spec copy limits a cdf task's body to 100 KB, the SDK's CDFTaskParameters docstring to 1024 KiB;
# the wider one is taken.
MAX_CDF_BODY_BYTES = 1024 * 1024
MIN_CDF_REQUEST_TIMEOUT = 100  # "requestTimeoutInMillis (>= 100, default 10000)" [OAS]
MAX_CDF_RESOURCE_PATH = 128  # "resourcePath (<= 128)" [OAS, as summarised in the project's CDF API notes]
MAX_CDF_QUERY_PARAMETERS = 5  # "queryParameters (<= 5)" [OAS, as above]
DEFAULT_CDF_REQUEST_TIMEOUT = 10000  # [OAS; SDK CDFTaskParameters]
CDF_METHODS = ("GET", "POST", "PUT", "DELETE")  # guess: the spec lists POST|GET|PUT; the SDK adds DELETE (wider)
CDF_VERSION_HEADERS = ("alpha", "beta")  # [OAS; TOOLKIT CDFRequest.cdf_version_header]
CONCURRENCY_POLICIES = ("fail", "waitForCurrent", "restartAfterCurrent")  # [OAS; SDK; TOOLKIT]
MAX_SIMULATION_INPUTS = 200  # [OAS; TOOLKIT SimulationRef.inputs]
FUNCTION_APP_METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH")  # [TOOLKIT FunctionAppRef.method]
MAX_FUNCTION_APP_PATH = 255  # [TOOLKIT FunctionAppRef.path]
MAX_FUNCTION_APP_PARAMETERS = 10  # [TOOLKIT FunctionAppRef.parameters]


class _Task:
    """Where a check is (the task's label) and how its failure reads."""

    def __init__(self, label: str, task_type: str) -> None:
        self.label = label
        self.task_type = task_type

    def fail(self, path: str, text: str) -> BadRequest:
        return BadRequest(f"{self.label}: {path} {text}")

    def known(self, obj: dict[str, Any], path: str, allowed: tuple[str, ...]) -> None:
        unknown = [key for key in obj if key not in allowed]
        if unknown:
            raise BadRequest(
                f"{self.label}: unknown field {path}.{unknown[0]} in a {self.task_type} task "
                f"({path} takes {', '.join(allowed)})"
            )

    def obj(self, value: Any, path: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(path, "is required and must be an object")
        return value

    def string(self, value: Any, path: str) -> str:
        if not isinstance(value, str) or not value:
            raise self.fail(path, "is required and must be a non-empty string")
        return value

    def choice(self, value: Any, path: str, allowed: tuple[str, ...], reference: bool = False) -> str:
        """One of `allowed`, or (when the sources say the field may be one) a `${...}` reference."""
        if isinstance(value, str) and (value in allowed or (reference and _REFERENCE.match(value))):
            return value
        extra = " or a ${...} reference" if reference else ""
        raise self.fail(path, f"must be one of {', '.join(allowed)}{extra}, got {value!r}")

    def boolean(self, value: Any, path: str, default: bool) -> bool:
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.fail(path, f"must be true or false, got {value!r}")
        return value

    def size(self, value: Any, path: str, limit: int) -> None:
        size = len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
        if size > limit:
            raise self.fail(path, f"must be at most {limit} bytes of JSON, got {size} bytes")


def _without_nulls(obj: dict[str, Any]) -> dict[str, Any]:
    # guess: whether CDF keeps an optional field sent as null is unknown; it is dropped, as if omitted.
    return {key: copy.deepcopy(value) for key, value in obj.items() if value is not None}


def _function(t: _Task, parameters: dict[str, Any]) -> dict[str, Any]:
    t.known(parameters, "parameters", ("function", "isAsyncComplete"))
    function = t.obj(parameters.get("function"), "parameters.function")
    t.known(function, "parameters.function", ("externalId", "data"))
    t.string(function.get("externalId"), "parameters.function.externalId")  # an external id or a reference
    if function.get("data") is not None:
        t.size(function["data"], "parameters.function.data", MAX_FUNCTION_DATA_BYTES)
    # isAsyncComplete defaults to false and CDF returns it [OAS response example; SDK FunctionTaskParameters].
    is_async = t.boolean(parameters.get("isAsyncComplete"), "parameters.isAsyncComplete", False)
    return {"function": _without_nulls(function), "isAsyncComplete": is_async}


def _transformation(t: _Task, parameters: dict[str, Any]) -> dict[str, Any]:
    t.known(parameters, "parameters", ("transformation",))
    transformation = t.obj(parameters.get("transformation"), "parameters.transformation")
    path = "parameters.transformation"
    t.known(transformation, path, ("externalId", "concurrencyPolicy", "useTransformationCredentials"))
    external_id = t.string(transformation.get("externalId"), f"{path}.externalId")
    policy = transformation.get("concurrencyPolicy")
    credentials = transformation.get("useTransformationCredentials")
    # CDF writes both defaults back: the toolkit ignores exactly these values when they come back from CDF, to stop
    # redeploying unchanged versions (toolkit#1758; cognite_toolkit/_cdf_tk/cruds/_resource_cruds/workflow.py
    # WorkflowVersionCRUD.dump_resource); the SDK loads them with the same defaults.
    return {
        "transformation": {
            "externalId": external_id,
            "concurrencyPolicy": "fail"
            if policy is None
            else t.choice(policy, f"{path}.concurrencyPolicy", CONCURRENCY_POLICIES),
            "useTransformationCredentials": t.boolean(credentials, f"{path}.useTransformationCredentials", False),
        }
    }


def _cdf(t: _Task, parameters: dict[str, Any]) -> dict[str, Any]:
    t.known(parameters, "parameters", ("cdfRequest",))
    path = "parameters.cdfRequest"
    request = t.obj(parameters.get("cdfRequest"), path)
    allowed = ("resourcePath", "method", "queryParameters", "body", "requestTimeoutInMillis", "cdfVersionHeader")
    t.known(request, path, allowed)
    t.string(request.get("resourcePath"), f"{path}.resourcePath")
    if len(str(request.get("resourcePath"))) > MAX_CDF_RESOURCE_PATH:
        raise t.fail(f"{path}.resourcePath", f"must be at most {MAX_CDF_RESOURCE_PATH} characters")
    # Every field may be a ${...} reference [SDK CDFTaskParameters; TOOLKIT CDFRequest].
    t.choice(request.get("method"), f"{path}.method", CDF_METHODS, reference=True)
    query = request.get("queryParameters")
    if query is not None and not isinstance(query, dict) and not (isinstance(query, str) and _REFERENCE.match(query)):
        raise t.fail(f"{path}.queryParameters", "must be an object or a ${...} reference")
    if isinstance(query, dict) and len(query) > MAX_CDF_QUERY_PARAMETERS:
        raise t.fail(f"{path}.queryParameters", f"must hold at most {MAX_CDF_QUERY_PARAMETERS} parameters")
    if request.get("body") is not None:
        t.size(request["body"], f"{path}.body", MAX_CDF_BODY_BYTES)
    timeout = request.get("requestTimeoutInMillis")
    is_reference = isinstance(timeout, str) and _REFERENCE.match(timeout) is not None
    is_number = isinstance(timeout, int) and not isinstance(timeout, bool)  # an integer [OAS]
    if timeout is not None and not is_reference and not (is_number and timeout >= MIN_CDF_REQUEST_TIMEOUT):
        minimum = MIN_CDF_REQUEST_TIMEOUT
        raise t.fail(f"{path}.requestTimeoutInMillis", f"must be an integer >= {minimum} or a ${{...}} reference")
    if request.get("cdfVersionHeader") is not None:
        t.choice(request["cdfVersionHeader"], f"{path}.cdfVersionHeader", CDF_VERSION_HEADERS)
    stored = _without_nulls(request)
    # guess: the spec documents requestTimeoutInMillis's default as 10000, but no source shows whether CDF writes it
    # back (the SDK fills 10000 itself when loading). It is written back, like every other documented default.
    stored.setdefault("requestTimeoutInMillis", DEFAULT_CDF_REQUEST_TIMEOUT)
    return {"cdfRequest": stored}


def _dynamic(t: _Task, parameters: dict[str, Any]) -> dict[str, Any]:
    t.known(parameters, "parameters", ("dynamic",))
    dynamic = t.obj(parameters.get("dynamic"), "parameters.dynamic")
    t.known(dynamic, "parameters.dynamic", ("tasks",))
    tasks = dynamic.get("tasks")
    # "When calling Version Upsert, the tasks parameter must be a Reference string" [SDK DynamicTaskParameters].
    if not isinstance(tasks, str) or not _REFERENCE.match(tasks):
        raise t.fail(
            "parameters.dynamic.tasks", "must be a ${...} reference to the tasks (they are known only at run time)"
        )
    return {"dynamic": {"tasks": tasks}}


def _subworkflow(t: _Task, parameters: dict[str, Any], xid: str, inline: InlineTasks) -> dict[str, Any]:
    t.known(parameters, "parameters", ("subworkflow",))
    path = "parameters.subworkflow"
    sub = t.obj(parameters.get("subworkflow"), path)
    # Two forms [SDK SubworkflowTaskParameters / SubworkflowReferenceParameters; TOOLKIT SubworkflowRef].
    if "tasks" in sub:
        t.known(sub, path, ("tasks",))
        return {"subworkflow": {"tasks": inline(sub["tasks"], xid)}}
    t.known(sub, path, ("workflowExternalId", "version"))
    if "workflowExternalId" not in sub and "version" not in sub:
        raise t.fail(path, "must hold either tasks, or workflowExternalId and version")
    # guess: whether CDF requires the referenced version to exist at upsert is unknown (the toolkit deploys
    # referenced versions first, which hints that it might); the emulator does not check.
    return {
        "subworkflow": {
            "workflowExternalId": validate_identifier(sub.get("workflowExternalId"), f"{path}.workflowExternalId"),
            "version": validate_identifier(sub.get("version"), f"{path}.version"),
        }
    }


def _simulation_input(t: _Task, item: Any, path: str) -> dict[str, Any]:
    entry = t.obj(item, path)
    t.known(entry, path, ("referenceId", "value", "unit"))
    t.string(entry.get("referenceId"), f"{path}.referenceId")
    value = entry.get("value")
    scalars = (str, int, float)
    ok = (isinstance(value, scalars) and not isinstance(value, bool)) or (
        isinstance(value, list) and all(isinstance(v, scalars) and not isinstance(v, bool) for v in value)
    )
    if not ok:
        raise t.fail(f"{path}.value", "is required: a string, a number or a list of them")
    if entry.get("unit") is not None:
        unit = t.obj(entry["unit"], f"{path}.unit")
        t.known(unit, f"{path}.unit", ("name",))
        t.string(unit.get("name"), f"{path}.unit.name")
    return _without_nulls(entry)


def _simulation(t: _Task, parameters: dict[str, Any]) -> dict[str, Any]:
    t.known(parameters, "parameters", ("simulation",))
    path = "parameters.simulation"
    simulation = t.obj(parameters.get("simulation"), path)
    t.known(simulation, path, ("routineExternalId", "runTime", "inputs"))
    t.string(simulation.get("routineExternalId"), f"{path}.routineExternalId")
    run_time = simulation.get("runTime")
    if run_time is not None and (isinstance(run_time, bool) or not isinstance(run_time, int)):
        raise t.fail(f"{path}.runTime", "must be epoch milliseconds (an integer)")
    stored = _without_nulls(simulation)
    inputs = simulation.get("inputs")
    if inputs is not None:
        if not isinstance(inputs, list) or len(inputs) > MAX_SIMULATION_INPUTS:
            raise t.fail(f"{path}.inputs", f"must be a list of at most {MAX_SIMULATION_INPUTS} inputs")
        stored["inputs"] = [_simulation_input(t, item, f"{path}.inputs[{i}]") for i, item in enumerate(inputs)]
    return {"simulation": stored}


def _function_app(t: _Task, parameters: dict[str, Any]) -> dict[str, Any]:
    t.known(parameters, "parameters", ("functionApp",))
    path = "parameters.functionApp"
    app = t.obj(parameters.get("functionApp"), path)
    t.known(app, path, ("externalId", "path", "method", "parameters", "body"))
    t.string(app.get("externalId"), f"{path}.externalId")
    if len(t.string(app.get("path"), f"{path}.path")) > MAX_FUNCTION_APP_PATH:
        raise t.fail(f"{path}.path", f"must be at most {MAX_FUNCTION_APP_PATH} characters")
    if app.get("method") is not None:
        # guess: the toolkit types method as one of these "| str"; a ${...} reference is taken as the other strings.
        t.choice(app["method"], f"{path}.method", FUNCTION_APP_METHODS, reference=True)
    query = app.get("parameters")
    if query is not None and (
        not isinstance(query, dict)
        or len(query) > MAX_FUNCTION_APP_PARAMETERS
        or not all(isinstance(v, str) for v in query.values())
    ):
        raise t.fail(f"{path}.parameters", f"must be an object of at most {MAX_FUNCTION_APP_PARAMETERS} string values")
    return {"functionApp": _without_nulls(app)}


_BY_TYPE: dict[str, Callable[[_Task, dict[str, Any]], dict[str, Any]]] = {
    "function": _function,
    "transformation": _transformation,
    "cdf": _cdf,
    "dynamic": _dynamic,
    "simulation": _simulation,
    "functionApp": _function_app,
}


def check_parameters(task_type: str, parameters: Any, xid: str, label: str, inline: InlineTasks) -> dict[str, Any]:
    """A task's parameters as CDF stores them (defaults filled), or 400 naming the first violated rule."""
    t = _Task(label, task_type)
    if not isinstance(parameters, dict):
        raise t.fail("parameters", "is required and must be an object")  # required [OAS]
    if task_type == "subworkflow":
        return _subworkflow(t, parameters, xid, inline)
    return _BY_TYPE[task_type](t, parameters)
