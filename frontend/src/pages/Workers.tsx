import { Link } from "react-router-dom";
import { api, unwrap } from "../api/client";
import { useLiveEvents } from "../api/events";
import { Empty, ErrorNote, Loading, formatWhen } from "../components/ui";
import { useLoad } from "../load";
import { StateBadge, formatDuration } from "../runs/StateBadge";

export function Workers() {
  const workers = useLoad(() => unwrap(api.GET("/api/v1/workers")), []);
  // Workers come and go, steps start and end: each changes what this page shows.
  useLiveEvents(["worker.updated", "step.updated"], () => workers.reloadSoon());
  const list = workers.data?.data ?? [];
  const queues = workers.data?.queues ?? [];
  return (
    <main className="page">
      <div className="page-head">
        <h1>Workers</h1>
      </div>
      <ErrorNote error={workers.error} onRetry={workers.reload} />
      {workers.data && queues.length === 0 && <p className="muted">No step is waiting in any queue.</p>}
      <section className="queues" aria-label="Queues">
        {queues.map((queue) => (
          <div className="queue card" key={queue.name}>
            <div className="muted small">queue</div>
            <strong>{queue.name}</strong>
            <div className="queue-depth">{queue.depth}</div>
            <div className="muted small">{queue.depth === 1 ? "step waiting" : "steps waiting"}</div>
          </div>
        ))}
      </section>
      {workers.loading && !workers.data ? (
        <Loading what="workers" />
      ) : list.length === 0 ? (
        <Empty title="No worker is up.">
          Steps wait in their queue until one starts: <code>datamill serve</code> starts a local pool, <code>datamill worker</code> a Celery
          worker.
        </Empty>
      ) : (
        <table className="list">
          <thead>
            <tr>
              <th>Worker</th>
              <th>State</th>
              <th>Queues</th>
              <th>Running</th>
              <th>Last heartbeat</th>
            </tr>
          </thead>
          <tbody>
            {list.map((worker) => (
              <tr key={worker.id}>
                <td>
                  <strong>{worker.hostname}</strong>
                  <div className="muted small">
                    pid {worker.pid} · up {formatDuration(worker.started_at, null)}
                  </div>
                </td>
                <td>
                  <StateBadge state={worker.state} />
                </td>
                <td>{worker.queues.map((q) => (q === "*" ? "every queue" : q)).join(", ")}</td>
                <td>
                  {worker.running.length === 0 ? (
                    <span className="muted">idle</span>
                  ) : (
                    worker.running.map((step, i) =>
                      step.run_id ? (
                        <div key={i}>
                          <Link to={`/runs/${step.run_id}`}>{step.step}</Link> <span className="muted small">attempt {step.attempt}</span>
                        </div>
                      ) : (
                        <div key={i} className="muted">
                          another user’s step
                        </div>
                      ),
                    )
                  )}
                </td>
                <td title={worker.last_heartbeat_at}>{formatWhen(worker.last_heartbeat_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </main>
  );
}
