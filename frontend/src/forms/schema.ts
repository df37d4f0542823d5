/**
 * Reading the JSON Schemas of operation parameters (and later task and pipeline parameters) to
 * decide which input each field gets. Only the shapes the server emits are handled; anything
 * else falls back to a JSON text box, so a new kind of parameter is still usable.
 */

export interface XColumn {
  new: boolean;
  types: string[];
}

export interface JsonSchema {
  type?: string;
  enum?: unknown[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
  default?: unknown;
  title?: string;
  description?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  additionalProperties?: boolean | JsonSchema;
  propertyNames?: JsonSchema;
  "x-column"?: XColumn;
}

export type Kind =
  | "column"
  | "new-column"
  | "columns"
  | "enum"
  | "boolean"
  | "integer"
  | "number"
  | "text"
  | "numbers"
  | "texts"
  | "objects"
  | "mapping"
  | "value"
  | "json";

/** Follow a local `$ref` (`#/$defs/Name`) against the root schema. */
export function resolve(schema: JsonSchema, root: JsonSchema): JsonSchema {
  if (!schema.$ref) return schema;
  const name = schema.$ref.replace(/^#\/\$defs\//, "");
  const target = root.$defs?.[name] ?? {};
  return { ...target, ...schema, $ref: undefined };
}

/** `anyOf: [X, {type: null}]` is an optional X. */
export function unwrapNullable(schema: JsonSchema): { inner: JsonSchema; nullable: boolean } {
  const options = schema.anyOf;
  if (!options) return { inner: schema, nullable: false };
  const others = options.filter((option) => option.type !== "null");
  if (others.length === 1 && others.length < options.length) {
    const { anyOf: _drop, ...rest } = schema;
    return { inner: { ...rest, ...others[0] }, nullable: true };
  }
  return { inner: schema, nullable: false };
}

export function kindOf(raw: JsonSchema, root: JsonSchema): Kind {
  const schema = resolve(unwrapNullable(raw).inner, root);
  if (schema["x-column"]) return schema["x-column"].new ? "new-column" : "column";
  if (schema.enum) return "enum";
  switch (schema.type) {
    case "boolean":
      return "boolean";
    case "integer":
      return "integer";
    case "number":
      return "number";
    case "string":
      return "text";
    case "array": {
      const items = resolve(schema.items ?? {}, root);
      if (items["x-column"]) return "columns";
      if (items.type === "number" || items.type === "integer") return "numbers";
      if (items.type === "string") return "texts";
      if (items.type === "object" || items.properties) return "objects";
      return "json";
    }
    case "object":
      return schema.propertyNames?.["x-column"] ? "mapping" : "json";
    case undefined:
      return schema.anyOf || schema.properties ? "json" : "value";
    default:
      return "json";
  }
}

export function isRequired(schema: JsonSchema, name: string): boolean {
  return schema.required?.includes(name) ?? false;
}

/** The column types a column field accepts (every type when the schema does not say). */
export function columnTypes(raw: JsonSchema, root: JsonSchema): string[] | null {
  const schema = resolve(unwrapNullable(raw).inner, root);
  const marker = schema["x-column"] ?? resolve(schema.items ?? {}, root)["x-column"] ?? schema.propertyNames?.["x-column"];
  return marker ? marker.types : null;
}

/** "flag_name" → "Flag name": the server's titles are generated from field names. */
export function labelOf(schema: JsonSchema, name: string): string {
  const text = (schema.title ?? name).replace(/_/g, " ");
  return text.charAt(0).toUpperCase() + text.slice(1).toLowerCase();
}

/** Starting values: each field's default, nothing for fields without one. */
export function initialValues(schema: JsonSchema): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(schema.properties ?? {})) {
    if (field.default !== undefined && field.default !== null) values[name] = field.default;
  }
  return values;
}

/**
 * The parameters to send: what was left empty is dropped, so that the server applies its own
 * defaults — except a free value (which may be the empty text), and a field the schema requires
 * but allows to be null, which is sent as null.
 */
export function cleanParams(values: Record<string, unknown>, schema?: JsonSchema): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  const names = new Set([...Object.keys(values), ...(schema?.required ?? [])]);
  for (const name of names) {
    const value = values[name];
    const field = schema?.properties?.[name];
    const free = field !== undefined && schema !== undefined && kindOf(field, schema) === "value";
    const empty = value === undefined || (value === "" && !free) || (Array.isArray(value) && value.length === 0);
    if (!empty) params[name] = value;
    else if (field && schema && isRequired(schema, name) && unwrapNullable(field).nullable) params[name] = null;
  }
  return params;
}

/** The form path of a problem's location (`["body", "params", "replacements", 0, "find"]` → `replacements.0.find`). */
export function errorPath(loc: (string | number)[]): string | null {
  const at = loc.indexOf("params");
  if (at < 0) return null;
  return loc.slice(at + 1).join(".");
}
