import { useState } from "react";
import { Link, useNavigate } from "react-router-dom";
import { api, unwrap } from "../api/client";
import { Empty, ErrorNote, Loading, formatWhen } from "../components/ui";
import { useLoad } from "../load";
import { SpecEditor } from "../components/SpecEditor";
import { CHECK_URL, savePipeline } from "./specs";

const TEMPLATE = `name: my-pipeline
description: What it does, for whoever runs it.
inputs:
  table:
    kind: table
    validators:
      - {kind: rows, min: 1}
params: {}
steps:
  dedupe:
    task: op-drop-duplicates
    with: {table: "\${inputs.table}"}
outputs:
  result: "\${steps.dedupe.outputs.table}"
`;

export function PipelinesPage() {
  const pipelines = useLoad(() => unwrap(api.GET("/api/v1/pipelines", { params: { query: { limit: 500 } } })), []);
  const [creating, setCreating] = useState(false);
  const navigate = useNavigate();
  const list = pipelines.data?.data ?? [];
  return (
    <main className="page">
      <div className="page-head">
        <h1>Pipelines</h1>
        <button type="button" className="primary" onClick={() => setCreating(!creating)}>
          {creating ? "Close the editor" : "New pipeline"}
        </button>
      </div>
      {creating && (
        <section className="card">
          <h2>New pipeline</h2>
          <p className="muted small">
            Steps run registered tasks (see the task list in <Link to="/admin/tasks">Admin</Link> or <code>GET /api/v1/tasks</code>);{" "}
            <code>op-*</code> tasks are the cleaning operations. Check shows every problem on its line.
          </p>
          <SpecEditor
            initial={TEMPLATE}
            checkUrl={CHECK_URL}
            save={savePipeline}
            onSaved={(saved) => navigate(`/pipelines/${saved.name}`)}
          />
        </section>
      )}
      <ErrorNote error={pipelines.error} onRetry={pipelines.reload} />
      {pipelines.loading && !pipelines.data ? (
        <Loading what="pipelines" />
      ) : list.length === 0 ? (
        <Empty title="No pipelines yet.">Write one with “New pipeline”, or publish a dataset’s cleaning recipe from its history.</Empty>
      ) : (
        <table className="list">
          <thead>
            <tr>
              <th>Pipeline</th>
              <th>Owner</th>
              <th className="num">Version</th>
              <th>Saved</th>
            </tr>
          </thead>
          <tbody>
            {list.map((pipeline) => (
              <tr key={pipeline.id}>
                <td>
                  <Link to={`/pipelines/${pipeline.name}`} className="strong">
                    {pipeline.name}
                  </Link>
                  {pipeline.description && <div className="muted small">{pipeline.description}</div>}
                </td>
                <td>{pipeline.owner}</td>
                <td className="num">v{pipeline.latest_version}</td>
                <td>{formatWhen(pipeline.updated_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </main>
  );
}
