"""Each transition of the run state machine, by example."""

from __future__ import annotations

import pytest

from datamill.pipelines.graph import CycleError, Graph
from datamill.runs.effects import Dispatch, Emit, Outcome, RunUpdated, StepUpdated, Terminate
from datamill.runs.machine import (
    WORKER_LOST,
    cancel,
    failed,
    lost,
    plan,
    released,
    retry,
    started,
    succeeded,
    timed_out,
)
from datamill.runs.records import RunRecord, StepRecord, new_run

CHAIN: Graph = {"extract": [], "clean": ["extract"], "report": ["clean"]}
DIAMOND: Graph = {"a": [], "b": ["a"], "c": ["a"], "d": ["b", "c"]}


def applied(outcome: Outcome) -> RunRecord:
    assert outcome.applied
    return outcome.run


def begin(graph: Graph, max_attempts: dict[str, int] | None = None) -> RunRecord:
    """A new run, planned at time 0."""
    return applied(plan(new_run(graph, max_attempts), 0.0))


def start(run: RunRecord, step: str, worker: str = "w1", now: float = 1.0) -> RunRecord:
    return applied(started(run, step, run.steps[step].attempt, worker, now))


def finish(run: RunRecord, *steps: str, now: float = 2.0) -> RunRecord:
    """Start and succeed each step in turn (each must be dispatched already)."""
    for step in steps:
        run = start(run, step, now=now)
        outputs = {"table": f"{step}.parquet"}
        run = applied(succeeded(run, step, run.steps[step].attempt, outputs, now))
    return run


def fail(run: RunRecord, step: str, now: float = 2.0, error: str = "exit status 1") -> RunRecord:
    run = start(run, step, now=now)
    return applied(failed(run, step, run.steps[step].attempt, error, now))


def states(run: RunRecord) -> dict[str, str]:
    return {name: record.state for name, record in run.steps.items()}


def assert_ignored(outcome: Outcome, run: RunRecord) -> None:
    assert not outcome.applied
    assert outcome.run == run
    assert outcome.effects == ()


# -- records ---------------------------------------------------------------------------------


def test_a_new_run_is_queued_with_each_steps_attempt_budget() -> None:
    run = new_run(CHAIN, {"clean": 3})
    assert run.state == "queued"
    assert states(run) == dict.fromkeys(CHAIN, "queued")
    assert [record.max_attempts for record in run.steps.values()] == [1, 3, 1]
    assert all(record.attempt == 0 for record in run.steps.values())


def test_a_new_run_refuses_a_graph_with_a_cycle() -> None:
    with pytest.raises(CycleError):
        new_run({"a": ["b"], "b": ["a"]})


def test_a_run_needs_one_record_per_step_of_its_graph() -> None:
    with pytest.raises(ValueError, match="one record per step"):
        RunRecord("queued", {"a": StepRecord("a")}, {"a": [], "b": []})


def test_a_step_needs_at_least_one_attempt() -> None:
    with pytest.raises(ValueError, match="max_attempts"):
        StepRecord("a", max_attempts=0)


# -- plan ------------------------------------------------------------------------------------


def test_plan_dispatches_the_steps_without_dependencies_as_attempt_1() -> None:
    outcome = plan(new_run(DIAMOND), 0.0)
    assert outcome.dispatches == [Dispatch("a", 1)]
    record = outcome.run.steps["a"]
    assert (record.state, record.attempt, record.dispatched_at) == ("queued", 1, 0.0)
    assert outcome.run.state == "queued"


def test_plan_does_not_dispatch_an_attempt_twice() -> None:
    run = begin(DIAMOND)
    outcome = plan(run, 5.0)
    assert outcome.applied
    assert outcome.effects == ()
    assert outcome.run == run


def test_plan_dispatches_a_step_once_all_its_dependencies_succeeded() -> None:
    run = finish(begin(DIAMOND), "a")
    assert run.steps["b"].in_flight and run.steps["c"].in_flight
    assert not run.steps["d"].in_flight
    run = finish(run, "b")
    assert not run.steps["d"].in_flight  # still needs c
    run = finish(run, "c")
    assert run.steps["d"].in_flight


