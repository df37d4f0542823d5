"""A simulated cluster that drives the run state machine and checks every outcome it gets.

The cluster plays the executor and the workers: it starts only attempts named by a
:class:`Dispatch` effect, carries out :class:`Terminate` effects, and can misbehave the way a real
broker does (deliver a dispatch twice, lose one, deliver a message again long after). After each
transition it checks the properties the orchestrator relies on; a broken one fails the test at
the transition that broke it.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from hypothesis import strategies as st

from datamill.pipelines.graph import Graph
from datamill.runs import machine
from datamill.runs.backoff import DEFAULT_BACKOFF
from datamill.runs.effects import Dispatch, Outcome, RunUpdated, StepUpdated, Terminate
from datamill.runs.records import RunRecord, new_run
from tests.strategies import dags as shared_dags

WORKERS = ("w1", "w2", "w3")
TIMEOUT = 30.0
Finish = Literal["succeed", "fail", "time_out", "lose"]
FINISHES: tuple[Finish, ...] = ("succeed", "fail", "time_out", "lose")


def dags() -> st.SearchStrategy[dict[str, list[str]]]:
    """Random DAGs small enough to simulate many times over."""
    return shared_dags(max_size=8)


@st.composite
def attempt_limits(draw: st.DrawFn, graph: Graph) -> dict[str, int]:
    """Each step's max_attempts (its task's retries + 1)."""
    return {name: draw(st.integers(min_value=1, max_value=3)) for name in graph}


@dataclass(frozen=True)
class Started:
    step: str
    attempt: int
    worker: str

    def deliver(self, run: RunRecord, now: float) -> Outcome:
        return machine.started(run, self.step, self.attempt, self.worker, now)


@dataclass(frozen=True)
class Succeeded:
    step: str
    attempt: int

    def deliver(self, run: RunRecord, now: float) -> Outcome:
        outputs = {"made_by": f"{self.step}#{self.attempt}"}
        return machine.succeeded(run, self.step, self.attempt, outputs, now)


@dataclass(frozen=True)
class Failed:
    step: str
    attempt: int

    def deliver(self, run: RunRecord, now: float) -> Outcome:
        return machine.failed(run, self.step, self.attempt, "exit status 1", now, jitter=0.5)


@dataclass(frozen=True)
class TimedOut:
    step: str
    attempt: int

    def deliver(self, run: RunRecord, now: float) -> Outcome:
        return machine.timed_out(run, self.step, self.attempt, TIMEOUT, now)


@dataclass(frozen=True)
class Lost:
    step: str
    attempt: int
    worker: str

    def deliver(self, run: RunRecord, now: float) -> Outcome:
        return machine.lost(run, self.step, self.attempt, self.worker, now)


@dataclass(frozen=True)
class Released:
    step: str
    attempt: int
    worker: str

    def deliver(self, run: RunRecord, now: float) -> Outcome:
        return machine.released(run, self.step, self.attempt, self.worker, now)


Message = Started | Succeeded | Failed | TimedOut | Lost | Released


@dataclass
class Cluster:
    """The executor and its workers, around one run."""

    run: RunRecord
    now: float = 0.0
    inbox: list[Dispatch] = field(default_factory=list)
    """Dispatches on their way to a worker."""
    sent: list[Dispatch] = field(default_factory=list)
    """Every dispatch ever sent: the broker may deliver any of them again."""
    executing: dict[tuple[str, int], str] = field(default_factory=dict)
    """The attempts that really run, and where."""
    delivered: list[Message] = field(default_factory=list)
    """Every message delivered once: delivering one again must change nothing."""
    stale: list[Message] = field(default_factory=list)
    """What terminated or cut-off attempts may still say, some time later."""
    starts: Counter[tuple[str, int]] = field(default_factory=Counter)
    """Applied starts per step and round (a round is named by its ``attempts_before``)."""
    ever_succeeded: set[str] = field(default_factory=set)
    cancelled: bool = False

    @classmethod
    def start(cls, graph: Graph, max_attempts: Mapping[str, int]) -> Cluster:
        cluster = cls(new_run(graph, max_attempts))
        cluster.apply(machine.plan(cluster.run, cluster.now))
        return cluster

    # -- what the outside world does ------------------------------------------------------

    def pick_up(self, index: int, worker: str) -> None:
        """A worker takes a dispatch from the broker and reports that it starts it."""
        dispatch = self.inbox.pop(index % len(self.inbox))
        self.deliver(Started(dispatch.step, dispatch.attempt, worker))

    def finish(self, index: int, how: Finish) -> None:
        """An attempt that runs ends: well, badly, by running too long, or with its worker."""
        key = sorted(self.executing)[index % len(self.executing)]
        step, attempt = key
        if how == "time_out":  # noticed by the orchestrator: the attempt still runs
            self.deliver(TimedOut(step, attempt))
            assert key not in self.executing, "a timed out attempt is terminated"
            return
        worker = self.executing.pop(key)
        message: Message
        if how == "succeed":
            message = Succeeded(step, attempt)
        elif how == "fail":
            message = Failed(step, attempt)
        else:
            message = Lost(step, attempt, worker)
        self.deliver(message)

    def release(self, index: int) -> None:
        """A worker stops on purpose (a restart) and gives back the attempt it runs."""
        key = sorted(self.executing)[index % len(self.executing)]
        worker = self.executing.pop(key)
        self.deliver(Released(key[0], key[1], worker))

    def redeliver(self, index: int) -> None:
        """The broker hands out a dispatch it already delivered (at-least-once delivery)."""
        self.inbox.append(self.sent[index % len(self.sent)])

    def drop(self, index: int) -> None:
        """A dispatch never reaches a worker (the server died between commit and send)."""
        self.inbox.pop(index % len(self.inbox))

    def replay(self, index: int) -> None:
        """A message already delivered arrives again, late: it must change nothing."""
        message = self.delivered[index % len(self.delivered)]
        outcome = message.deliver(self.run, self.now)
        assert not outcome.applied, f"{message} applied twice"
        self.check(self.run, outcome)

    def hear_from_the_past(self, index: int) -> None:
        """An attempt that no longer counts (stopped, cut off) reports: it must change nothing."""
        message = self.stale[index % len(self.stale)]
        outcome = message.deliver(self.run, self.now)
        assert not outcome.applied, f"{message} from a stopped attempt applied"
        self.check(self.run, outcome)

    def tick(self, seconds: float, *, redeliver: bool = False) -> None:
        """Time passes and the orchestrator's timer plans the run."""
        self.now += seconds
        self.apply(machine.plan(self.run, self.now, redeliver_after=0.0 if redeliver else None))

    def cancel(self) -> None:
        """Someone cancels: every attempt running gets a Terminate, and the run is cancelled."""
        before = self.run
        outcome = self.apply(machine.cancel(before, self.now))
        assert outcome.applied != before.terminal
        if outcome.applied:
            self.cancelled = True
            running = {
                Terminate(name, record.attempt, record.worker or "")
                for name, record in before.steps.items()
                if record.state == "running"
            }
            assert set(outcome.terminations) == running
            assert outcome.run.state == "cancelled"

    def retry(self) -> None:
        """Someone retries: the run may leave ``cancelled`` again."""
        outcome = machine.retry(self.run, self.now)
        if outcome.applied:
            self.cancelled = False
        self.apply(outcome)

    # -- the machine's side -------------------------------------------------------------

    def deliver(self, message: Message) -> Outcome:
        before = self.run
        outcome = message.deliver(before, self.now)
        if isinstance(message, Started) and outcome.applied:
            self.record_start(before, outcome.run, message)
        elif isinstance(message, Started) and not self.runs_on(message):
            # The refused worker never ran the attempt: its death must not count as the step's.
            self.stale.append(Lost(message.step, message.attempt, message.worker))
        if isinstance(message, Failed | TimedOut) and outcome.applied:
            check_backoff(before, outcome.run, message, self.now)
        self.apply(outcome)
        self.delivered.append(message)
        return outcome

    def runs_on(self, message: Started) -> bool:
        return self.executing.get((message.step, message.attempt)) == message.worker

    def record_start(self, before: RunRecord, after: RunRecord, message: Started) -> None:
        """A worker really starts the attempt: no earlier than its dependencies allow, and no
        more often than its budget allows."""
        step = message.step
        assert all(before.steps[dep].state == "succeeded" for dep in before.dependencies(step))
        round_ = after.steps[step].attempts_before
        self.starts[step, round_] += 1
        assert self.starts[step, round_] <= after.steps[step].max_attempts
        assert (step, message.attempt) not in self.executing
        self.executing[step, message.attempt] = message.worker

    def apply(self, outcome: Outcome) -> Outcome:
        before = self.run
        self.check(before, outcome)
        self.run = outcome.run
        for effect in outcome.effects:
            if isinstance(effect, Dispatch):
                self.inbox.append(effect)
                self.sent.append(effect)
            elif isinstance(effect, Terminate):
                self.terminate(effect)
        self.ever_succeeded |= {n for n, r in self.run.steps.items() if r.state == "succeeded"}
        self.check_cluster()
        return outcome

    def terminate(self, effect: Terminate) -> None:
        """Stop the attempt; whatever it says afterwards must be ignored."""
        if self.executing.get((effect.step, effect.attempt)) == effect.worker:
            del self.executing[effect.step, effect.attempt]
        late = Succeeded(effect.step, effect.attempt).deliver(self.run, self.now)
        assert not late.applied, f"a terminated attempt of {effect.step} still counts"
        self.stale += [
            Succeeded(effect.step, effect.attempt),
            Failed(effect.step, effect.attempt),
            Started(effect.step, effect.attempt, effect.worker),
        ]

    # -- the properties ------------------------------------------------------------------

    def check(self, before: RunRecord, outcome: Outcome) -> None:
        """Everything one transition must respect."""
        after = outcome.run
        if not outcome.applied:
            assert after == before
            assert outcome.effects == ()
            assert outcome.changed == ()
        if before.terminal and outcome.applied:
            assert after == before or not after.terminal, "a finished run changes only by retry"
        assert (before.state, after.state) != ("running", "queued"), "a run never goes back"
        for name in self.ever_succeeded:
            assert after.steps[name] == before.steps[name], f"succeeded step {name} changed"
        for dispatch in outcome.dispatches:
            due = before.steps[dispatch.step].next_attempt_at
            assert due is None or due <= self.now, "dispatched before its backoff ended"
            record = after.steps[dispatch.step]
            assert record.in_flight
            assert record.attempt == dispatch.attempt
            assert dispatch.step not in self.ever_succeeded
        for terminate in outcome.terminations:
            record = before.steps[terminate.step]
            assert record.state == "running"
            assert (record.attempt, record.worker) == (terminate.attempt, terminate.worker)
        check_events(before, outcome)
        check_run(after)

    def check_cluster(self) -> None:
        """What really runs is exactly what the run says is running."""
        running = {
            (name, record.attempt): record.worker
            for name, record in self.run.steps.items()
            if record.state == "running"
        }
        assert self.executing == running
        if self.cancelled:
            assert self.run.state == "cancelled"

    # -- liveness -------------------------------------------------------------------------

    def bound(self) -> int:
        """More actions than a working cluster ever needs to finish the run's current round."""
        attempts = sum(record.max_attempts for record in self.run.steps.values())
        return len(self.inbox) + len(self.executing) + 4 * attempts + 2 * len(self.run.steps)

    def drain(self, rng: random.Random, *, cancel_after: int | None = None) -> int:
        """Keep the cluster working (no more chaos) until the run ends; return the actions."""
        limit = self.bound()
        for actions in range(limit + 1):
            if actions == cancel_after:
                self.cancel()
            if self.run.terminal:
                self.flush()
                return actions
            self.act(rng)
        raise AssertionError(f"no end after {limit} actions: {self.run}")

    def act(self, rng: random.Random) -> None:
        """One useful action: start an attempt, end one, or let time pass."""
        choices = [
            name
            for name, possible in (("pick_up", self.inbox), ("finish", self.executing))
            if possible
        ]
        if choices:
            if rng.choice(choices) == "pick_up":
                self.pick_up(rng.randrange(len(self.inbox)), rng.choice(WORKERS))
            else:
                how = rng.choices(FINISHES, weights=(6, 2, 1, 1))[0]
                self.finish(rng.randrange(len(self.executing)), how)
            return
        records = self.run.steps.values()
        if any(record.in_flight for record in records):
            self.tick(0.0, redeliver=True)
            return
        due = [r.next_attempt_at for r in records if r.next_attempt_at is not None]
        assert due, f"deadlock: nothing runs, nothing is due, and the run is {self.run.state}"
        self.tick(max(0.0, min(due) - self.now))

    def flush(self) -> None:
        """Dispatches still with the broker after the end are all refused by the machine."""
        while self.inbox:
            before = self.run
            self.pick_up(0, WORKERS[0])
            assert self.run == before
        assert self.executing == {}


