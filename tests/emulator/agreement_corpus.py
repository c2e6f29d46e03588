"""The corpus the agreement test runs through both the provider's checks and the emulator: workflow version
definitions and trigger rules, valid and invalid, each named for what it tries."""

from __future__ import annotations

import copy
from typing import Any

# --- the corpus: workflow version definitions ------------------------------------------------------------------

FN: dict[str, Any] = {
    "externalId": "fn",
    "type": "function",
    "parameters": {"function": {"externalId": "my-fn", "data": {"days": 7}}, "isAsyncComplete": False},
}
TX: dict[str, Any] = {
    "externalId": "tx",
    "type": "transformation",
    "parameters": {
        "transformation": {
            "externalId": "my-tx",
            "concurrencyPolicy": "waitForCurrent",
            "useTransformationCredentials": True,
        }
    },
}
REQ: dict[str, Any] = {
    "externalId": "req",
    "type": "cdf",
    "parameters": {
        "cdfRequest": {
            "resourcePath": "/timeseries/list",
            "method": "POST",
            "queryParameters": {"limit": "10"},
            "body": {"filter": {}},
            "requestTimeoutInMillis": 5000,
            "cdfVersionHeader": "beta",
        }
    },
}
PREPARE: dict[str, Any] = {
    "externalId": "prepare",
    "type": "function",
    "parameters": {"function": {"externalId": "plan"}},
}
DYN: dict[str, Any] = {
    "externalId": "fanout",
    "type": "dynamic",
    "parameters": {"dynamic": {"tasks": "${prepare.output.tasks}"}},
    "dependsOn": [{"externalId": "prepare"}],
}
SUB_REF: dict[str, Any] = {
    "externalId": "subref",
    "type": "subworkflow",
    "parameters": {"subworkflow": {"workflowExternalId": "other-workflow", "version": "3"}},
}
SIM: dict[str, Any] = {
    "externalId": "sim",
    "type": "simulation",
    "parameters": {
        "simulation": {
            "routineExternalId": "routine-1",
            "runTime": 1_700_000_000_000,
            "inputs": [
                {"referenceId": "T", "value": 21.5, "unit": {"name": "degC"}},
                {"referenceId": "L", "value": [1, 2, 3]},
                {"referenceId": "S", "value": "open"},
            ],
        }
    },
}
APP: dict[str, Any] = {
    "externalId": "app",
    "type": "functionApp",
    "parameters": {
        "functionApp": {
            "externalId": "my-app",
            "path": "/run",
            "method": "POST",
            "parameters": {"mode": "full"},
            "body": {"x": 1},
        }
    },
}


def task(xid: str, **changes: Any) -> dict[str, Any]:
    """A minimal function task, with `changes` applied (a value of None removes the key)."""
    result: dict[str, Any] = {"externalId": xid, "type": "function", "parameters": {"function": {"externalId": "f"}}}
    for key, value in changes.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = value
    return result


def sub_inline(*inner: dict[str, Any], xid: str = "sub") -> dict[str, Any]:
    return {"externalId": xid, "type": "subworkflow", "parameters": {"subworkflow": {"tasks": list(inner)}}}