def test_plan_leaves_a_step_waiting_for_its_backoff_until_then() -> None:
    run = fail(begin(CHAIN, {"extract": 2}), "extract", now=10.0)
    assert run.steps["extract"].next_attempt_at == 11.0
    assert plan(run, 10.5).dispatches == []
    outcome = plan(run, 11.0)
    assert outcome.dispatches == [Dispatch("extract", 2)]
    assert outcome.run.steps["extract"].next_attempt_at is None


def test_plan_never_dispatches_a_waiting_step() -> None:
    run = new_run(CHAIN)
    run = RunRecord("queued", {**run.steps, "extract": StepRecord("extract", "waiting")}, CHAIN)
    outcome = plan(run, 0.0)
    assert outcome.dispatches == []
    assert outcome.run.state == "queued"


def test_plan_fails_waiting_and_queued_steps_below_a_failure() -> None:
    graph: Graph = {"a": [], "b": ["a"], "c": ["b"], "other": []}
    run = new_run(graph)
    steps = {
        **run.steps,
        "a": StepRecord("a", "failed", attempt=1, error="boom"),
        "b": StepRecord("b", "waiting"),
    }
    outcome = plan(RunRecord("running", steps, graph), 4.0)
    assert states(outcome.run) == {
        "a": "failed",
        "b": "upstream_failed",
        "c": "upstream_failed",
        "other": "queued",
    }
    assert outcome.run.steps["c"].finished_at == 4.0
    assert outcome.dispatches == [Dispatch("other", 1)]


def test_plan_sends_again_a_dispatch_nobody_started_with_the_same_attempt() -> None:
    run = begin(CHAIN)
    assert plan(run, 20.0, redeliver_after=30.0).dispatches == []
    outcome = plan(run, 30.0, redeliver_after=30.0)
    assert outcome.dispatches == [Dispatch("extract", 1)]
    assert outcome.run.steps["extract"].dispatched_at == 30.0
    assert plan(outcome.run, 40.0, redeliver_after=30.0).dispatches == []


def test_a_run_without_steps_succeeds_at_once() -> None:
    assert plan(new_run({}), 0.0).run.state == "succeeded"


# -- started ---------------------------------------------------------------------------------


def test_started_makes_the_step_and_the_run_running() -> None:
    outcome = started(begin(CHAIN), "extract", 1, "w1", 1.5)
    record = outcome.run.steps["extract"]
    assert (record.state, record.worker, record.started_at) == ("running", "w1", 1.5)
    assert outcome.run.state == "running"
    assert outcome.changed == ("extract",)
    assert outcome.run_changed


def test_a_second_start_of_the_same_attempt_is_refused() -> None:
    run = start(begin(CHAIN), "extract", worker="w1")
    assert_ignored(started(run, "extract", 1, "w2", 2.0), run)
    assert_ignored(started(run, "extract", 1, "w1", 2.0), run)


def test_a_start_for_another_attempt_is_refused() -> None:
    run = begin(CHAIN)
    assert_ignored(started(run, "extract", 2, "w1", 1.0), run)
    assert_ignored(started(run, "extract", 0, "w1", 1.0), run)


def test_a_start_of_a_step_never_dispatched_is_refused() -> None:
    run = begin(CHAIN)
    assert_ignored(started(run, "clean", 1, "w1", 1.0), run)
    assert_ignored(started(run, "ghost", 1, "w1", 1.0), run)


def test_a_start_of_an_attempt_waiting_for_its_backoff_is_refused() -> None:
    run = fail(begin(CHAIN, {"extract": 2}), "extract")
    assert_ignored(started(run, "extract", 1, "w1", 5.0), run)


# -- succeeded -------------------------------------------------------------------------------


def test_succeeded_keeps_the_outputs_and_dispatches_what_follows() -> None:
    run = start(begin(CHAIN), "extract")
    outcome = succeeded(run, "extract", 1, {"rows": 10}, 3.0)
    record = outcome.run.steps["extract"]
    assert (record.state, record.outputs, record.finished_at) == ("succeeded", {"rows": 10}, 3.0)
    assert outcome.dispatches == [Dispatch("clean", 1)]


def test_success_of_the_last_step_succeeds_the_run() -> None:
    run = finish(begin(CHAIN), "extract", "clean", "report")
    assert run.state == "succeeded"
    assert all(record.state == "succeeded" for record in run.steps.values())


