/** Following one run of operations live: its state, its progress, and why it failed. */

import { useCallback, useEffect, useState } from "react";
import { api, unwrap } from "../api/client";
import { useLiveEvents } from "../api/events";
import { messageOf } from "../api/problem";
import { isEnded } from "../runs/StateBadge";

export interface Watched {
  runId: string;
  label: string;
  state: string;
  fraction: number | null;
  message: string | null;
  error: string | null;
}

/** The run's failure, in the words of the step that failed. */
async function failureOf(runId: string): Promise<string> {
  try {
    const run = await unwrap(api.GET("/api/v1/runs/{run_id}", { params: { path: { run_id: runId } } }));
    const step = run.steps.find((s) => s.error);
    return step?.error ?? run.error ?? "The operation failed.";
  } catch (error) {
    return messageOf(error);
  }
}

export function useRunWatch(): {
  watched: Watched | null;
  watch: (runId: string, label: string) => void;
  dismiss: () => void;
} {
  const [watched, setWatched] = useState<Watched | null>(null);

  const settle = useCallback((runId: string, state: string) => {
    setWatched((old) => (old && old.runId === runId ? { ...old, state } : old));
    if (state === "failed") {
      void failureOf(runId).then((error) => setWatched((old) => (old && old.runId === runId ? { ...old, error } : old)));
    }
    if (state === "succeeded") {
      window.setTimeout(() => setWatched((old) => (old && old.runId === runId && old.state === "succeeded" ? null : old)), 2500);
    }
  }, []);

  useLiveEvents(["run.updated", "step.progress"], (event) => {
    if (!watched) return;
    if (event.type === "run.updated" && event.data.run_id === watched.runId) settle(watched.runId, String(event.data.state));
    if (event.type === "step.progress" && event.data.run_id === watched.runId) {
      const fraction = Number(event.data.fraction);
      const message = (event.data.message as string) || null;
      // Functional: a progress event read after the run ended must not bring back its old state.
      setWatched((old) => (old && old.runId === event.data.run_id && !isEnded(old.state) ? { ...old, fraction, message } : old));
    }
    if (event.type === "connection.restored") {
      void unwrap(api.GET("/api/v1/runs/{run_id}", { params: { path: { run_id: watched.runId } } }))
        .then((run) => settle(run.id, run.state))
        .catch(() => undefined); // the next event, or the timer below, tells
    }
  });

  // An operation may end before the socket hears of it (a fast one): read its state once.
  useEffect(() => {
    if (!watched || isEnded(watched.state)) return;
    const timer = window.setTimeout(() => {
      void unwrap(api.GET("/api/v1/runs/{run_id}", { params: { path: { run_id: watched.runId } } }))
        .then((run) => settle(run.id, run.state))
        .catch(() => undefined);
    }, 1500);
    return () => window.clearTimeout(timer);
  }, [watched, settle]);

  const watch = useCallback((runId: string, label: string) => {
    setWatched({ runId, label, state: "queued", fraction: null, message: null, error: null });
  }, []);
  const dismiss = useCallback(() => setWatched(null), []);
  return { watched, watch, dismiss };
}
