"""Subscription filters and the requests a WebSocket client sends."""

from __future__ import annotations

import pytest

from datamill.events.filters import (
    MAX_MESSAGE_CHARS,
    FilterError,
    Filters,
    FollowLog,
    Subscribe,
    filters_from_query,
    parse_client_message,
)

RUN_A = "11111111-1111-4111-8111-111111111111"
RUN_B = "22222222-2222-4222-8222-222222222222"
DATA = "33333333-3333-4333-8333-333333333333"


def test_no_filter_lets_every_event_through() -> None:
    for kind in ("run.updated", "step.updated", "dataset.revision", "worker.updated", "other"):
        assert Filters().matches(kind, RUN_A)


def test_each_filter_narrows_only_the_events_it_concerns() -> None:
    filters = filters_from_query({"run": [RUN_A]})
    assert filters.matches("step.updated", RUN_A)
    assert not filters.matches("step.updated", RUN_B)
    assert filters.matches("worker.updated", "w1")
    assert filters.matches("dataset.revision", DATA)
    by_type = filters_from_query({"types": ["run.updated,worker.updated"]})
    assert by_type.matches("run.updated", RUN_B)
    assert not by_type.matches("step.updated", RUN_B)
    assert not by_type.matches("dataset.revision", DATA)


def test_query_values_may_be_repeated_or_comma_separated() -> None:
    filters = filters_from_query({"run": [f"{RUN_A},{RUN_B}"], "dataset": [DATA, DATA]})
    assert filters.runs == frozenset({RUN_A, RUN_B}) and filters.datasets == frozenset({DATA})


def test_an_empty_list_lets_none_through_and_null_removes_the_filter() -> None:
    none = Filters().changed({"runs": []})
    assert not none.matches("run.updated", RUN_A)
    assert none.changed({"runs": None}).matches("run.updated", RUN_A)


def test_a_change_leaves_the_filters_it_does_not_name() -> None:
    filters = Filters().changed({"types": ["step.updated"], "runs": [RUN_A]})
    changed = filters.changed({"runs": [RUN_B]})
    assert changed.types == frozenset({"step.updated"}) and changed.runs == frozenset({RUN_B})


@pytest.mark.parametrize(
    ("update", "words"),
    [
        ({"types": ["run.update"]}, "unknown event type 'run.update'"),
        ({"runs": ["not-an-id"]}, "not an id"),
        ({"runs": RUN_A}, "must be a list"),
        ({"datasets": [1]}, "must be a list"),
        ({"colour": ["red"]}, "unknown filter 'colour'"),
        ({"runs": [RUN_A] * 1001}, "at most 1000"),
    ],
)
def test_a_bad_filter_is_refused_with_its_reason(update: dict[str, object], words: str) -> None:
    with pytest.raises(FilterError, match=words):
        Filters().changed(update)


def test_client_requests_are_parsed() -> None:
    assert parse_client_message('{"subscribe": {"runs": []}}') == Subscribe({"runs": []})
    follow = parse_client_message(f'{{"follow_log": {{"run": "{RUN_A}", "step": "count"}}}}')
    assert follow == FollowLog(RUN_A, "count", follow=True)
    stop = parse_client_message(f'{{"unfollow_log": {{"run": "{RUN_A}", "step": "count"}}}}')
    assert stop == FollowLog(RUN_A, "count", follow=False)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("garbage", "not JSON"),
        ("[1, 2]", "one object with one key"),
        ('{"subscribe": {}, "follow_log": {}}', "one object with one key"),
        ('{"subscribe": [1]}', "takes an object"),
        ('{"subscribe": {"types": ["nope"]}}', "unknown event type"),
        ('{"follow_log": {"run": "x", "step": "a"}}', "must be a run id"),
        (f'{{"follow_log": {{"run": "{RUN_A}", "step": "../etc"}}}}', "must be a step name"),
        ('{"dance": {}}', "unknown request 'dance'"),
        (" " * (MAX_MESSAGE_CHARS + 1), "at most"),
    ],
)
def test_a_malformed_request_is_explained(text: str, words: str) -> None:
    with pytest.raises(FilterError, match=words):
        parse_client_message(text)
