import { useMemo, useState, type FormEvent } from "react";
import { SidePanel } from "../components/SidePanel";
import { api, unwrap, type Schemas } from "../api/client";
import { ApiError, humanise, messageOf } from "../api/problem";
import { ErrorNote, Loading } from "../components/ui";
import { SchemaForm, type ColumnOption } from "../forms/SchemaForm";
import { cleanParams, errorPath, initialValues, type JsonSchema } from "../forms/schema";
import { useLoad } from "../load";

type Operation = Schemas["OperationPublic"];

const FAMILIES: Record<string, string> = {
  columns: "Columns",
  rows: "Rows",
  missing: "Missing values",
  text: "Text",
  numbers: "Numbers",
  outliers: "Outliers",
  encoding: "Encoding",
  cells: "Cells",
  clustering: "Clustering",
};

/** "fill-statistic" → "Fill statistic". */
export function operationLabel(name: string): string {
  const text = name.replace(/-/g, " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

let catalog: Promise<Operation[]> | null = null;

/** The operations never change while the app runs: read them once. */
export function loadOperations(): Promise<Operation[]> {
  catalog ??= unwrap(api.GET("/api/v1/operations")).then((reply) => reply.data);
  catalog.catch(() => (catalog = null));
  return catalog;
}

function OperationForm({
  operation,
  datasetId,
  baseRevision,
  columns,
  selectedColumn,
  onStarted,
  onBack,
  onConflict,
}: {
  operation: Operation;
  datasetId: string;
  baseRevision: string;
  columns: ColumnOption[];
  selectedColumn?: string;
  onStarted: (runId: string, label: string) => void;
  onBack: () => void;
  onConflict: () => void;
}) {
  const schema = operation.params as JsonSchema;
  const [values, setValues] = useState<Record<string, unknown>>(() => {
    const start = initialValues(schema);
    const column = schema.properties?.column;
    const fits = columns.find((c) => c.name === selectedColumn);
    const types = column?.["x-column"]?.types;
    if (column && fits && (!types || types.includes(fits.type))) start.column = fits.name;
    return start;
  });
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setErrors({});
    setError(undefined);
    try {
      const reply = await unwrap(
        api.POST("/api/v1/datasets/{dataset_id}/operations", {
          params: { path: { dataset_id: datasetId } },
          body: { op: operation.name, params: cleanParams(values, schema), base_revision: baseRevision },
        }),
      );
      onStarted(reply.run_id, operationLabel(operation.name));
    } catch (reason) {
      if (reason instanceof ApiError && reason.status === 422 && reason.errors.length) {
        const byField: Record<string, string> = {};
        const general: string[] = [];
        for (const item of reason.errors) {
          const path = errorPath(item.loc);
          if (path) byField[path] = humanise(item.msg);
          else general.push(item.msg);
        }
        setErrors(byField);
        setError(general.length ? general.join(" ") : "Some fields need attention: see below each one.");
      } else {
        if (reason instanceof ApiError && reason.status === 409) onConflict();
        setError(messageOf(reason));
      }
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="op-form" onSubmit={submit} aria-label={operationLabel(operation.name)}>
      <button type="button" className="link" onClick={onBack}>
        ← All operations
      </button>
      <h3>{operationLabel(operation.name)}</h3>
      <p className="muted">{operation.description}</p>
      <SchemaForm schema={schema} columns={columns} values={values} errors={errors} onChange={setValues} />
      {error && (
        <div className="error-note" role="alert">
          {error}
        </div>
      )}
      <details className="example">
        <summary>Example parameters</summary>
        <pre>{JSON.stringify(operation.example, null, 2)}</pre>
      </details>
      <div className="actions">
        <button type="submit" className="primary" disabled={busy}>
          {busy ? "Starting…" : "Apply"}
        </button>
      </div>
    </form>
  );
}

export function OperationsPanel(props: {
  datasetId: string;
  baseRevision: string;
  columns: ColumnOption[];
  selectedColumn?: string;
  busy: boolean;
  onStarted: (runId: string, label: string) => void;
  onConflict: () => void;
  onClose: () => void;
}) {
  const operations = useLoad(loadOperations, []);
  const [chosen, setChosen] = useState<Operation>();
  const [search, setSearch] = useState("");

  const groups = useMemo(() => {
    const words = search.trim().toLowerCase();
    const found = (operations.data ?? []).filter((op) => !words || op.name.includes(words) || op.description.toLowerCase().includes(words));
    const byFamily = new Map<string, Operation[]>();
    for (const op of found) byFamily.set(op.family, [...(byFamily.get(op.family) ?? []), op]);
    return [...byFamily.entries()];
  }, [operations.data, search]);

  return (
    <SidePanel label="Operations" title="Clean" className="wide-panel" onClose={props.onClose}>
      {props.busy && <div className="muted small">An operation is running; the next one can start when it ends.</div>}
      {chosen ? (
        <OperationForm key={chosen.name} operation={chosen} {...props} onBack={() => setChosen(undefined)} />
      ) : (
        <>
          <input
            type="search"
            placeholder="Find an operation"
            aria-label="Find an operation"
            value={search}
            onChange={(e) => setSearch(e.target.value)}
          />
          <ErrorNote error={operations.error} onRetry={operations.reload} />
          {operations.loading && !operations.data && <Loading what="operations" />}
          {groups.length === 0 && operations.data && <div className="state">No operation matches “{search}”.</div>}
          {groups.map(([family, ops]) => (
            <section key={family} className="op-group">
              <h4>{FAMILIES[family] ?? family}</h4>
              {ops.map((op) => (
                <button key={op.name} type="button" className="op-item" onClick={() => setChosen(op)} title={op.description}>
                  <span>{operationLabel(op.name)}</span>
                  <span className="muted small">{op.description}</span>
                </button>
              ))}
            </section>
          ))}
        </>
      )}
    </SidePanel>
  );
}
