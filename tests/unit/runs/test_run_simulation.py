"""The run state machine under a simulated cluster: random graphs, random outcomes, chaos.

Every transition is checked by :class:`~tests.unit.runs.simulation.Cluster` (dependencies before
starts, attempt budgets, ``upstream_failed`` exactly below failures, late and duplicated
messages ignored, events matching changes); these tests add the end of the story: every run
ends, and ends the way its outcomes say.
"""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from tests.unit.runs.simulation import (
    FINISHES,
    WORKERS,
    Cluster,
    Finish,
    attempt_limits,
    check_run,
    dags,
)

INDEX = st.integers(min_value=0, max_value=1000)


class RunUnderChaos(RuleBasedStateMachine):
    """Any sequence of worker reports, broker misbehaviour, timer ticks, cancels and retries.

    After the sequence, a cluster that keeps working must bring the run to its end within a
    bound: no sequence can leave a run stuck.
    """

    cluster: Cluster
    rng: random.Random

    @initialize(data=st.data(), graph=dags(), rng=st.randoms(use_true_random=False))
    def begin(self, data: st.DataObject, graph: dict[str, list[str]], rng: random.Random) -> None:
        self.cluster = Cluster.start(graph, data.draw(attempt_limits(graph)))
        self.rng = rng

    @precondition(lambda self: self.cluster.inbox)
    @rule(index=INDEX, worker=st.sampled_from(WORKERS))
    def a_worker_picks_up_a_dispatch(self, index: int, worker: str) -> None:
        self.cluster.pick_up(index, worker)

    @precondition(lambda self: self.cluster.executing)
    @rule(index=INDEX, how=st.sampled_from(FINISHES))
    def an_attempt_ends(self, index: int, how: Finish) -> None:
        self.cluster.finish(index, how)

    @precondition(lambda self: self.cluster.executing)
    @rule(index=INDEX)
    def a_worker_restarts_and_gives_back_its_attempt(self, index: int) -> None:
        self.cluster.release(index)

    @precondition(lambda self: self.cluster.sent)
    @rule(index=INDEX)
    def the_broker_delivers_a_dispatch_again(self, index: int) -> None:
        self.cluster.redeliver(index)

    @precondition(lambda self: self.cluster.inbox)
    @rule(index=INDEX)
    def a_dispatch_is_lost(self, index: int) -> None:
        self.cluster.drop(index)

    @precondition(lambda self: self.cluster.delivered)
    @rule(index=INDEX)
    def an_old_message_arrives_again(self, index: int) -> None:
        self.cluster.replay(index)

    @precondition(lambda self: self.cluster.stale)
    @rule(index=INDEX)
    def a_stopped_attempt_reports(self, index: int) -> None:
        self.cluster.hear_from_the_past(index)

    @rule(seconds=st.floats(min_value=0, max_value=10), redeliver=st.booleans())
    def the_timer_plans(self, seconds: float, redeliver: bool) -> None:
        self.cluster.tick(seconds, redeliver=redeliver)

    @rule()
    def someone_cancels(self) -> None:
        self.cluster.cancel()

    @rule()
    def someone_retries(self) -> None:
        self.cluster.retry()

    @invariant()
    def the_run_is_consistent(self) -> None:
        check_run(self.cluster.run)

    def teardown(self) -> None:
        if hasattr(self, "cluster"):
            self.cluster.drain(self.rng)


RunUnderChaos.TestCase.settings = settings(max_examples=300, stateful_step_count=40, deadline=None)
TestRunUnderChaos = RunUnderChaos.TestCase


@given(dags(), st.data(), st.randoms(use_true_random=False))
def test_every_run_ends_within_a_bounded_number_of_actions(
    graph: dict[str, list[str]], data: st.DataObject, rng: random.Random
) -> None:
    cluster = Cluster.start(graph, data.draw(attempt_limits(graph)))
    cluster.drain(rng)
    assert cluster.run.state in {"succeeded", "failed"}


@given(dags(), st.data(), st.randoms(use_true_random=False))
def test_a_run_cancelled_at_any_moment_ends_cancelled_with_running_steps_terminated(
    graph: dict[str, list[str]], data: st.DataObject, rng: random.Random
) -> None:
    cluster = Cluster.start(graph, data.draw(attempt_limits(graph)))
    moment = data.draw(st.integers(min_value=0, max_value=cluster.bound()))
    cluster.drain(rng, cancel_after=moment)
    if cluster.cancelled:  # the cancel came before the end
        assert cluster.run.state == "cancelled"
        assert all(record.terminal for record in cluster.run.steps.values())
    else:
        assert cluster.run.state in {"succeeded", "failed"}


@given(dags(), st.data(), st.randoms(use_true_random=False))
def test_retry_after_the_end_runs_only_what_did_not_succeed(
    graph: dict[str, list[str]], data: st.DataObject, rng: random.Random
) -> None:
    cluster = Cluster.start(graph, data.draw(attempt_limits(graph)))
    cluster.drain(rng, cancel_after=data.draw(st.none() | st.integers(0, cluster.bound())))
    for _ in range(3):
        first_round = cluster.run
        cluster.retry()
        if first_round.state == "succeeded":
            assert cluster.run == first_round
            return
        cluster.drain(rng)
        for name, record in first_round.steps.items():
            if record.state == "succeeded":
                assert cluster.run.steps[name] == record


@given(dags(), st.data())
def test_a_run_whose_attempts_all_succeed_runs_each_step_once(
    graph: dict[str, list[str]], data: st.DataObject
) -> None:
    cluster = Cluster.start(graph, data.draw(attempt_limits(graph)))
    while cluster.inbox or cluster.executing:
        if cluster.inbox:
            cluster.pick_up(0, WORKERS[0])
        else:
            cluster.finish(0, "succeed")
    assert cluster.run.state == "succeeded"
    assert {step: count for (step, _), count in cluster.starts.items()} == dict.fromkeys(graph, 1)


@given(dags(), st.data())
def test_a_run_whose_attempts_all_fail_uses_every_attempt_of_its_first_steps(
    graph: dict[str, list[str]], data: st.DataObject
) -> None:
    limits = data.draw(attempt_limits(graph))
    cluster = Cluster.start(graph, limits)
    while not cluster.run.terminal:
        if cluster.inbox:
            cluster.pick_up(0, WORKERS[0])
        elif cluster.executing:
            cluster.finish(0, "fail")
        else:
            cluster.tick(3600.0)
    assert cluster.run.state == "failed"
    roots = [step for step, deps in graph.items() if not deps]
    assert {step: count for (step, _), count in cluster.starts.items()} == {
        step: limits[step] for step in roots
    }
    for step, record in cluster.run.steps.items():
        assert record.state == ("failed" if step in roots else "upstream_failed")