def with_params(base: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    """A copy of a task with parameters[path...] set to `value`."""
    result = copy.deepcopy(base)
    at = result["parameters"]
    for key in path[:-1]:
        at = at[key]
    at[path[-1]] = value
    return result


def defn(*tasks: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"tasks": list(tasks), **extra}


def chain(count: int) -> list[dict[str, Any]]:
    return [task(f"t{i}", dependsOn=[{"externalId": f"t{i - 1}"}] if i else None) for i in range(count)]


def fan_in(count: int) -> list[dict[str, Any]]:
    """`count` independent tasks and one that depends on all of them."""
    sources = [task(f"s{i}") for i in range(count)]
    return [*sources, task("sink", dependsOn=[{"externalId": f"s{i}"} for i in range(count)])]


VALID: dict[str, dict[str, Any]] = {
    "function": defn(FN),
    "function minimal": defn(task("only")),
    "transformation": defn(TX),
    "transformation minimal": defn(with_params(TX, ("transformation",), {"externalId": "t"})),
    "cdf": defn(REQ),
    "cdf minimal": defn(with_params(REQ, ("cdfRequest",), {"resourcePath": "/a", "method": "GET"})),
    "cdf DELETE": defn(with_params(REQ, ("cdfRequest", "method"), "DELETE")),
    "dynamic": defn(PREPARE, DYN),
    "subworkflow inline": defn(sub_inline(task("a"), task("b", dependsOn=[{"externalId": "a"}]))),
    "subworkflow inline of every allowed type": defn(sub_inline(FN, TX, REQ, SIM, APP)),
    "subworkflow by reference": defn(SUB_REF),
    "simulation": defn(SIM),
    "simulation minimal": defn(with_params(SIM, ("simulation",), {"routineExternalId": "r"})),
    "functionApp": defn(APP),
    "functionApp minimal": defn(with_params(APP, ("functionApp",), {"externalId": "a", "path": "/p"})),
    "every type together, with dependencies": defn(
        FN,
        {**TX, "dependsOn": [{"externalId": "fn"}]},
        {**REQ, "dependsOn": [{"externalId": "tx"}, {"externalId": "fn"}]},
        PREPARE,
        DYN,
        SUB_REF,
        SIM,
        APP,
        description="all of them",
    ),
    "no tasks": defn(),
    "200 tasks": defn(*chain(200)),
    "inline subworkflow of 200 tasks": defn(sub_inline(*[task(f"i{n}") for n in range(200)])),
    "timeout 60": defn(task("a", timeout=60)),
    "timeout 86400": defn(task("a", timeout=86400)),
    "retries 0 and 10": defn(task("a", retries=0), task("b", retries=10)),
    "dependsOn 100 tasks": defn(*fan_in(100)),
    "defaults spelled out": defn(task("a", retries=3, timeout=3600, onFailure="abortWorkflow", dependsOn=[])),
    "onFailure skipTask": defn(task("a", onFailure="skipTask")),
    "name 255 and description 500": defn(task("a", name="n" * 255, description="d" * 500), description="d" * 500),
    "nulls as omitted": defn(task("a", retries=None, name=None) | {"timeout": None, "onFailure": None}),
    "references: function externalId and data": defn(
        PREPARE,
        task(
            "b",
            parameters={"function": {"externalId": "${prepare.output.fn}", "data": "${workflow.input}"}},
            dependsOn=[{"externalId": "prepare"}],
        ),
    ),
    "references: cdf method, query, timeout, body": defn(
        with_params(
            REQ,
            ("cdfRequest",),
            {
                "resourcePath": "/a/${workflow.input.id}",
                "method": "${workflow.input.method}",
                "queryParameters": "${workflow.input.query}",
                "body": "${workflow.input.body}",
                "requestTimeoutInMillis": "${workflow.input.timeout}",
            },
        )
    ),
    "reference: functionApp method": defn(with_params(APP, ("functionApp", "method"), "${workflow.input.method}")),
    "the same id inside an inline subworkflow and outside": defn(task("a"), sub_inline(task("a"))),
}

INVALID: dict[str, dict[str, Any]] = {
    "unknown key in the definition": defn(task("a"), tasksOrder=["a"]),
    "unknown key in a task": defn(task("a", dependOn=[])),
    "unknown key in parameters": defn(with_params(FN, ("isAsync",), True)),
    "unknown key in function": defn(with_params(FN, ("function", "inputs"), {})),
    "unknown key in cdfRequest": defn(with_params(REQ, ("cdfRequest", "headers"), {"a": "b"})),
    "unknown key in transformation": defn(with_params(TX, ("transformation", "dataSetId"), 1)),
    "unknown key in a dependency": defn(task("a"), task("b", dependsOn=[{"externalId": "a", "type": "function"}])),
    "definition is a list": {"tasks": "a"},
    "no tasks key": {"description": "nothing"},
    "201 tasks": defn(*chain(201)),
    "inline subworkflow of 201 tasks": defn(sub_inline(*[task(f"i{n}") for n in range(201)])),
    "empty inline subworkflow": defn(sub_inline()),
    "timeout 59": defn(task("a", timeout=59)),
    "timeout 86401": defn(task("a", timeout=86401)),
    "timeout as text": defn(task("a", timeout="3600")),
    "timeout not whole": defn(task("a", timeout=60.5)),
    "retries -1": defn(task("a", retries=-1)),
    "retries 11": defn(task("a", retries=11)),
    "retries true": defn(task("a", retries=True)),
    "dependsOn 101 tasks": defn(*fan_in(101)),
    "duplicate ids": defn(task("a"), task("a")),
    "duplicate ids inside an inline subworkflow": defn(sub_inline(task("x"), task("x"))),
    "unknown dependency": defn(task("a", dependsOn=[{"externalId": "nowhere"}])),
    "inline task depends on an outer task": defn(task("a"), sub_inline(task("b", dependsOn=[{"externalId": "a"}]))),
    "cycle": defn(task("a", dependsOn=[{"externalId": "b"}]), task("b", dependsOn=[{"externalId": "a"}])),
    "self dependency": defn(task("a", dependsOn=[{"externalId": "a"}])),
    "nested subworkflow inside an inline subworkflow": defn(sub_inline(sub_inline(task("x"), xid="inner"))),
    "subworkflow reference inside an inline subworkflow": defn(sub_inline(SUB_REF)),
    "dynamic inside an inline subworkflow": defn(sub_inline(PREPARE, DYN)),
    "dependsOn as strings": defn(task("a"), task("b", dependsOn=["a"])),
    "dependsOn not a list": defn(task("a"), task("b", dependsOn={"externalId": "a"})),
    "unknown type": defn(task("a", type="lambda")),
    "the toolkit's cdfRequest type": defn({**REQ, "type": "cdfRequest"}),
    "no type": defn(task("a", type=None)),
    "no parameters": defn(task("a", parameters=None)),
    "another type's parameters": defn(task("a", type="transformation")),
    "no externalId": defn(task("a", externalId=None)),
    "externalId with whitespace": defn(task(" a")),
    "externalId of 256 characters": defn(task("a" * 256)),
    "externalId 'workflow'": defn(task("workflow")),
    "externalId starting with __": defn(task("__internal")),
    "task name of 256 characters": defn(task("a", name="n" * 256)),
    "task description of 501 characters": defn(task("a", description="d" * 501)),
    "definition description of 501 characters": defn(task("a"), description="d" * 501),
    "onFailure retry": defn(task("a", onFailure="retry")),
    "function without externalId": defn(task("a", parameters={"function": {"data": {}}})),
    "function data over 100 KB": defn(with_params(FN, ("function", "data"), {"blob": "x" * 102_400})),
    "isAsyncComplete as text": defn(with_params(FN, ("isAsyncComplete",), "yes")),
    "concurrencyPolicy unknown": defn(with_params(TX, ("transformation", "concurrencyPolicy"), "queue")),
    "concurrencyPolicy as a reference": defn(with_params(TX, ("transformation", "concurrencyPolicy"), "${a.b}")),
    "cdf method PATCH": defn(with_params(REQ, ("cdfRequest", "method"), "PATCH")),
    "cdf requestTimeoutInMillis 99": defn(with_params(REQ, ("cdfRequest", "requestTimeoutInMillis"), 99)),
    "cdf requestTimeoutInMillis not whole": defn(with_params(REQ, ("cdfRequest", "requestTimeoutInMillis"), 150.5)),
    "cdf version header gamma": defn(with_params(REQ, ("cdfRequest", "cdfVersionHeader"), "gamma")),
    "cdf resourcePath of 129 characters": defn(with_params(REQ, ("cdfRequest", "resourcePath"), "/" + "r" * 128)),
    "cdf queryParameters of 6 entries": defn(
        with_params(REQ, ("cdfRequest", "queryParameters"), {f"q{i}": "1" for i in range(6)})
    ),
    "cdf body over 1024 KiB": defn(with_params(REQ, ("cdfRequest", "body"), {"blob": "x" * (1024 * 1024)})),
    "dynamic tasks as a list": defn(with_params(DYN, ("dynamic", "tasks"), [task("x")]), PREPARE),
    "dynamic tasks as two references": defn(
        with_params(DYN, ("dynamic", "tasks"), "${prepare.output.a}${prepare.output.b}"), PREPARE
    ),
    "subworkflow with both forms": defn(with_params(SUB_REF, ("subworkflow", "tasks"), [task("x")])),
    "subworkflow reference without version": defn(with_params(SUB_REF, ("subworkflow",), {"workflowExternalId": "o"})),
    "subworkflow reference with whitespace": defn(with_params(SUB_REF, ("subworkflow", "workflowExternalId"), " o")),
    "simulation without routine": defn(with_params(SIM, ("simulation",), {"runTime": 1})),
    "simulation runTime as text": defn(with_params(SIM, ("simulation", "runTime"), "now")),
    "simulation value true": defn(with_params(SIM, ("simulation", "inputs"), [{"referenceId": "a", "value": True}])),
    "simulation 201 inputs": defn(
        with_params(SIM, ("simulation", "inputs"), [{"referenceId": f"r{i}", "value": i} for i in range(201)])
    ),
    "simulation input unknown key": defn(
        with_params(SIM, ("simulation", "inputs"), [{"referenceId": "a", "value": 1, "scale": 2}])
    ),
    "functionApp path of 256 characters": defn(with_params(APP, ("functionApp", "path"), "/" + "p" * 255)),
    "functionApp empty path": defn(with_params(APP, ("functionApp", "path"), "")),
    "functionApp 11 parameters": defn(
        with_params(APP, ("functionApp", "parameters"), {f"p{i}": "v" for i in range(11)})
    ),
    "functionApp parameter not a string": defn(with_params(APP, ("functionApp", "parameters"), {"n": 1})),
    "functionApp method HEAD": defn(with_params(APP, ("functionApp", "method"), "HEAD")),
    "functionApp without path": defn(with_params(APP, ("functionApp",), {"externalId": "a"})),
}

# --- the corpus: trigger rules ---------------------------------------------------------------------------------


def dm_rule(size: int = 10, timeout: int = 60, limit: int | None = None, entries: int = 1) -> dict[str, Any]:
    """A dataModeling rule whose `with` and `select` hold `entries` result sets, each with limit `limit`."""
    nodes = {"filter": {"equals": {"property": ["node", "space"], "value": "s"}}}
    names = [f"r{i}" for i in range(entries)]
    query = {
        "with": {n: {"nodes": nodes, "limit": size if limit is None else limit} for n in names},
        "select": {n: {} for n in names},
    }
    return {"triggerType": "dataModeling", "dataModelingQuery": query, "batchSize": size, "batchTimeout": timeout}


def rs_rule(**changes: Any) -> dict[str, Any]:
    rule: dict[str, Any] = {"triggerType": "recordStream", "streamExternalId": "readings"}
    rule.update(batchSize=10, batchTimeout=60)
    for key, value in changes.items():
        if value is None:
            rule.pop(key, None)
        else:
            rule[key] = value
    return rule


SOURCE = {"source": {"type": "container", "space": "s", "externalId": "c"}, "properties": ["*"]}

VALID_RULES: dict[str, dict[str, Any]] = {
    "schedule": {"triggerType": "schedule", "cronExpression": "0 2 * * *", "timezone": "Europe/Oslo"},
    "schedule without timezone": {"triggerType": "schedule", "cronExpression": "*/15 * * * 1-5"},
    "schedule in UTC": {"triggerType": "schedule", "cronExpression": "0 0 1 * *", "timezone": "UTC"},
    "dataModeling": dm_rule(),
    "dataModeling batchSize 1, batchTimeout 10": dm_rule(size=1, timeout=10),
    "dataModeling batchSize 1000, batchTimeout 86400": dm_rule(size=1000, timeout=86400),
    "dataModeling 50 result sets": dm_rule(entries=50),
    "recordStream": rs_rule(),
    "recordStream with every field": rs_rule(
        filter={"equals": {"property": ["space"], "value": "s"}}, sources=[SOURCE], initializeCursor="6h-ago"
    ),
    "recordStream batchSize 1 and 100": rs_rule(batchSize=100, batchTimeout=86400),
    "recordStream one-letter stream": rs_rule(streamExternalId="r", batchSize=1, batchTimeout=10),
}

INVALID_RULES: dict[str, Any] = {
    "not an object": "0 2 * * *",
    "unknown triggerType": {"triggerType": "hourly"},
    "no triggerType": {"cronExpression": "0 2 * * *"},
    "schedule with an unknown key": {"triggerType": "schedule", "cronExpression": "0 2 * * *", "tz": "UTC"},
    "schedule without cron": {"triggerType": "schedule"},
    "schedule hour 25": {"triggerType": "schedule", "cronExpression": "0 25 * * *"},
    "schedule with seconds": {"triggerType": "schedule", "cronExpression": "0 0 2 * * *"},
    "schedule @daily": {"triggerType": "schedule", "cronExpression": "@daily"},
    "schedule on Mars": {"triggerType": "schedule", "cronExpression": "0 2 * * *", "timezone": "Mars/Olympus"},
    "schedule empty timezone": {"triggerType": "schedule", "cronExpression": "0 2 * * *", "timezone": ""},
    "schedule null timezone": {"triggerType": "schedule", "cronExpression": "0 2 * * *", "timezone": None},
    "dataModeling batchSize 0": dm_rule(size=0),
    "dataModeling batchSize 1001": dm_rule(size=1001),
    "dataModeling batchTimeout 9": dm_rule(timeout=9),
    "dataModeling batchTimeout 86401": dm_rule(timeout=86401),
    "dataModeling limit differs from batchSize": dm_rule(size=10, limit=20),
    "dataModeling 51 result sets": dm_rule(entries=51),
    "dataModeling empty with": {**dm_rule(), "dataModelingQuery": {"with": {}, "select": {}}},
    "dataModeling select without with": {
        **dm_rule(),
        "dataModelingQuery": {**dm_rule()["dataModelingQuery"], "select": {"r0": {}, "ghost": {}}},
    },
    "dataModeling without query": {"triggerType": "dataModeling", "batchSize": 10, "batchTimeout": 60},
    "dataModeling with an unknown key": {**dm_rule(), "cursor": "x"},
    "recordStream batchSize 0": rs_rule(batchSize=0),
    "recordStream batchSize 101": rs_rule(batchSize=101),
    "recordStream batchTimeout 9": rs_rule(batchTimeout=9),
    "recordStream batchTimeout 86401": rs_rule(batchTimeout=86401),
    "recordStream without batchSize": rs_rule(batchSize=None),
    "recordStream without stream": rs_rule(streamExternalId=None),
    "recordStream stream with capitals": rs_rule(streamExternalId="Readings"),
    "recordStream stream ending in -": rs_rule(streamExternalId="readings-"),
    "recordStream stream of 101 characters": rs_rule(streamExternalId="r" * 101),
    "recordStream filter as a list": rs_rule(filter=[]),
    "recordStream sources not a list": rs_rule(sources=SOURCE),
    "recordStream source without properties": rs_rule(sources=[{"source": SOURCE["source"]}]),
    "recordStream source with an unknown key": rs_rule(sources=[{**SOURCE, "alias": "a"}]),
    "recordStream initializeCursor as a number": rs_rule(initializeCursor=6),
    "recordStream with an unknown key": rs_rule(partition=1),
}
