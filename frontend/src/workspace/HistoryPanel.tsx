import { useRef, useState } from "react";
import { SidePanel } from "../components/SidePanel";
import { api, unwrap, type Schemas } from "../api/client";
import { ErrorNote, Loading, formatCount, formatWhen, saveFile } from "../components/ui";
import type { Loaded } from "../load";
import { operationLabel } from "./OperationsPanel";

type History = Schemas["History"];
type Step = Schemas["HistoryStep"];

/** What a step did, in a few words: rows kept, columns added or removed, values counted. */
export function describeChanges(changes: Record<string, unknown>): string {
  const parts: string[] = [];
  const before = changes.rows_before as number | undefined;
  const after = changes.rows_after as number | undefined;
  if (typeof before === "number" && typeof after === "number" && before !== after) {
    parts.push(`${formatCount(before)} → ${formatCount(after)} rows`);
  }
  const list = (key: string) => (Array.isArray(changes[key]) ? (changes[key] as string[]) : []);
  if (list("columns_added").length) parts.push(`+ ${list("columns_added").join(", ")}`);
  if (list("columns_removed").length) parts.push(`− ${list("columns_removed").join(", ")}`);
  if (list("columns_retyped").length) parts.push(`retyped ${list("columns_retyped").join(", ")}`);
  for (const [key, value] of Object.entries(changes)) {
    if (["rows_before", "rows_after", "columns_added", "columns_removed", "columns_retyped"].includes(key)) continue;
    if (typeof value === "number") parts.push(`${key.replace(/_/g, " ")}: ${formatCount(value)}`);
  }
  return parts.join(" · ");
}

function paramsText(step: Step): string {
  const text = JSON.stringify(step.params);
  return text.length > 120 ? `${text.slice(0, 117)}…` : text;
}

export function HistoryPanel({
  datasetId,
  datasetName,
  history,
  onChanged,
  onStarted,
  onView,
  onCompare,
  onClose,
}: {
  datasetId: string;
  datasetName: string;
  history: Loaded<History>;
  onChanged: () => void;
  onStarted: (runId: string, label: string) => void;
  onView: (revision: { id: string; number: number | null }) => void;
  onCompare: (revision: { id: string; number: number | null }) => void;
  onClose: () => void;
}) {
  const [error, setError] = useState<unknown>();
  const [note, setNote] = useState<string>();
  const [pipelineName, setPipelineName] = useState("");
  const picker = useRef<HTMLInputElement>(null);
  const path = { params: { path: { dataset_id: datasetId } } };

  async function act(action: () => Promise<unknown>, done?: string) {
    setError(undefined);
    setNote(undefined);
    try {
      await action();
      if (done) setNote(done);
      onChanged();
    } catch (reason) {
      setError(reason);
    }
  }

  async function exportRecipe() {
    const recipe = await unwrap(api.GET("/api/v1/datasets/{dataset_id}/recipe", path));
    saveFile(new Blob([JSON.stringify(recipe, null, 2)], { type: "application/json" }), `${datasetName}.recipe.json`);
  }

  async function importRecipe(file: File) {
    let recipe: unknown;
    try {
      recipe = JSON.parse(await file.text());
    } catch {
      throw new Error(`${file.name} is not JSON: choose a recipe exported from Datamill.`);
    }
    const reply = await unwrap(api.POST("/api/v1/datasets/{dataset_id}/recipe", { ...path, body: recipe as Schemas["Recipe"] }));
    onStarted(reply.run_id, `Recipe ${file.name}`);
  }

  const data = history.data;
  const stale = data?.steps.some((step) => step.stale) ?? false;
  return (
    <SidePanel label="History" title="History" className="wide-panel" onClose={onClose}>
      <div className="button-row">
        <button
          type="button"
          disabled={!data?.can_undo}
          onClick={() => void act(() => unwrap(api.POST("/api/v1/datasets/{dataset_id}/undo", path)))}
        >
          ↶ Undo
        </button>
        <button
          type="button"
          disabled={!data?.can_redo}
          onClick={() => void act(() => unwrap(api.POST("/api/v1/datasets/{dataset_id}/redo", path)))}
        >
          ↷ Redo
        </button>
        {stale && (
          <button
            type="button"
            className="primary"
            onClick={() =>
              void act(async () => {
                const reply = await unwrap(api.POST("/api/v1/datasets/{dataset_id}/history/rerun", path));
                onStarted(reply.run_id, "Re-run stale steps");
              })
            }
          >
            Re-run stale steps
          </button>
        )}
      </div>
      <ErrorNote error={error ?? history.error} />
      {note && <div className="notice-line">{note}</div>}
      {history.loading && !data && <Loading what="history" />}
      {data && (
        <ol className="steps">
          {data.steps.map((step) => {
            const after = step.position > data.head;
            return (
              <li
                key={step.position}
                className={["step", step.position === data.head ? "head" : "", after ? "undone" : "", step.stale ? "stale" : ""].join(" ")}
                aria-current={step.position === data.head ? "step" : undefined}
              >
                <div className="step-title">
                  <strong>{step.operation ? operationLabel(step.operation) : "Upload"}</strong>
                  {step.revision_number !== null && <span className="badge">rev {step.revision_number}</span>}
                  {step.stale && <span className="badge stale-badge">stale</span>}
                  {step.position === data.head && <span className="badge head-badge">shown</span>}
                </div>
                {step.operation && <code className="params">{paramsText(step)}</code>}
                <div className="muted small">
                  {step.author ?? "someone"} · {formatWhen(step.created_at)}
                  {after && " · undone"}
                </div>
                {describeChanges(step.changes) && <div className="small">{describeChanges(step.changes)}</div>}
                {step.position !== data.head && (
                  <div className="step-actions">
                    <button type="button" className="link" onClick={() => onView({ id: step.revision_id, number: step.revision_number })}>
                      Open read-only
                    </button>
                    <button
                      type="button"
                      className="link"
                      onClick={() => onCompare({ id: step.revision_id, number: step.revision_number })}
                    >
                      Compare with the shown revision
                    </button>
                  </div>
                )}
              </li>
            );
          })}
        </ol>
      )}
      <section className="recipe">
        <h4>Recipe</h4>
        <p className="muted small">
          The steps up to the one shown, as JSON: replay them on another dataset, or publish them as a pipeline.
        </p>
        <div className="button-row">
          <button type="button" onClick={() => void act(exportRecipe)}>
            Export recipe
          </button>
          <button type="button" onClick={() => picker.current?.click()}>
            Replay a recipe…
          </button>
          <input
            ref={picker}
            type="file"
            accept=".json,application/json"
            hidden
            data-testid="recipe-input"
            onChange={(event) => {
              const file = event.target.files?.[0];
              event.target.value = "";
              if (file) void act(() => importRecipe(file));
            }}
          />
        </div>
        <form
          className="inline-form"
          onSubmit={(event) => {
            event.preventDefault();
            void act(async () => {
              const pipeline = await unwrap(
                api.POST("/api/v1/datasets/{dataset_id}/recipe/pipeline", { ...path, body: { name: pipelineName } }),
              );
              setPipelineName("");
              return pipeline;
            }, `Published as the pipeline “${pipelineName}”.`);
          }}
        >
          <input
            aria-label="Pipeline name"
            placeholder="pipeline name"
            value={pipelineName}
            onChange={(e) => setPipelineName(e.target.value)}
            required
          />
          <button type="submit">Publish as pipeline</button>
        </form>
      </section>
    </SidePanel>
  );
}