def test_success_reported_twice_counts_once() -> None:
    run = finish(begin(CHAIN), "extract")
    assert_ignored(succeeded(run, "extract", 1, {"rows": 99}, 9.0), run)


def test_success_of_a_step_not_started_is_ignored() -> None:
    run = begin(CHAIN)
    assert_ignored(succeeded(run, "extract", 1, {}, 1.0), run)


# -- failed and timed_out ----------------------------------------------------------------------


def test_a_failure_with_attempts_left_requeues_the_step_after_one_second() -> None:
    run = start(begin(CHAIN, {"extract": 3}), "extract")
    outcome = failed(run, "extract", 1, "exit status 2", 5.0)
    record = outcome.run.steps["extract"]
    assert (record.state, record.error, record.next_attempt_at) == ("queued", "exit status 2", 6.0)
    assert (record.worker, record.dispatched_at) == (None, None)
    assert outcome.dispatches == []
    assert outcome.run.state == "running"


def test_each_further_failure_doubles_the_wait() -> None:
    run = fail(begin(CHAIN, {"extract": 3}), "extract", now=5.0)
    run = applied(plan(run, 6.0))
    run = fail(run, "extract", now=7.0)
    assert run.steps["extract"].attempt == 2
    assert run.steps["extract"].next_attempt_at == 9.0


def test_jitter_shortens_the_wait_by_up_to_half() -> None:
    run = start(begin(CHAIN, {"extract": 2}), "extract")
    outcome = failed(run, "extract", 1, "boom", 5.0, jitter=1.0)
    assert outcome.run.steps["extract"].next_attempt_at == 5.5


def test_a_failure_of_the_last_attempt_fails_the_step_what_follows_and_the_run() -> None:
    run = fail(begin(CHAIN, {"extract": 1}), "extract", error="no such file")
    assert states(run) == {
        "extract": "failed",
        "clean": "upstream_failed",
        "report": "upstream_failed",
    }
    assert run.steps["extract"].error == "no such file"
    assert run.state == "failed"


def test_a_failure_leaves_independent_branches_running() -> None:
    run = finish(begin(DIAMOND), "a")
    run = start(run, "c")
    run = fail(run, "b")
    assert states(run) == {"a": "succeeded", "b": "failed", "c": "running", "d": "upstream_failed"}
    assert run.state == "running"
    run = applied(succeeded(run, "c", 1, {}, 3.0))
    assert run.state == "failed"


def test_a_failure_of_an_old_attempt_is_ignored() -> None:
    run = fail(begin(CHAIN, {"extract": 2}), "extract")
    run = start(applied(plan(run, 10.0)), "extract", now=10.0)
    assert_ignored(failed(run, "extract", 1, "late", 11.0), run)
    assert_ignored(succeeded(run, "extract", 1, {}, 11.0), run)


def test_a_time_out_is_a_failure_that_also_stops_the_attempt() -> None:
    run = start(begin(CHAIN, {"extract": 2}), "extract", worker="w7")
    outcome = timed_out(run, "extract", 1, 60, 61.0)
    record = outcome.run.steps["extract"]
    assert (record.state, record.error) == ("queued", "timed out after 60 s")
    assert outcome.terminations == [Terminate("extract", 1, "w7")]


def test_a_time_out_of_the_last_attempt_fails_the_step() -> None:
    run = start(begin(CHAIN), "extract")
    outcome = timed_out(run, "extract", 1, 2.5, 4.0)
    assert outcome.run.steps["extract"].state == "failed"
    assert outcome.run.steps["extract"].error == "timed out after 2.5 s"
    assert outcome.run.state == "failed"


# -- lost ------------------------------------------------------------------------------------


def test_a_lost_worker_gets_its_step_dispatched_again_at_once() -> None:
    run = start(begin(CHAIN, {"extract": 2}), "extract", worker="w1")
    outcome = lost(run, "extract", 1, "w1", 50.0)
    assert outcome.terminations == [Terminate("extract", 1, "w1")]
    assert outcome.dispatches == [Dispatch("extract", 2)]
    record = outcome.run.steps["extract"]
    assert (record.state, record.worker, record.error) == ("queued", None, WORKER_LOST)


