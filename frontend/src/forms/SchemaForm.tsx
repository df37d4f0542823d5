/** A form generated from a JSON Schema: column pickers filled from the dataset, errors beside their fields. */

import { useId } from "react";
import { columnTypes, isRequired, kindOf, labelOf, resolve, unwrapNullable, type JsonSchema } from "./schema";

export interface ColumnOption {
  name: string;
  type: string;
}

interface Context {
  root: JsonSchema;
  columns: ColumnOption[];
  errors: Record<string, string>;
}

type Values = Record<string, unknown>;

function numberFrom(text: string): number | undefined {
  if (text.trim() === "") return undefined;
  const value = Number(text);
  return Number.isNaN(value) ? undefined : value;
}

function listFrom(text: string): string[] {
  return text
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part !== "");
}

function ColumnSelect({
  id,
  value,
  options,
  onChange,
  required,
}: {
  id: string;
  value: unknown;
  options: ColumnOption[];
  onChange: (value: string | undefined) => void;
  required: boolean;
}) {
  return (
    <select id={id} value={typeof value === "string" ? value : ""} onChange={(e) => onChange(e.target.value || undefined)}>
      <option value="">{required ? "Choose a column" : "(none)"}</option>
      {options.map((column) => (
        <option key={column.name} value={column.name}>
          {column.name} ({column.type})
        </option>
      ))}
    </select>
  );
}

function ColumnChecks({
  value,
  options,
  onChange,
  label,
}: {
  value: unknown;
  options: ColumnOption[];
  onChange: (value: string[]) => void;
  label: string;
}) {
  const chosen = new Set(Array.isArray(value) ? (value as string[]) : []);
  if (options.length === 0) return <div className="muted small">No column of a suitable type.</div>;
  return (
    <div className="checks" role="group" aria-label={label}>
      {options.map((column) => (
        <label key={column.name} className="check">
          <input
            type="checkbox"
            checked={chosen.has(column.name)}
            onChange={(e) => {
              const next = options.map((c) => c.name).filter((name) => (name === column.name ? e.target.checked : chosen.has(name)));
              onChange(next);
            }}
          />
          {column.name} <span className="muted small">{column.type}</span>
        </label>
      ))}
    </div>
  );
}

function Mapping({ value, options, onChange }: { value: unknown; options: ColumnOption[]; onChange: (value: Values) => void }) {
  const pairs = Object.entries((value as Record<string, string>) ?? {});
  const rows = [...pairs, ["", ""] as [string, string]];
  function update(index: number, key: string, target: string) {
    const next = rows.map((pair, i) => (i === index ? [key, target] : pair)).filter(([k]) => k !== "");
    onChange(Object.fromEntries(next));
  }
  return (
    <div className="mapping">
      {rows.map(([key, target], index) => (
        <div className="mapping-row" key={index}>
          <select aria-label="Column" value={key} onChange={(e) => update(index, e.target.value, target)}>
            <option value="">{index === pairs.length ? "Add a column…" : "(remove)"}</option>
            {options.map((column) => (
              <option key={column.name} value={column.name}>
                {column.name}
              </option>
            ))}
          </select>
          <span aria-hidden>→</span>
          <input
            aria-label={`New name for ${key || "column"}`}
            value={target}
            disabled={!key}
            onChange={(e) => update(index, key, e.target.value)}
          />
        </div>
      ))}
    </div>
  );
}

function ObjectList({
  schema,
  value,
  path,
  context,
  onChange,
}: {
  schema: JsonSchema;
  value: unknown;
  path: string;
  context: Context;
  onChange: (value: Values[]) => void;
}) {
  const items = Array.isArray(value) ? (value as Values[]) : [];
  const itemSchema = resolve(schema.items ?? {}, context.root);
  const shown = items.length === 0 ? [{}] : items;
  return (
    <div className="object-list">
      {shown.map((item, index) => (
        <div className="object-item" key={index}>
          <Fields
            schema={itemSchema}
            values={item}
            path={`${path}.${index}`}
            context={context}
            onChange={(next) => onChange(shown.map((old, i) => (i === index ? next : old)))}
          />
          {shown.length > 1 && (
            <button type="button" className="link danger-text" onClick={() => onChange(shown.filter((_, i) => i !== index))}>
              Remove
            </button>
          )}
        </div>
      ))}
      {(schema.maxItems === undefined || shown.length < schema.maxItems) && (
        <button type="button" className="link" onClick={() => onChange([...shown, {}])}>
          + Add another
        </button>
      )}
    </div>
  );
}

/** Under a field: what it is for, then what the server said was wrong with it. */
function FieldNotes({ help, error }: { help?: string; error?: string }) {
  return (
    <>
      {help && <div className="help">{help}</div>}
      {error && (
        <div className="field-error" role="alert">
          {error}
        </div>
      )}
    </>
  );
}

