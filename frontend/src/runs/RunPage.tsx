import { useEffect, useRef, useState } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";
import { api, unwrap, type Schemas } from "../api/client";
import { events, useLiveEvents } from "../api/events";
import { ErrorNote, LoadFailed, Loading, formatBytes, formatWhen } from "../components/ui";
import { useLoad } from "../load";
import { runTitle } from "./RunsPage";
import { StateBadge, formatDuration, isEnded } from "./StateBadge";
import { StepGraph } from "./StepGraph";

type Run = Schemas["RunDetail"];
type Step = Schemas["StepPublic"];

const LOG_LIMIT = 200_000;

/** Bars from each step's start to its end on one time axis. */
function Timeline({ run }: { run: Run }) {
  const times = run.steps
    .flatMap((s) => [s.started_at, s.finished_at])
    .filter(Boolean)
    .map((t) => Date.parse(t!));
  if (times.length === 0) return <div className="muted">No step has started yet.</div>;
  const start = Math.min(...times);
  const end = Math.max(...times, isEnded(run.state) ? 0 : Date.now());
  const span = Math.max(end - start, 1);
  return (
    <div className="timeline">
      {run.steps.map((step) => {
        const from = step.started_at ? Date.parse(step.started_at) : null;
        const to = step.finished_at ? Date.parse(step.finished_at) : Date.now();
        return (
          <div className="timeline-row" key={step.name}>
            <span className="timeline-name">{step.name}</span>
            <div className="timeline-track">
              {from !== null && (
                <div
                  className={`timeline-bar state-${step.state}`}
                  style={{ left: `${((from - start) / span) * 100}%`, width: `${Math.max(((to - from) / span) * 100, 0.5)}%` }}
                  title={`${step.state}, ${formatDuration(step.started_at, step.finished_at)}`}
                />
              )}
            </div>
            <span className="muted small timeline-took">{formatDuration(step.started_at, step.finished_at)}</span>
          </div>
        );
      })}
    </div>
  );
}

/** The step's log, followed live while it runs. */
function StepLog({ runId, step }: { runId: string; step: Step }) {
  const [text, setText] = useState("");
  const [attempt, setAttempt] = useState<number>();
  const [done, setDone] = useState(false);
  const shownAttempt = useRef<number | undefined>(undefined);
  const box = useRef<HTMLPreElement>(null);

  useEffect(() => {
    setText("");
    setAttempt(undefined);
    setDone(false);
    shownAttempt.current = undefined;
    return events.followLog(runId, step.name);
  }, [runId, step.name]);

  useLiveEvents(["step.log"], (event) => {
    if (event.type === "connection.restored") {
      // The follow is sent again and the server starts the log over: so does this view.
      shownAttempt.current = undefined;
      setText("");
      return;
    }
    if (event.data.run_id !== runId || event.data.step !== step.name) return;
    const chunk = String(event.data.text ?? "");
    const at = Number(event.data.attempt);
    const retried = shownAttempt.current !== undefined && at !== shownAttempt.current;
    shownAttempt.current = at;
    setAttempt(at);
    setDone(Boolean(event.data.done));
    setText((old) => {
      const joined = retried ? chunk : old + chunk;
      return joined.length > LOG_LIMIT ? joined.slice(joined.length - LOG_LIMIT) : joined;
    });
  });

  useEffect(() => {
    const element = box.current;
    if (element) element.scrollTop = element.scrollHeight;
  }, [text]);

  return (
    <section className="card log-card">
      <div className="section-head">
        <h2>
          Log of {step.name}
          {attempt ? <span className="muted small"> · attempt {attempt}</span> : null}
        </h2>
        <a href={`/api/v1/runs/${runId}/steps/${encodeURIComponent(step.name)}/log`} target="_blank" rel="noreferrer">
          Whole log
        </a>
      </div>
      {step.error && <div className="error-note">{step.error}</div>}
      <pre className="log" ref={box} aria-label="Log">
        {text ||
          (step.state === "queued" || step.state === "waiting"
            ? "The step has not started yet."
            : done
              ? "The step wrote nothing to its log."
              : "")}
      </pre>
    </section>
  );
}