def check_backoff(
    before: RunRecord, after: RunRecord, message: Failed | TimedOut, now: float
) -> None:
    """A failed attempt with attempts left waits its backoff before the next dispatch."""
    old, new = before.steps[message.step], after.steps[message.step]
    if old.attempts_left == 0:
        assert new.state == "failed"
        return
    jitter = 0.5 if isinstance(message, Failed) else 0.0
    assert new.state == "queued"
    assert not new.in_flight
    assert new.next_attempt_at == now + DEFAULT_BACKOFF.delay(old.attempts_used, jitter)


def check_events(before: RunRecord, outcome: Outcome) -> None:
    """One ``step.updated`` per changed step, and ``run.updated`` exactly when the run's changed."""
    events = outcome.events
    changed = [e.step for e in events if isinstance(e, StepUpdated)]
    assert changed == list(outcome.changed)
    assert set(changed) == {
        name for name, record in outcome.run.steps.items() if record != before.steps[name]
    }
    run_events = [e for e in events if isinstance(e, RunUpdated)]
    assert outcome.run_changed == (outcome.run.state != before.state)
    assert [e.state for e in run_events] == ([outcome.run.state] if outcome.run_changed else [])


def check_run(run: RunRecord) -> None:
    """What holds of every run at every moment."""
    assert run.terminal == all(record.terminal for record in run.steps.values())
    for name, record in run.steps.items():
        deps = [run.steps[dep] for dep in run.dependencies(name)]
        if record.state in {"running", "succeeded"} or record.in_flight:
            assert all(dep.state == "succeeded" for dep in deps), f"{name} ran too early"
        below_failure = any(dep.state in {"failed", "upstream_failed"} for dep in deps)
        assert (record.state == "upstream_failed") == below_failure, name
        assert 0 <= record.attempts_used <= record.max_attempts
        if record.state == "running":
            assert record.worker is not None