def test_a_lost_worker_on_the_last_attempt_fails_the_step_with_worker_lost() -> None:
    run = start(begin(CHAIN), "extract", worker="w1")
    outcome = lost(run, "extract", 1, "w1", 50.0)
    assert outcome.run.steps["extract"].state == "failed"
    assert outcome.run.steps["extract"].error == "worker lost"
    assert outcome.run.state == "failed"


def test_a_lost_worker_that_no_longer_runs_the_attempt_changes_nothing() -> None:
    run = start(begin(CHAIN, {"extract": 2}), "extract", worker="w1")
    assert_ignored(lost(run, "extract", 1, "w2", 50.0), run)
    assert_ignored(lost(run, "extract", 2, "w1", 50.0), run)
    run = applied(lost(run, "extract", 1, "w1", 50.0))
    assert_ignored(lost(run, "extract", 1, "w1", 60.0), run)


def test_an_attempt_released_on_a_restart_runs_again_without_using_up_the_budget() -> None:
    run = start(begin(CHAIN), "extract", worker="w1")
    outcome = released(run, "extract", 1, "w1", 50.0)
    assert outcome.dispatches == [Dispatch("extract", 2)]
    record = outcome.run.steps["extract"]
    assert (record.state, record.worker, record.error) == ("queued", None, None)
    assert record.attempts_used == 1  # the new attempt only
    run = applied(started(outcome.run, "extract", 2, "w2", 60.0))
    assert_ignored(released(run, "extract", 2, "w1", 70.0), run)
    assert_ignored(released(run, "extract", 1, "w1", 70.0), run)


def test_a_retried_step_keeps_its_queue() -> None:
    run = new_run({"a": []}, queues={"a": "gpu"})
    run = fail(applied(plan(run, 0.0)), "a")
    outcome = retry(run, 3.0)
    assert outcome.dispatches == [Dispatch("a", 2, "gpu")]


# -- cancel ----------------------------------------------------------------------------------


def test_cancel_terminates_running_steps_and_cancels_the_unfinished_ones() -> None:
    run = finish(begin(DIAMOND), "a")
    run = start(run, "b", worker="w2")
    outcome = cancel(run, 9.0)
    assert outcome.terminations == [Terminate("b", 1, "w2")]
    assert states(outcome.run) == {
        "a": "succeeded",
        "b": "cancelled",
        "c": "cancelled",
        "d": "cancelled",
    }
    assert outcome.run.state == "cancelled"
    assert outcome.run.steps["a"] == run.steps["a"]


def test_cancel_cancels_waiting_steps_and_steps_waiting_for_a_retry() -> None:
    run = fail(begin(CHAIN, {"extract": 2}), "extract")
    run = RunRecord(run.state, {**run.steps, "clean": StepRecord("clean", "waiting")}, CHAIN)
    outcome = cancel(run, 3.0)
    assert states(outcome.run) == dict.fromkeys(CHAIN, "cancelled")
    assert outcome.run.steps["extract"].next_attempt_at is None


def test_cancel_keeps_failed_steps_as_they_are() -> None:
    run = finish(begin(DIAMOND), "a")
    run = fail(start(run, "c"), "b")
    outcome = cancel(run, 5.0)
    assert states(outcome.run) == {
        "a": "succeeded",
        "b": "failed",
        "c": "cancelled",
        "d": "upstream_failed",
    }
    assert outcome.run.state == "cancelled"


def test_cancel_of_a_finished_run_changes_nothing() -> None:
    run = finish(begin(CHAIN), "extract", "clean", "report")
    assert_ignored(cancel(run, 9.0), run)
    failed_run = fail(begin(CHAIN), "extract")
    assert_ignored(cancel(failed_run, 9.0), failed_run)


def test_messages_after_a_cancel_change_nothing() -> None:
    run = start(begin(CHAIN), "extract")
    run = applied(cancel(run, 3.0))
    assert_ignored(succeeded(run, "extract", 1, {}, 4.0), run)
    assert_ignored(failed(run, "extract", 1, "killed", 4.0), run)
    assert_ignored(started(run, "extract", 1, "w2", 4.0), run)
    assert_ignored(cancel(run, 5.0), run)