export function RunPage() {
  const { runId = "" } = useParams();
  const navigate = useNavigate();
  const run = useLoad(() => unwrap(api.GET("/api/v1/runs/{run_id}", { params: { path: { run_id: runId } } })), [runId]);
  const [selected, setSelected] = useState<string>();
  const [error, setError] = useState<unknown>();

  useLiveEvents(["run.updated", "step.updated"], (event) => {
    if (event.type === "connection.restored" || event.data.run_id === runId) run.reloadSoon(); // a step's events come in bursts
  });

  if (run.loading && !run.data) return <Loading what="the run" />;
  if (!run.data) return <LoadFailed error={run.error} onRetry={run.reload} back="/runs" label="runs" />;
  const data = run.data;
  const step = data.steps.find(
    (s) => s.name === (selected ?? data.steps.find((s) => s.state === "running" || s.error)?.name ?? data.steps[0]?.name),
  );
  const states = Object.fromEntries(data.steps.map((s) => [s.name, s.state]));
  const path = { params: { path: { run_id: runId } } };

  async function act(action: () => Promise<unknown>) {
    setError(undefined);
    try {
      await action();
      run.reload();
    } catch (reason) {
      setError(reason);
    }
  }

  async function openAsDataset(artifactId: string, name: string) {
    const dataset = await unwrap(
      api.POST("/api/v1/runs/{run_id}/artifacts/{artifact_id}/dataset", {
        params: { path: { run_id: runId, artifact_id: artifactId } },
        body: { name },
      }),
    );
    navigate(`/datasets/${dataset.id}`);
  }

  return (
    <main className="page wide">
      <div className="crumbs">
        <Link to="/runs">Runs</Link> /
      </div>
      <div className="page-head">
        <div>
          <h1>
            {runTitle(data)} <StateBadge state={data.state} />
          </h1>
          <div className="muted small">
            <code>{data.id}</code> · by {data.owner} · queued {formatWhen(data.created_at)} · took{" "}
            {formatDuration(data.started_at, data.finished_at)}
            {data.pipeline && (
              <>
                {" "}
                · <Link to={`/pipelines/${data.pipeline}`}>pipeline</Link>
              </>
            )}
            {data.dataset && (
              <>
                {" "}
                · <Link to={`/datasets/${data.dataset}`}>dataset</Link>
              </>
            )}
          </div>
        </div>
        <div className="toolbar">
          {!isEnded(data.state) && (
            <button type="button" className="danger" onClick={() => void act(() => unwrap(api.POST("/api/v1/runs/{run_id}/cancel", path)))}>
              Cancel run
            </button>
          )}
          {(data.state === "failed" || data.state === "cancelled") && (
            <button type="button" className="primary" onClick={() => void act(() => unwrap(api.POST("/api/v1/runs/{run_id}/retry", path)))}>
              Retry
            </button>
          )}
        </div>
      </div>
      <ErrorNote error={error} />
      {data.error && <div className="error-note">{data.error}</div>}
      <section className="card">
        <h2>Steps</h2>
        <div className="graph-scroll">
          <StepGraph nodes={data.steps} states={states} selected={step?.name} onSelect={setSelected} />
        </div>
        <Timeline run={data} />
      </section>
      {step && <StepLog key={`${step.name}`} runId={runId} step={step} />}
      <section className="card">
        <h2>Results</h2>
        {Object.keys(data.outputs).length > 0 && (
          <dl className="facts outputs">
            {Object.entries(data.outputs).map(([name, value]) => (
              <div key={name}>
                <dt>{name}</dt>
                <dd>
                  <code>{typeof value === "string" ? value : JSON.stringify(value)}</code>
                </dd>
              </div>
            ))}
          </dl>
        )}
        {data.artifacts.length === 0 ? (
          <div className="muted">
            {isEnded(data.state) ? "This run produced no files or tables." : "Files and tables appear here as steps finish."}
          </div>
        ) : (
          <table className="list">
            <thead>
              <tr>
                <th>Artifact</th>
                <th>Step</th>
                <th>Kind</th>
                <th className="num">Size</th>
                <th aria-label="Actions" />
              </tr>
            </thead>
            <tbody>
              {data.artifacts.map((artifact) => (
                <tr key={artifact.id}>
                  <td>{artifact.name}</td>
                  <td>{artifact.step}</td>
                  <td>{artifact.kind}</td>
                  <td className="num">{formatBytes(artifact.size_bytes)}</td>
                  <td className="row-actions">
                    <a href={`/api/v1/runs/${runId}/artifacts/${artifact.id}`} download>
                      Download
                    </a>
                    {artifact.kind === "table" && (
                      <button
                        type="button"
                        className="link"
                        onClick={() =>
                          void act(() => openAsDataset(artifact.id, `${data.pipeline ?? "run"} ${artifact.step} ${artifact.name}`))
                        }
                      >
                        Open as dataset
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </main>
  );
}
