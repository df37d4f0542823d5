import { useState } from "react";
import { Link, useSearchParams } from "react-router-dom";
import { api, unwrap, type Schemas } from "../api/client";
import { useLiveEvents } from "../api/events";
import { Empty, ErrorNote, Loading, formatWhen } from "../components/ui";
import { useLoad } from "../load";
import { StateBadge, formatDuration } from "./StateBadge";

type Run = Schemas["RunPublic"];
const STATES = ["queued", "running", "succeeded", "failed", "cancelled"];

export function runTitle(run: Run): string {
  if (run.pipeline) return `${run.pipeline} v${run.version}`;
  return "Cleaning operations";
}

export function RunsPage() {
  const [query, setQuery] = useSearchParams();
  const state = query.get("state") ?? "";
  const pipeline = query.get("pipeline") ?? "";
  const [limit, setLimit] = useState(50);
  const runs = useLoad(
    () =>
      unwrap(
        api.GET("/api/v1/runs", {
          params: { query: { state: state || undefined, pipeline: pipeline || undefined, limit, offset: 0 } },
        }),
      ),
    [state, pipeline, limit],
  );
  const [live, setLive] = useState<Record<string, string>>({});

  useLiveEvents(["run.updated"], (event) => {
    if (event.type !== "run.updated") return runs.reloadSoon();
    const id = String(event.data.run_id);
    if (runs.data?.data.some((run) => run.id === id) && !state) setLive((old) => ({ ...old, [id]: String(event.data.state) }));
    else runs.reloadSoon();
  });

  function filter(key: string, value: string) {
    const next = new URLSearchParams(query);
    if (value) next.set(key, value);
    else next.delete(key);
    setQuery(next, { replace: true });
    setLive({});
  }

  const list = runs.data?.data ?? [];
  return (
    <main className="page">
      <div className="page-head">
        <h1>Runs</h1>
        <div className="toolbar">
          <select aria-label="State" value={state} onChange={(e) => filter("state", e.target.value)}>
            <option value="">Every state</option>
            {STATES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
          <input
            aria-label="Pipeline"
            placeholder="Pipeline name"
            defaultValue={pipeline}
            onKeyDown={(e) => e.key === "Enter" && filter("pipeline", e.currentTarget.value.trim())}
            onBlur={(e) => filter("pipeline", e.target.value.trim())}
          />
        </div>
      </div>
      <ErrorNote error={runs.error} onRetry={runs.reload} />
      {runs.loading && !runs.data ? (
        <Loading what="runs" />
      ) : list.length === 0 ? (
        state || pipeline ? (
          <Empty title="No run matches these filters.">Clear the filters to see every run.</Empty>
        ) : (
          <Empty title="No runs yet.">
            Open a <Link to="/pipelines">pipeline</Link> and run it from its form, or clean a dataset.
          </Empty>
        )
      ) : (
        <table className="list">
          <thead>
            <tr>
              <th>Run</th>
              <th>State</th>
              <th>Owner</th>
              <th>Started</th>
              <th>Took</th>
            </tr>
          </thead>
          <tbody>
            {list.map((run) => (
              <tr key={run.id}>
                <td>
                  <Link to={`/runs/${run.id}`} className="strong">
                    {runTitle(run)}
                  </Link>
                  <div className="muted small">
                    <code>{run.id.slice(0, 8)}</code>
                    {run.dataset && (
                      <>
                        {" "}
                        on <Link to={`/datasets/${run.dataset}`}>a dataset</Link>
                      </>
                    )}
                  </div>
                </td>
                <td>
                  <StateBadge state={live[run.id] ?? run.state} />
                </td>
                <td>{run.owner}</td>
                <td title={run.created_at}>{formatWhen(run.created_at)}</td>
                <td>{formatDuration(run.started_at, run.finished_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {runs.data && runs.data.count > list.length && limit < 500 && (
        <button type="button" className="more" onClick={() => setLimit(Math.min(500, limit + 50))}>
          Show more
        </button>
      )}
    </main>
  );
}
