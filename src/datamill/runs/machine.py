"""The run state machine: every rule about run and step state, as pure functions.

Each transition takes a :class:`~datamill.runs.records.RunRecord` and returns an
:class:`~datamill.runs.effects.Outcome`: the new record and the effects to carry out. Nothing is
read from the clock or the database, so the orchestrator (which owns the transaction) and the
tests drive it the same way.

Messages from workers (``started``, ``succeeded``, ``failed``, ``timed_out``) and from the
recovery timer (``lost``) name the attempt they are about. A message about any other attempt
than the step's current one, or arriving in a state where it means nothing, is ignored: that is
what makes at-least-once delivery (Celery with late acknowledgement) and duplicated dispatches
safe. Every applied transition ends with :func:`plan`, so its outcome already holds the
dispatches and state changes that follow from it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any

from datamill.pipelines.graph import FAILED_STATES, Graph, StepState, ready_steps
from datamill.runs.backoff import DEFAULT_BACKOFF, Backoff
from datamill.runs.effects import (
    Dispatch,
    Effect,
    Emit,
    Outcome,
    RunUpdated,
    StepUpdated,
    Terminate,
)
from datamill.runs.records import RunRecord, RunState, StepRecord

WORKER_LOST = "worker lost"
_STARTED: frozenset[StepState] = frozenset({"running", "succeeded", "failed"})
"""Step states that show the run has begun (a failed step was started in this round)."""


def plan(run: RunRecord, now: float, *, redeliver_after: float | None = None) -> Outcome:
    """Dispatch what may run now, fail what never can, and settle the run's state.

    A queued step is dispatched once all of its dependencies succeeded and its
    ``next_attempt_at`` (if any) has come; it stays ``queued``, with the new attempt number,
    until a worker reports ``started``. Queued and waiting steps below a failed, cancelled or
    upstream-failed step become ``upstream_failed``.

    ``redeliver_after``: send :class:`Dispatch` again, with the same attempt number, for steps
    dispatched at least that many seconds ago and still not started: the message may have been
    lost between the commit and the executor (a server crash, a pool that went away). Resending
    is safe because only one ``started`` per attempt is ever applied.
    """
    return _advance(run, dict(run.steps), now, redeliver_after=redeliver_after)


def started(run: RunRecord, step: str, attempt: int, worker: str, now: float) -> Outcome:
    """A worker began ``attempt`` of ``step``: the step is ``running`` there.

    Applied only to the attempt last dispatched and not yet started. A worker whose
    ``started`` is not applied (a duplicated message, a cancelled step, an attempt replaced
    after its worker was lost) must drop the message without running anything.
    """
    record = run.steps.get(step)
    if record is None or not record.in_flight or record.attempt != attempt:
        return _ignored(run)
    if any(run.steps[dep].state != "succeeded" for dep in run.dependencies(step)):
        return _ignored(run)
    changed = replace(record, state="running", worker=worker, started_at=now)
    return _advance(run, {**run.steps, step: changed}, now)


def succeeded(
    run: RunRecord, step: str, attempt: int, outputs: Mapping[str, Any], now: float
) -> Outcome:
    """The running ``attempt`` of ``step`` finished well: keep its outputs, run what follows."""
    record = _running(run, step, attempt)
    if record is None:
        return _ignored(run)
    changed = replace(record, state="succeeded", outputs=dict(outputs), error=None, finished_at=now)
    return _advance(run, {**run.steps, step: changed}, now)


def failed(
    run: RunRecord,
    step: str,
    attempt: int,
    error: str,
    now: float,
    *,
    jitter: float = 0.0,
    backoff: Backoff = DEFAULT_BACKOFF,
) -> Outcome:
    """The running ``attempt`` of ``step`` failed with ``error``.

    With attempts left in this round the step goes back to ``queued`` and is dispatched again
    after ``backoff`` (shortened by ``jitter``, see :meth:`Backoff.delay`); otherwise it is
    ``failed`` and every step below it ``upstream_failed``.
    """
    record = _running(run, step, attempt)
    if record is None:
        return _ignored(run)
    delay = backoff.delay(record.attempts_used, jitter)
    return _advance(run, {**run.steps, step: _after_failure(record, error, now, delay)}, now)


def timed_out(
    run: RunRecord,
    step: str,
    attempt: int,
    seconds: float,
    now: float,
    *,
    jitter: float = 0.0,
    backoff: Backoff = DEFAULT_BACKOFF,
) -> Outcome:
    """The running ``attempt`` of ``step`` ran past its task's timeout of ``seconds``.

    A failure with the reason ``timed out after N s``, plus a :class:`Terminate`: whoever noticed
    (the worker or the orchestrator's timer), the attempt's process must not keep running.
    """
    record = _running(run, step, attempt)
    if record is None:
        return _ignored(run)
    error = f"timed out after {seconds:g} s"
    delay = backoff.delay(record.attempts_used, jitter)
    changed = _after_failure(record, error, now, delay)
    return _advance(run, {**run.steps, step: changed}, now, [_terminate(record)])


def lost(run: RunRecord, step: str, attempt: int, worker: str, now: float) -> Outcome:
    """``worker``, running ``attempt`` of ``step``, stopped sending heartbeats.

    The step is dispatched again at once while attempts remain (the worker died, not
    necessarily the step), else it ``failed`` with the reason ``worker lost``. A
    :class:`Terminate` is sent too, in case the worker was only cut off and still runs it.
    """
    record = _running(run, step, attempt)
    if record is None or record.worker != worker:
        return _ignored(run)
    changed = _after_failure(record, WORKER_LOST, now, delay=0.0)
    return _advance(run, {**run.steps, step: changed}, now, [_terminate(record)])


def released(run: RunRecord, step: str, attempt: int, worker: str, now: float) -> Outcome:
    """``worker`` let go of the running ``attempt`` of ``step`` on a planned stop (a server
    restart, a deploy): the step is dispatched again and the attempt does not count.

    Unlike :func:`lost`, nothing went wrong with the step, so a task without retries must not
    fail because its worker was restarted. The new attempt is numbered after it, as always.
    """
    record = _running(run, step, attempt)
    if record is None or record.worker != worker:
        return _ignored(run)
    changed = replace(
        record,
        state="queued",
        worker=None,
        dispatched_at=None,
        started_at=None,
        next_attempt_at=None,
        attempts_before=record.attempts_before + 1,
    )
    return _advance(run, {**run.steps, step: changed}, now)


def cancel(run: RunRecord, now: float) -> Outcome:
    """Stop the run: terminate running steps, cancel the ones not finished, keep the rest.

    A dispatched step that has not started yet is cancelled too; its ``started`` will be
    ignored, so no worker runs it. Cancelling a finished run changes nothing.
    """
    if run.terminal:
        return _ignored(run)
    steps = dict(run.steps)
    effects: list[Effect] = []
    for name, record in run.steps.items():
        if record.state == "running":
            effects.append(_terminate(record))
        if not record.terminal:
            steps[name] = replace(record, state="cancelled", finished_at=now, next_attempt_at=None)
    return _advance(run, steps, now, effects)


def retry(run: RunRecord, now: float) -> Outcome:
    """Run again every failed, upstream-failed and cancelled step, with a fresh attempt budget.

    Their dependents are always among them (nothing below a step that did not succeed can have
    run), and succeeded steps keep their state and outputs: only what did not succeed runs
    again. Attempt numbers carry on from where they were, so a late message from before the
    retry is still recognised as late. Changes nothing when no step failed or was cancelled.
    """
    again = [name for name, record in run.steps.items() if record.state in FAILED_STATES]
    if not again:
        return _ignored(run)
    steps = {**run.steps, **{name: _fresh(run.steps[name]) for name in again}}
    return _advance(run, steps, now, state="queued" if run.terminal else run.state)


def _running(run: RunRecord, step: str, attempt: int) -> StepRecord | None:
    """The step's record if ``attempt`` is what it is running now, else None."""
    record = run.steps.get(step)
    if record is None or record.state != "running" or record.attempt != attempt:
        return None
    return record


def _after_failure(record: StepRecord, error: str, now: float, delay: float) -> StepRecord:
    if record.attempts_left > 0:
        return replace(
            record,
            state="queued",
            worker=None,
            error=error,
            dispatched_at=None,
            started_at=None,
            next_attempt_at=now + delay,
        )
    return replace(record, state="failed", error=error, finished_at=now)


def _fresh(record: StepRecord) -> StepRecord:
    """A queued record whose next attempt starts a new budget, numbered after the last one."""
    return StepRecord(
        record.name,
        attempt=record.attempt,
        attempts_before=record.attempt,
        max_attempts=record.max_attempts,
        queue=record.queue,
    )


def _terminate(record: StepRecord) -> Terminate:
    assert record.worker is not None, "a running step always has its worker"
    return Terminate(record.name, record.attempt, record.worker)


def _ignored(run: RunRecord) -> Outcome:
    return Outcome(run, applied=False)


def _advance(
    before: RunRecord,
    steps: dict[str, StepRecord],
    now: float,
    effects: list[Effect] | None = None,
    *,
    state: RunState | None = None,
    redeliver_after: float | None = None,
) -> Outcome:
    """Carry a change through (``steps`` is updated in place) and describe the result.

    ``state`` overrides the run state to settle from (``queued`` for the retry of a finished
    run, which starts over).
    """
    found = list(effects or [])
    ready = _mark_upstream_failed(before.graph, steps, now)
    if redeliver_after is not None:
        found.extend(_redeliver(steps, now, redeliver_after))
    found.extend(_dispatch(steps, ready, now))
    after = RunRecord(_settle(state or before.state, steps), steps, before.graph)
    return _describe(before, after, found, now)


def _mark_upstream_failed(
    graph: Graph, steps: dict[str, StepRecord], now: float
) -> tuple[str, ...]:
    """Fail the steps that can never run, and return those whose dependencies all succeeded.

    A waiting step counts as queued here, so that it is failed below a failure like any other.
    """
    states: dict[str, StepState] = {
        name: "queued" if record.state == "waiting" else record.state
        for name, record in steps.items()
    }
    readiness = ready_steps(graph, states)
    for name in readiness.upstream_failed:
        steps[name] = replace(
            steps[name],
            state="upstream_failed",
            finished_at=now,
            dispatched_at=None,
            next_attempt_at=None,
        )
    return readiness.dispatch


def _dispatch(steps: dict[str, StepRecord], ready: tuple[str, ...], now: float) -> Iterator[Effect]:
    """Dispatch the next attempt of each ready step that waits for one and is due.

    There is always an attempt left: a failure only sends a step back to ``queued`` when its
    round has attempts left, and a retry starts a new round.
    """
    for name in ready:
        record = steps[name]
        if record.state != "queued" or record.dispatched_at is not None:
            continue
        if record.next_attempt_at is not None and record.next_attempt_at > now:
            continue
        attempt = record.attempt + 1
        steps[name] = replace(record, attempt=attempt, dispatched_at=now, next_attempt_at=None)
        yield Dispatch(name, attempt, record.queue)


def _redeliver(steps: dict[str, StepRecord], now: float, after: float) -> Iterator[Effect]:
    """Send again the dispatches that have waited ``after`` seconds for a worker to start them."""
    for name, record in list(steps.items()):
        sent = record.dispatched_at
        if record.state == "queued" and sent is not None and now - sent >= after:
            steps[name] = replace(record, dispatched_at=now)
            yield Dispatch(name, record.attempt, record.queue)


def _settle(current: RunState, steps: Mapping[str, StepRecord]) -> RunState:
    """The run's state from its steps': it never goes back from running to queued."""
    states = {record.state for record in steps.values()}
    if all(record.terminal for record in steps.values()):
        if states <= {"succeeded"}:
            return "succeeded"
        return "cancelled" if "cancelled" in states else "failed"
    if current == "running" or states & _STARTED:
        return "running"
    return "queued"


def _describe(before: RunRecord, after: RunRecord, effects: list[Effect], now: float) -> Outcome:
    """The outcome, with one event per changed step and one for a changed run state."""
    changed = tuple(
        name for name, record in after.steps.items() if record != before.steps.get(name)
    )
    events: list[Effect] = [Emit(StepUpdated.of(after.steps[name], now)) for name in changed]
    run_changed = after.state != before.state
    if run_changed:
        events.append(Emit(RunUpdated(after.state, now)))
    return Outcome(after, (*effects, *events), changed=changed, run_changed=run_changed)
