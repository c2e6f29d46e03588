"""Check-time validation of schedule and dataModeling trigger rules; a schedule rule in words and its next firing."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest
from pulumi.output import Unknown

from pulumi_cdf_workflows.validation.fields import UNKNOWN
from pulumi_cdf_workflows.validation.trigger_rules import describe_schedule, rule_problems

from .conftest import _data_modeling, _schedule


def _query(with_entries: int, select_entries: int) -> dict[str, Any]:
    return {
        "with": {f"set{i}": {"nodes": {}, "limit": 100.0} for i in range(with_entries)},
        "select": {f"set{i}": {} for i in range(select_entries)},
    }


def _utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=timezone.utc)


# --- valid rules ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "rule",
    [
        _schedule("0 2 * * 1", timezone="Europe/Oslo"),
        _schedule("0 2 * * 1"),
        _schedule("*/15 * * * *", timezone="UTC"),
        _schedule("0 2 * * MON-FRI", timezone="America/New_York"),
    ],
)
def test_a_valid_schedule_rule_has_no_problems(rule: dict[str, Any]) -> None:
    assert rule_problems(rule) == []


def test_a_valid_data_modeling_rule_with_engine_floats_has_no_problems() -> None:
    assert rule_problems(_data_modeling()) == []


@pytest.mark.parametrize(
    ("prop", "value"), [("batchSize", 1.0), ("batchSize", 1000.0), ("batchTimeout", 10.0), ("batchTimeout", 86_400.0)]
)
def test_batch_size_and_timeout_at_their_limits_are_accepted(prop: str, value: float) -> None:
    assert rule_problems(_data_modeling(**{prop: value})) == []


def test_a_query_of_fifty_with_and_fifty_select_entries_is_accepted() -> None:
    assert rule_problems(_data_modeling(dataModelingQuery=_query(50, 50))) == []


# --- schedule refusals ------------------------------------------------------------------------------------


@pytest.mark.parametrize("cron", ["0 25 * * *", "61 * * * *", "not cron", "*/0 * * * *", "0 0 30 2 *"])
def test_an_invalid_cron_expression_is_refused_naming_it(cron: str) -> None:
    problems = rule_problems(_schedule(cron, timezone="Europe/Oslo"))
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"trigger_rule.cronExpression {cron!r} is not a valid cron expression")


def test_the_cron_refusal_says_which_field_is_wrong() -> None:
    assert "Bad hour" in rule_problems(_schedule("0 25 * * *"))[0]
    assert "Bad minute" in rule_problems(_schedule("61 * * * *"))[0]


@pytest.mark.parametrize("cron", ["", "   "])
def test_an_empty_cron_expression_is_refused_asking_for_cron_expression(cron: str) -> None:
    assert rule_problems(_schedule(cron)) == [
        "trigger_rule: a schedule rule needs cronExpression, e.g. '0 2 * * 1' (02:00 every Monday)"
    ]


def test_a_schedule_rule_without_cron_expression_is_refused() -> None:
    problems = rule_problems({"triggerType": "schedule", "timezone": "Europe/Oslo"})
    assert len(problems) == 1
    assert "needs cronExpression" in problems[0]


@pytest.mark.parametrize("tz", ["Mars/Olympus", "Europe", "europe/oslo", "UTC ", "../etc/passwd"])
def test_an_unknown_time_zone_is_refused_naming_it(tz: str) -> None:
    problems = rule_problems(_schedule(timezone=tz))
    assert problems == [f"trigger_rule.timezone {tz!r} is not an IANA time zone (e.g. 'Europe/Oslo')"]


def test_a_bad_time_zone_and_a_bad_cron_are_both_reported() -> None:
    problems = rule_problems(_schedule("0 25 * * *", timezone="Mars/Olympus"))
    assert len(problems) == 2
    assert any("'Mars/Olympus'" in p for p in problems)
    assert any("'0 25 * * *'" in p for p in problems)


def test_unknown_keys_in_a_schedule_rule_are_refused_listing_the_keys_cdf_knows() -> None:
    problems = rule_problems(_schedule(cron_expression="0 2 * * *", tz="Europe/Oslo"))
    assert problems == [
        "trigger_rule: unknown key 'cron_expression' (a schedule rule takes cronExpression, timezone); "
        "did you mean 'cronExpression'?",
        "trigger_rule: unknown key 'tz' (a schedule rule takes cronExpression, timezone)",
    ]


def test_an_unknown_key_in_a_data_modeling_rule_is_refused_with_the_key_meant() -> None:
    assert rule_problems(_data_modeling(batchTimout=60)) == [
        "trigger_rule: unknown key 'batchTimout' (a dataModeling rule takes dataModelingQuery, batchSize, "
        "batchTimeout); did you mean 'batchTimeout'?"
    ]


@pytest.mark.parametrize(
    ("kind", "shown"), [("cron", "'cron'"), ("Schedule", "'Schedule'; did you mean 'schedule'?"), (None, "None")]
)
def test_an_unknown_trigger_type_is_refused_naming_it(kind: Any, shown: str) -> None:
    problems = rule_problems({"triggerType": kind, "cronExpression": "0 2 * * *"})
    assert problems == [f"trigger_rule.triggerType must be 'schedule', 'dataModeling' or 'recordStream', got {shown}"]


@pytest.mark.parametrize(
    ("rule", "shown"), [("0 2 * * *", "'0 2 * * *'"), (None, "None"), (["schedule"], "['schedule']")]
)
def test_a_rule_that_is_not_an_object_is_refused(rule: Any, shown: str) -> None:
    assert rule_problems(rule) == [
        f"trigger_rule must be an object with triggerType ('schedule', 'dataModeling' or 'recordStream'), got {shown}"
    ]


# --- dataModeling refusals --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "shown"),
    [(0.0, "0"), (1001.0, "1001"), (1.5, "1.5"), (-1.0, "-1"), (True, "True"), ("100", "'100'"), (None, "None")],
)
def test_a_batch_size_outside_1_to_1000_is_refused(size: Any, shown: str) -> None:
    assert rule_problems(_data_modeling(batchSize=size)) == [
        f"trigger_rule.batchSize must be a whole number from 1 to 1000, got {shown}"
    ]


@pytest.mark.parametrize(("seconds", "shown"), [(9.0, "9"), (86_401.0, "86401"), (60.5, "60.5"), (None, "None")])
def test_a_batch_timeout_outside_10_to_86400_seconds_is_refused(seconds: Any, shown: str) -> None:
    assert rule_problems(_data_modeling(batchTimeout=seconds)) == [
        f"trigger_rule.batchTimeout must be a whole number of seconds from 10 to 86400, got {shown}"
    ]


@pytest.mark.parametrize(
    ("query", "part"),
    [
        (_query(0, 1), "with"),
        (_query(51, 1), "with"),
        (_query(1, 0), "select"),
        ({"with": [{"nodes": {}}], "select": {"set0": {}}}, "with"),
        ({"with": {"set0": {"nodes": {}}}}, "select"),
    ],
)
def test_with_and_select_must_hold_1_to_50_entries(query: dict[str, Any], part: str) -> None:
    problems = rule_problems(_data_modeling(dataModelingQuery=query))
    assert any(p.startswith(f"trigger_rule.dataModelingQuery.{part} must hold 1 to 50 entries, got") for p in problems)


def test_a_select_of_fifty_one_entries_is_refused() -> None:
    problems = rule_problems(_data_modeling(dataModelingQuery=_query(50, 51)))
    assert "trigger_rule.dataModelingQuery.select must hold 1 to 50 entries, got 51 entries" in problems


def test_a_data_modeling_rule_without_a_query_is_refused() -> None:
    rule = _data_modeling()
    del rule["dataModelingQuery"]
    assert rule_problems(rule) == [
        "trigger_rule: a dataModeling rule needs dataModelingQuery with `with` and `select`, got None"
    ]


def test_every_data_modeling_problem_is_reported_at_once() -> None:
    problems = rule_problems(_data_modeling(dataModelingQuery=_query(0, 0), batchSize=0.0, batchTimeout=9.0))
    assert len(problems) == 4


# --- preview unknowns -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "rule",
    [
        UNKNOWN,
        _schedule(UNKNOWN),
        _schedule("0 25 * * *", timezone=UNKNOWN),
        _data_modeling(batchSize=UNKNOWN, batchTimeout=0.0),
    ],
)
def test_a_rule_with_an_unknown_part_is_not_refused(rule: Any) -> None:
    assert rule_problems(rule) == []


def test_a_rule_with_an_unknown_object_from_the_plugin_is_not_refused() -> None:
    assert rule_problems(_schedule("0 25 * * *", timezone=Unknown())) == []  # type: ignore[no-untyped-call]


# --- describe_schedule ------------------------------------------------------------------------------------


def test_a_weekly_oslo_schedule_in_words_and_its_next_firing() -> None:
    described = describe_schedule(_schedule("0 2 * * 1", timezone="Europe/Oslo"), now=_utc(2026, 11, 27, 12))
    assert described == {
        "schedule": "At 02:00, only on Monday (Europe/Oslo)",
        "next_fire_time": "Mon 30 Nov 2026 02:00 Europe/Oslo",
    }


def test_a_rule_without_a_time_zone_is_described_and_computed_in_utc() -> None:
    described = describe_schedule(_schedule("0 2 * * 1"), now=_utc(2026, 11, 27, 12))
    assert described == {
        "schedule": "At 02:00, only on Monday (UTC)",
        "next_fire_time": "Mon 30 Nov 2026 02:00 UTC",
    }


def test_the_next_firing_is_computed_in_the_rules_time_zone_not_in_utc() -> None:
    # 01:30 UTC on Monday is 02:30 in Oslo: this Monday's 02:00 has passed there, not yet in UTC.
    now = _utc(2026, 11, 30, 1, 30)
    oslo = describe_schedule(_schedule("0 2 * * 1", timezone="Europe/Oslo"), now=now)
    utc = describe_schedule(_schedule("0 2 * * 1", timezone="UTC"), now=now)
    assert oslo["next_fire_time"] == "Mon 07 Dec 2026 02:00 Europe/Oslo"
    assert utc["next_fire_time"] == "Mon 30 Nov 2026 02:00 UTC"


def test_the_next_firing_is_after_now_not_at_now() -> None:
    described = describe_schedule(_schedule("0 2 * * 1", timezone="Europe/Oslo"), now=_utc(2026, 11, 30, 1, 0))
    assert described["next_fire_time"] == "Mon 07 Dec 2026 02:00 Europe/Oslo"


def test_times_are_in_words_with_a_24_hour_clock() -> None:
    described = describe_schedule(_schedule("30 14 * * *", timezone="Europe/Oslo"), now=_utc(2026, 6, 1, 6))
    assert described == {
        "schedule": "At 14:30 (Europe/Oslo)",
        "next_fire_time": "Mon 01 Jun 2026 14:30 Europe/Oslo",
    }


def test_an_every_15_minutes_schedule_in_words() -> None:
    described = describe_schedule(_schedule("*/15 * * * *"), now=_utc(2026, 3, 28, 12, 5))
    assert described == {"schedule": "Every 15 minutes (UTC)", "next_fire_time": "Sat 28 Mar 2026 12:15 UTC"}


@pytest.mark.parametrize("cron", ["0 2 * * *", "30 2 * * *"])
def test_a_firing_in_the_hour_skipped_by_spring_dst_runs_at_0300_when_clocks_jump(cron: str) -> None:
    # Oslo's clocks go from 02:00 to 03:00 on 29 March 2026; cronsim fires the skipped time right after the jump.
    described = describe_schedule(_schedule(cron, timezone="Europe/Oslo"), now=_utc(2026, 3, 28, 12))
    assert described["next_fire_time"] == "Sun 29 Mar 2026 03:00 Europe/Oslo"


def test_the_day_after_spring_dst_fires_at_the_written_time_again() -> None:
    described = describe_schedule(_schedule("0 2 * * *", timezone="Europe/Oslo"), now=_utc(2026, 3, 29, 12))
    assert described["next_fire_time"] == "Mon 30 Mar 2026 02:00 Europe/Oslo"


def test_a_time_repeated_by_autumn_dst_fires_once_not_again_after_the_clocks_go_back() -> None:
    rule = _schedule("30 2 * * *", timezone="Europe/Oslo")
    # Oslo's clocks go from 03:00 back to 02:00 on 25 October 2026, so 02:30 happens twice that night.
    assert describe_schedule(rule, now=_utc(2026, 10, 24, 12))["next_fire_time"] == "Sun 25 Oct 2026 02:30 Europe/Oslo"
    # 00:45 UTC is 02:45 summer time, after the first 02:30: the second 02:30 (01:30 UTC) is skipped.
    after_first = describe_schedule(rule, now=_utc(2026, 10, 25, 0, 45))
    assert after_first["next_fire_time"] == "Mon 26 Oct 2026 02:30 Europe/Oslo"


def test_a_batch_rule_says_when_it_fires_in_words_and_has_no_next_firing() -> None:
    stream = {"triggerType": "recordStream", "streamExternalId": "readings", "batchSize": 500.0, "batchTimeout": 120.0}
    assert describe_schedule(stream) == {
        "schedule": "When records arrive in stream 'readings': in batches of up to 500, or after 120 s for a "
        "smaller batch",
        "next_fire_time": None,
    }
    described = describe_schedule(_data_modeling())
    assert described["next_fire_time"] is None
    assert str(described["schedule"]).startswith("When instances match its data-modeling query: in batches of up to")


# --- found by these tests, fixed ------------------------------------------------------------------------


def test_a_six_field_cron_expression_is_refused() -> None:
    problems = rule_problems(_schedule("0 0 2 * * 1"))
    assert len(problems) == 1
    assert "'0 0 2 * * 1'" in problems[0]


def test_an_empty_time_zone_is_refused() -> None:
    assert rule_problems(_schedule(timezone="")) != []


def test_a_data_modeling_select_must_read_a_with_entry_fetched_in_batches() -> None:
    rule = {
        "triggerType": "dataModeling",
        "dataModelingQuery": {"with": {"a": {"nodes": {}, "limit": 50.0}}, "select": {"a": {}, "b": {}}},
        "batchSize": 100,
        "batchTimeout": 60,
    }
    problems = rule_problems(rule)
    assert "trigger_rule.dataModelingQuery.with.a.limit must equal batchSize (100), got 50" in problems
    assert "trigger_rule.dataModelingQuery.select.b has no dataModelingQuery.with.b" in problems