function Field({
  name,
  schema,
  parent,
  value,
  path,
  context,
  onChange,
}: {
  name: string;
  schema: JsonSchema;
  parent: JsonSchema;
  value: unknown;
  path: string;
  context: Context;
  onChange: (value: unknown) => void;
}) {
  const id = useId();
  const { inner, nullable } = unwrapNullable(schema);
  const resolved = resolve(inner, context.root);
  const kind = kindOf(schema, context.root);
  const required = isRequired(parent, name) && !nullable;
  const label = labelOf(schema, name);
  const types = columnTypes(schema, context.root);
  const options = context.columns.filter((column) => !types || types.includes(column.type));
  const error = context.errors[path];

  let input;
  switch (kind) {
    case "column":
      input = <ColumnSelect id={id} value={value} options={options} onChange={onChange} required={required} />;
      break;
    case "columns":
      input = <ColumnChecks value={value} options={options} onChange={onChange} label={label} />;
      break;
    case "mapping":
      input = <Mapping value={value} options={options} onChange={onChange} />;
      break;
    case "enum":
      input = (
        <select id={id} value={value === undefined ? "" : String(value)} onChange={(e) => onChange(e.target.value || undefined)}>
          {(!required || value === undefined) && <option value="">{required ? "Choose…" : "(default)"}</option>}
          {(resolved.enum ?? []).map((choice) => (
            <option key={String(choice)} value={String(choice)}>
              {String(choice)}
            </option>
          ))}
        </select>
      );
      break;
    case "boolean":
      return (
        <div className="field">
          <label className="check">
            <input type="checkbox" checked={value === true} onChange={(e) => onChange(e.target.checked)} />
            {label}
          </label>
          <FieldNotes help={schema.description} error={error} />
        </div>
      );
    case "integer":
    case "number":
      input = (
        <input
          id={id}
          type="number"
          step={kind === "integer" ? 1 : "any"}
          min={resolved.minimum}
          max={resolved.maximum}
          value={value === undefined || value === null ? "" : String(value)}
          onChange={(e) => onChange(numberFrom(e.target.value))}
        />
      );
      break;
    case "numbers":
      input = (
        <input
          id={id}
          placeholder="numbers, separated by commas"
          defaultValue={Array.isArray(value) ? value.join(", ") : ""}
          onChange={(e) => onChange(listFrom(e.target.value).map(Number))}
        />
      );
      break;
    case "texts":
      input = (
        <input
          id={id}
          placeholder="values, separated by commas"
          defaultValue={Array.isArray(value) ? value.join(", ") : ""}
          onChange={(e) => onChange(listFrom(e.target.value))}
        />
      );
      break;
    case "objects":
      input = <ObjectList schema={resolved} value={value} path={path} context={context} onChange={onChange} />;
      break;
    case "value":
      input = (
        <div className="value-input">
          <input
            id={id}
            value={value === null || value === undefined ? "" : String(value)}
            disabled={value === null}
            onChange={(e) => onChange(e.target.value)}
          />
          <label className="check small">
            <input type="checkbox" checked={value === null} onChange={(e) => onChange(e.target.checked ? null : "")} />
            empty (null)
          </label>
        </div>
      );
      break;
    case "json":
      input = (
        <textarea
          id={id}
          rows={3}
          placeholder="JSON"
          defaultValue={value === undefined ? "" : JSON.stringify(value)}
          onChange={(e) => {
            try {
              onChange(e.target.value.trim() ? JSON.parse(e.target.value) : undefined);
            } catch {
              onChange(e.target.value);
            }
          }}
        />
      );
      break;
    default: {
      const long = name === "expression" || (resolved.maxLength ?? 0) > 1000;
      input = long ? (
        <textarea id={id} rows={3} value={typeof value === "string" ? value : ""} onChange={(e) => onChange(e.target.value || undefined)} />
      ) : (
        <input
          id={id}
          value={typeof value === "string" ? value : ""}
          onChange={(e) => onChange(e.target.value === "" ? undefined : e.target.value)}
        />
      );
    }
  }

  const grouped = kind === "columns" || kind === "objects" || kind === "mapping";
  return (
    <div className={error ? "field invalid" : "field"}>
      {grouped ? (
        <div className="field-label">
          {label}
          {required && (
            <span className="required" aria-hidden>
              {" "}
              *
            </span>
          )}
        </div>
      ) : (
        <label htmlFor={id} className="field-label">
          {label}
          {required && (
            <span className="required" aria-hidden>
              {" "}
              *
            </span>
          )}
        </label>
      )}
      {input}
      <FieldNotes help={schema.description} error={error} />
    </div>
  );
}

function Fields({
  schema,
  values,
  path,
  context,
  onChange,
}: {
  schema: JsonSchema;
  values: Values;
  path: string;
  context: Context;
  onChange: (values: Values) => void;
}) {
  return (
    <>
      {Object.entries(schema.properties ?? {}).map(([name, field]) => (
        <Field
          key={name}
          name={name}
          schema={field}
          parent={schema}
          value={values[name]}
          path={path ? `${path}.${name}` : name}
          context={context}
          onChange={(value) => onChange({ ...values, [name]: value })}
        />
      ))}
    </>
  );
}

export function SchemaForm({
  schema,
  columns,
  values,
  errors = {},
  onChange,
}: {
  schema: JsonSchema;
  columns: ColumnOption[];
  values: Values;
  errors?: Record<string, string>;
  onChange: (values: Values) => void;
}) {
  return (
    <div className="schema-form">
      <Fields schema={schema} values={values} path="" context={{ root: schema, columns, errors }} onChange={onChange} />
    </div>
  );
}