def test_a_dispatched_step_cancelled_before_it_started_is_never_started() -> None:
    run = applied(cancel(begin(CHAIN), 1.0))
    assert_ignored(started(run, "extract", 1, "w1", 2.0), run)


# -- retry -----------------------------------------------------------------------------------


def test_retry_runs_again_only_what_did_not_succeed() -> None:
    run = finish(begin(DIAMOND), "a", "c")
    run = fail(run, "b")
    outcome = retry(run, 10.0)
    assert states(outcome.run) == {"a": "succeeded", "b": "queued", "c": "succeeded", "d": "queued"}
    assert outcome.run.steps["a"] == run.steps["a"]
    assert outcome.run.steps["c"].outputs == {"table": "c.parquet"}
    assert outcome.dispatches == [Dispatch("b", 2)]
    assert outcome.run.state == "running"


def test_retry_gives_a_fresh_budget_with_attempt_numbers_that_keep_rising() -> None:
    run = fail(begin(CHAIN, {"extract": 1}), "extract")
    run = applied(retry(run, 10.0))
    record = run.steps["extract"]
    assert (record.attempt, record.attempts_before, record.attempts_left) == (2, 1, 0)
    assert record.error is None and record.in_flight
    assert run.state == "queued"


def test_a_late_message_from_before_a_retry_is_ignored() -> None:
    run = fail(begin(CHAIN), "extract")
    run = applied(retry(run, 10.0))
    assert_ignored(started(run, "extract", 1, "w1", 11.0), run)
    run = start(run, "extract", now=11.0)
    assert_ignored(succeeded(run, "extract", 1, {}, 12.0), run)


def test_retry_of_a_cancelled_run_starts_the_cancelled_steps_again() -> None:
    run = start(finish(begin(CHAIN), "extract"), "clean", worker="w3")
    run = applied(cancel(run, 5.0))
    outcome = retry(run, 6.0)
    assert states(outcome.run) == {"extract": "succeeded", "clean": "queued", "report": "queued"}
    assert outcome.dispatches == [Dispatch("clean", 2)]
    assert outcome.run.state == "running"


def test_retry_of_a_run_with_nothing_failed_changes_nothing() -> None:
    done = finish(begin(CHAIN), "extract", "clean", "report")
    assert_ignored(retry(done, 9.0), done)
    going = begin(CHAIN)
    assert_ignored(retry(going, 9.0), going)


def test_retry_while_other_branches_still_run_leaves_them_running() -> None:
    run = finish(begin(DIAMOND), "a")
    run = fail(start(run, "c", worker="w5"), "b")
    outcome = retry(run, 6.0)
    assert states(outcome.run)["c"] == "running"
    assert outcome.dispatches == [Dispatch("b", 2)]
    assert outcome.run.state == "running"


# -- events ----------------------------------------------------------------------------------


def test_every_changed_step_is_emitted_once() -> None:
    run = start(begin(CHAIN), "extract", worker="w1")
    outcome = succeeded(run, "extract", 1, {}, 3.0)
    assert [e for e in outcome.effects if isinstance(e, Emit)] == [
        Emit(StepUpdated("extract", "succeeded", 1, "w1", None, None, 3.0)),
        Emit(StepUpdated("clean", "queued", 1, None, None, None, 3.0)),
    ]
    assert outcome.changed == ("extract", "clean")
    assert not outcome.run_changed


def test_a_run_state_change_is_emitted_after_the_steps() -> None:
    run = start(begin({"only": []}), "only", worker="w1")
    outcome = succeeded(run, "only", 1, {}, 3.0)
    assert outcome.events == [
        StepUpdated("only", "succeeded", 1, "w1", None, None, 3.0),
        RunUpdated("succeeded", 3.0),
    ]
    assert StepUpdated.type == "step.updated"
    assert RunUpdated.type == "run.updated"


def test_effects_come_in_the_order_to_carry_them_out() -> None:
    run = start(begin(DIAMOND, {"a": 2}), "a", worker="w1")
    outcome = lost(run, "a", 1, "w1", 7.0)
    kinds = [type(effect).__name__ for effect in outcome.effects]
    assert kinds == ["Terminate", "Dispatch", "Emit"]
