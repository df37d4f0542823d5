import { useState } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";
import { api, unwrap } from "../api/client";
import { ErrorNote, LoadFailed, Loading, formatWhen } from "../components/ui";
import { useLoad } from "../load";
import { stepsOfSpec } from "../runs/graph";
import { StepGraph } from "../runs/StepGraph";
import { RunForm } from "./RunForm";
import { curlSnippet, pythonSnippet } from "./snippets";
import { SpecEditor } from "../components/SpecEditor";
import { CHECK_URL, savePipeline } from "./specs";

type Tab = "run" | "spec" | "versions" | "service";
const TABS: [Tab, string][] = [
  ["run", "Run"],
  ["spec", "Spec"],
  ["versions", "Versions"],
  ["service", "Call as a web service"],
];

function Snippet({ title, text }: { title: string; text: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <figure className="snippet">
      <figcaption>
        {title}
        <button type="button" className="link" onClick={() => void navigator.clipboard?.writeText(text).then(() => setCopied(true))}>
          {copied ? "Copied" : "Copy"}
        </button>
      </figcaption>
      <pre>{text}</pre>
    </figure>
  );
}

export function PipelinePage() {
  const { name = "" } = useParams();
  const navigate = useNavigate();
  const [tab, setTab] = useState<Tab>("run");
  const path = { params: { path: { name } } };
  const pipeline = useLoad(() => unwrap(api.GET("/api/v1/pipelines/{name}", path)), [name]);
  const face = useLoad(() => unwrap(api.GET("/api/v1/pipelines/{name}/interface", path)), [name, pipeline.data?.latest_version]);
  const versions = useLoad(
    () => (tab === "versions" ? unwrap(api.GET("/api/v1/pipelines/{name}/versions", path)) : Promise.resolve(null)),
    [name, tab, pipeline.data?.latest_version],
  );

  if (pipeline.loading && !pipeline.data) return <Loading what="the pipeline" />;
  if (!pipeline.data) return <LoadFailed error={pipeline.error} onRetry={pipeline.reload} back="/pipelines" label="pipelines" />;
  const data = pipeline.data;
  const origin = window.location.origin;
  return (
    <main className="page wide">
      <div className="crumbs">
        <Link to="/pipelines">Pipelines</Link> /
      </div>
      <div className="page-head">
        <div>
          <h1>
            {data.name} <span className="badge">v{data.latest_version}</span>
          </h1>
          <div className="muted small">
            by {data.owner} · saved {formatWhen(data.updated_at)} ·{" "}
            <Link to={`/runs?pipeline=${encodeURIComponent(data.name)}`}>its runs</Link>
          </div>
          {data.description && <p>{data.description}</p>}
        </div>
      </div>
      <section className="card">
        <div className="graph-scroll">
          <StepGraph nodes={stepsOfSpec(data.spec)} />
        </div>
      </section>
      <div className="tabs" role="tablist">
        {TABS.map(([key, label]) => (
          <button
            key={key}
            type="button"
            role="tab"
            aria-selected={tab === key}
            className={tab === key ? "tab active" : "tab"}
            onClick={() => setTab(key)}
          >
            {label}
          </button>
        ))}
      </div>
      <section className="card" role="tabpanel">
        {tab === "run" &&
          (face.data ? <RunForm name={data.name} face={face.data} /> : <ErrorNote error={face.error} onRetry={face.reload} />)}
        {tab === "spec" && (
          <SpecEditor
            key={data.latest_version}
            initial={data.source}
            checkUrl={CHECK_URL}
            save={savePipeline}
            onSaved={(saved) => {
              if (saved.name !== data.name) navigate(`/pipelines/${saved.name}`);
              else pipeline.reload();
            }}
          />
        )}
        {tab === "versions" &&
          (versions.data ? (
            <table className="list">
              <thead>
                <tr>
                  <th>Version</th>
                  <th>Saved by</th>
                  <th>When</th>
                  <th>Description</th>
                </tr>
              </thead>
              <tbody>
                {versions.data.data.map((version) => (
                  <tr key={version.version}>
                    <td>v{version.version}</td>
                    <td>{version.created_by ?? "—"}</td>
                    <td>{formatWhen(version.created_at)}</td>
                    <td>{version.description}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : (
            <Loading what="versions" />
          ))}
        {tab === "service" &&
          (face.data ? (
            <>
              <p className="muted">
                Create a token under <Link to="/tokens">API tokens</Link> and put it in <code>DATAMILL_TOKEN</code>. A run answers 202 with
                its id at once; follow it by polling, or live on the WebSocket <code>/api/v1/events</code>.
              </p>
              <Snippet title="curl" text={curlSnippet(origin, face.data)} />
              <Snippet title="Python" text={pythonSnippet(origin, face.data)} />
            </>
          ) : (
            <Loading what="the interface" />
          ))}
      </section>
    </main>
  );
}
