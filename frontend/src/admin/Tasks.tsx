import { useState } from "react";
import { api, send, unwrap, type Schemas } from "../api/client";
import { SpecEditor } from "../components/SpecEditor";
import { Empty, ErrorNote, Loading, formatWhen } from "../components/ui";
import { useLoad } from "../load";

type Task = Schemas["TaskDetail"];

const TEMPLATE = `name: sort-lines
description: Sort the lines of a text file.
kind: command
command: [sort, -o, outputs/sorted.txt, "{inputs.text}"]
inputs:
  text: {kind: file}
outputs:
  sorted: {kind: file, path: outputs/sorted.txt}
params:
  type: object
  properties: {}
queue: default
timeout: 60
retries: 1
`;

function createTask(text: string): Promise<Task> {
  return send<Task>("POST", "/api/v1/tasks", text, "application/yaml");
}

function replaceTask(name: string) {
  return (text: string) => send<Task>("PUT", `/api/v1/tasks/${encodeURIComponent(name)}`, text, "application/yaml");
}

export function Tasks() {
  const tasks = useLoad(() => unwrap(api.GET("/api/v1/tasks", { params: { query: { limit: 500 } } })), []);
  const [editing, setEditing] = useState<{ name: string | null; source: string } | null>(null);
  const [warnings, setWarnings] = useState<string[]>([]);
  const [error, setError] = useState<unknown>();

  async function edit(name: string) {
    setError(undefined);
    try {
      const task = await unwrap(api.GET("/api/v1/tasks/{name}", { params: { path: { name } } }));
      setEditing({ name, source: task.source });
    } catch (reason) {
      setError(reason);
    }
  }

  async function remove(name: string) {
    setError(undefined);
    try {
      await unwrap(api.DELETE("/api/v1/tasks/{name}", { params: { path: { name } } }));
      tasks.reload();
    } catch (reason) {
      setError(reason);
    }
  }

  return (
    <>
      <div className="button-row">
        <button type="button" className="primary" onClick={() => setEditing({ name: null, source: TEMPLATE })}>
          New task
        </button>
      </div>
      {editing && (
        <section className="card">
          <div className="section-head">
            <h2>{editing.name ? `Edit ${editing.name}` : "New task"}</h2>
            <button type="button" className="link" onClick={() => setEditing(null)}>
              Close
            </button>
          </div>
          <p className="muted small">
            A task is code that runs on the workers: a command (argv, never a shell) or a Python function. <code>params</code> is the JSON
            Schema of its parameters, which becomes the form people fill in.
          </p>
          <SpecEditor
            key={editing.name ?? "new"}
            initial={editing.source}
            label="Task spec (YAML)"
            saveLabel={editing.name ? "Save changes" : "Register task"}
            save={editing.name ? replaceTask(editing.name) : createTask}
            onSaved={(task) => {
              setWarnings(task.warnings ?? []);
              setEditing(null);
              tasks.reload();
            }}
          />
        </section>
      )}
      {warnings.length > 0 && (
        <div className="error-note" role="alert">
          {warnings.join(" ")}
        </div>
      )}
      <ErrorNote error={error ?? tasks.error} />
      {tasks.loading && !tasks.data ? (
        <Loading what="tasks" />
      ) : (tasks.data?.data ?? []).length === 0 ? (
        <Empty title="No tasks registered yet.">
          “New task” registers a command or a Python function; the built-in <code>op-*</code> tasks (the cleaning operations) need no
          registering.
        </Empty>
      ) : (
        <table className="list">
          <thead>
            <tr>
              <th>Task</th>
              <th>Kind</th>
              <th>Queue</th>
              <th>Registered</th>
              <th aria-label="Actions" />
            </tr>
          </thead>
          <tbody>
            {(tasks.data?.data ?? []).map((task) => (
              <tr key={task.id}>
                <td>
                  <strong>{task.name}</strong>
                  {task.description && <div className="muted small">{task.description}</div>}
                </td>
                <td>{task.kind}</td>
                <td>{task.queue}</td>
                <td>
                  {task.created_by ?? "—"} · {formatWhen(task.created_at)}
                </td>
                <td className="row-actions">
                  <button type="button" className="link" onClick={() => void edit(task.name)}>
                    Edit
                  </button>
                  <button type="button" className="link danger-text" onClick={() => void remove(task.name)}>
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
