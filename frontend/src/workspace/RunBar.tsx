import { useState } from "react";
import { api, unwrap } from "../api/client";
import { messageOf } from "../api/problem";
import { isEnded } from "../runs/StateBadge";
import type { Watched } from "./runWatch";

/** The operation running on this dataset: progress, cancel, and the reason when it failed. */
export function RunBar({ watched, onDismiss }: { watched: Watched; onDismiss: () => void }) {
  const [error, setError] = useState<string>();
  const ended = isEnded(watched.state);

  async function cancel() {
    try {
      await unwrap(api.POST("/api/v1/runs/{run_id}/cancel", { params: { path: { run_id: watched.runId } } }));
    } catch (reason) {
      setError(messageOf(reason));
    }
  }

  const percent = watched.fraction === null ? null : Math.round(watched.fraction * 100);
  return (
    <div className={`run-bar state-${watched.state}`} role="status" aria-label="Operation">
      <strong>{watched.label}</strong>
      {!ended && (
        <>
          <span>{watched.state === "queued" ? "waiting for a worker…" : (watched.message ?? "running…")}</span>
          <progress max={100} value={percent ?? undefined} aria-label="Progress" />
          {percent !== null && <span className="muted">{percent}%</span>}
          <button type="button" onClick={() => void cancel()}>
            Cancel
          </button>
        </>
      )}
      {watched.state === "succeeded" && <span>done: the new revision is shown.</span>}
      {watched.state === "cancelled" && <span>cancelled; the dataset is unchanged.</span>}
      {watched.state === "failed" && <span className="error-text">failed: {watched.error ?? "reading the reason…"}</span>}
      {error && <span className="error-text">{error}</span>}
      {ended && (
        <button type="button" className="link" onClick={onDismiss}>
          Dismiss
        </button>
      )}
    </div>
  );
}
