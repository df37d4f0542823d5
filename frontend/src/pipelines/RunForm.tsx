import { useState, type FormEvent } from "react";
import { useNavigate } from "react-router-dom";
import { api, send, unwrap, type Schemas } from "../api/client";
import { ApiError, humanise, messageOf } from "../api/problem";
import { SchemaForm } from "../forms/SchemaForm";
import { cleanParams, initialValues, type JsonSchema } from "../forms/schema";
import { useLoad } from "../load";

type Interface = Schemas["PipelineInterface"];

/** The pipeline's interface as a form: files, datasets for tables, JSON for values, typed parameters. */
export function RunForm({ name, face }: { name: string; face: Interface }) {
  const navigate = useNavigate();
  const schema = face.params as JsonSchema;
  const [params, setParams] = useState<Record<string, unknown>>(() => initialValues(schema));
  const [files, setFiles] = useState<Record<string, File>>({});
  const [tables, setTables] = useState<Record<string, string>>({});
  const [values, setValues] = useState<Record<string, string>>({});
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const needsTables = Object.values(face.inputs).some((input) => input.kind === "table");
  const datasets = useLoad(
    () => (needsTables ? unwrap(api.GET("/api/v1/datasets", { params: { query: { limit: 500 } } })) : Promise.resolve(null)),
    [needsTables],
  );

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    setErrors({});
    const inputs: Record<string, unknown> = {};
    try {
      for (const [input, spec] of Object.entries(face.inputs)) {
        if (spec.kind === "table" && tables[input]) inputs[input] = { dataset: tables[input] };
        if (spec.kind === "value" && values[input] !== undefined && values[input] !== "") {
          try {
            inputs[input] = JSON.parse(values[input]);
          } catch {
            inputs[input] = values[input];
          }
        }
      }
      const body = { params: cleanParams(params, schema), inputs };
      const url = `/api/v1/pipelines/${encodeURIComponent(name)}/runs`;
      let reply: Schemas["RunAccepted"];
      if (Object.keys(files).length) {
        const form = new FormData();
        form.append("params", JSON.stringify(body.params));
        form.append("inputs", JSON.stringify(body.inputs));
        for (const [input, file] of Object.entries(files)) form.append(input, file, file.name);
        reply = await send<Schemas["RunAccepted"]>("POST", url, form);
      } else {
        reply = await send<Schemas["RunAccepted"]>("POST", url, JSON.stringify(body), "application/json");
      }
      navigate(`/runs/${reply.run_id}`);
    } catch (reason) {
      if (reason instanceof ApiError && reason.errors.length) {
        const byField: Record<string, string> = {};
        for (const item of reason.errors) {
          const at = item.loc.findIndex((part) => part === "params" || part === "inputs");
          if (at >= 0 && item.loc[at + 1] !== undefined) {
            const key = item.loc[at] === "params" ? item.loc.slice(at + 1).join(".") : `input:${item.loc[at + 1]}`;
            byField[key] = humanise(item.msg);
          }
        }
        setErrors(byField);
      }
      setError(messageOf(reason));
    } finally {
      setBusy(false);
    }
  }

  const inputEntries = Object.entries(face.inputs);
  return (
    <form className="run-form" onSubmit={submit} aria-label="Run the pipeline">
      {inputEntries.length > 0 && <h3>Inputs</h3>}
      {inputEntries.map(([input, spec]) => {
        const message = errors[`input:${input}`];
        return (
          <div className={message ? "field invalid" : "field"} key={input}>
            <label className="field-label" htmlFor={`input-${input}`}>
              {input} <span className="muted small">({spec.kind})</span>
            </label>
            {spec.kind === "file" && (
              <input
                id={`input-${input}`}
                type="file"
                onChange={(e) =>
                  setFiles((old) => {
                    const next = { ...old };
                    const file = e.target.files?.[0];
                    if (file) next[input] = file;
                    else delete next[input];
                    return next;
                  })
                }
              />
            )}
            {spec.kind === "table" && (
              <>
                <select
                  id={`input-${input}`}
                  value={tables[input] ?? ""}
                  onChange={(e) => setTables({ ...tables, [input]: e.target.value })}
                >
                  <option value="">Choose a dataset</option>
                  {(datasets.data?.data ?? []).map((dataset) => (
                    <option key={dataset.id} value={dataset.id}>
                      {dataset.name} ({dataset.owner})
                    </option>
                  ))}
                </select>
                <label className="check small">
                  or upload a file instead:
                  <input
                    type="file"
                    aria-label={`File for ${input}`}
                    onChange={(e) => {
                      const file = e.target.files?.[0];
                      setFiles((old) => {
                        const next = { ...old };
                        if (file) next[input] = file;
                        else delete next[input];
                        return next;
                      });
                    }}
                  />
                </label>
              </>
            )}
            {spec.kind === "value" && (
              <input
                id={`input-${input}`}
                placeholder="a JSON value"
                value={values[input] ?? ""}
                onChange={(e) => setValues({ ...values, [input]: e.target.value })}
              />
            )}
            {spec.description && <div className="help">{spec.description}</div>}
            {spec.validators.length > 0 && (
              <div className="help">Checked before the run: {spec.validators.map((v) => String(v.kind)).join(", ")}.</div>
            )}
            {message && (
              <div className="field-error" role="alert">
                {message}
              </div>
            )}
          </div>
        );
      })}
      {Object.keys(schema.properties ?? {}).length > 0 && (
        <>
          <h3>Parameters</h3>
          <SchemaForm schema={schema} columns={[]} values={params} errors={errors} onChange={setParams} />
        </>
      )}
      {error && (
        <div className="error-note" role="alert">
          {error}
        </div>
      )}
      <div className="actions">
        <button type="submit" className="primary" disabled={busy}>
          {busy ? "Starting…" : `Run ${name}`}
        </button>
      </div>
    </form>
  );
}
