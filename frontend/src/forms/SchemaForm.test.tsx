import { cleanup, fireEvent, render, screen, within } from "@testing-library/react";
import { useState } from "react";
import { afterEach, describe, expect, it } from "vitest";
import { SchemaForm } from "./SchemaForm";
import { cleanParams, errorPath, initialValues, kindOf, type JsonSchema } from "./schema";

afterEach(cleanup);

// Parameter schemas as GET /api/v1/operations gives them.
const ANY = ["int", "float", "bool", "date", "timestamp", "text"];
const fillStatistic: JsonSchema = {
  type: "object",
  required: ["column", "statistic"],
  properties: {
    column: { type: "string", title: "Column", "x-column": { new: false, types: ["int", "float"] } },
    statistic: { type: "string", title: "Statistic", enum: ["mean", "median", "mode"] },
  },
};
const findReplace: JsonSchema = {
  type: "object",
  required: ["columns", "replacements"],
  $defs: {
    Replacement: {
      type: "object",
      required: ["find"],
      properties: { find: { type: "string", title: "Find" }, replace: { type: "string", title: "Replace", default: "" } },
    },
  },
  properties: {
    columns: { type: "array", title: "Columns", items: { type: "string", "x-column": { new: false, types: ["text"] } } },
    replacements: { type: "array", title: "Replacements", items: { $ref: "#/$defs/Replacement" }, maxItems: 100 },
    mode: { type: "string", title: "Mode", enum: ["literal", "regex"], default: "literal" },
    whole_cell: { type: "boolean", title: "Whole Cell", default: false, description: "Replace only cells matching entirely." },
  },
};
const oneHot: JsonSchema = {
  type: "object",
  required: ["column"],
  properties: {
    column: { type: "string", title: "Column", "x-column": { new: false, types: ANY } },
    top: { anyOf: [{ type: "integer", minimum: 1, maximum: 1000 }, { type: "null" }], default: null, title: "Top" },
  },
};
const rename: JsonSchema = {
  type: "object",
  required: ["names"],
  properties: {
    names: {
      type: "object",
      title: "Names",
      additionalProperties: { type: "string" },
      propertyNames: { "x-column": { new: false, types: ANY } },
    },
  },
};

const COLUMNS = [
  { name: "city", type: "text" },
  { name: "price", type: "float" },
  { name: "qty", type: "int" },
];

function Harness({
  schema,
  errors,
  onValues,
}: {
  schema: JsonSchema;
  errors?: Record<string, string>;
  onValues: (v: Record<string, unknown>) => void;
}) {
  const [values, setValues] = useState(initialValues(schema));
  return (
    <SchemaForm
      schema={schema}
      columns={COLUMNS}
      values={values}
      errors={errors}
      onChange={(next) => {
        setValues(next);
        onValues(next);
      }}
    />
  );
}

describe("kinds of fields", () => {
  it("reads column pickers, nullable numbers, lists of objects and mappings from the schema", () => {
    expect(kindOf(fillStatistic.properties!.column, fillStatistic)).toBe("column");
    expect(kindOf(fillStatistic.properties!.statistic, fillStatistic)).toBe("enum");
    expect(kindOf(findReplace.properties!.columns, findReplace)).toBe("columns");
    expect(kindOf(findReplace.properties!.replacements, findReplace)).toBe("objects");
    expect(kindOf(oneHot.properties!.top, oneHot)).toBe("integer");
    expect(kindOf(rename.properties!.names, rename)).toBe("mapping");
    expect(kindOf({}, {})).toBe("value");
  });
});

describe("SchemaForm", () => {
  it("offers only the columns of the types the operation accepts", () => {
    let last: Record<string, unknown> = {};
    render(<Harness schema={fillStatistic} onValues={(v) => (last = v)} />);
    const picker = screen.getByLabelText("Column *") as HTMLSelectElement;
    const offered = Array.from(picker.options).map((option) => option.value);
    expect(offered).toEqual(["", "price", "qty"]);
    fireEvent.change(picker, { target: { value: "price" } });
    fireEvent.change(screen.getByLabelText("Statistic *"), { target: { value: "median" } });
    expect(last).toEqual({ column: "price", statistic: "median" });
  });

  it("builds a list of replacements with checkboxes for the text columns", () => {
    let last: Record<string, unknown> = {};
    render(<Harness schema={findReplace} onValues={(v) => (last = v)} />);
    const group = screen.getByRole("group", { name: "Columns" });
    expect(within(group).getAllByRole("checkbox")).toHaveLength(1);
    fireEvent.click(within(group).getByRole("checkbox"));
    fireEvent.change(screen.getByLabelText("Find *"), { target: { value: "NYC" } });
    fireEvent.click(screen.getByText("+ Add another"));
    fireEvent.change(screen.getAllByLabelText("Find *")[1], { target: { value: "LA" } });
    expect(last.columns).toEqual(["city"]);
    expect(last.replacements).toEqual([{ find: "NYC" }, { find: "LA" }]);
    expect(last.mode).toBe("literal");
    expect(screen.getByText("Replace only cells matching entirely.")).toBeTruthy();
  });

  it("leaves an optional number out until one is typed, and types it as a number", () => {
    let last: Record<string, unknown> = {};
    render(<Harness schema={oneHot} onValues={(v) => (last = v)} />);
    const top = screen.getByLabelText("Top") as HTMLInputElement;
    expect(top.value).toBe("");
    fireEvent.change(top, { target: { value: "20" } });
    expect(last.top).toBe(20);
    fireEvent.change(top, { target: { value: "" } });
    expect(cleanParams(last)).toEqual({});
  });

  it("maps old column names to new ones", () => {
    let last: Record<string, unknown> = {};
    render(<Harness schema={rename} onValues={(v) => (last = v)} />);
    fireEvent.change(screen.getByLabelText("Column"), { target: { value: "qty" } });
    fireEvent.change(screen.getByLabelText("New name for qty"), { target: { value: "quantity" } });
    expect(last.names).toEqual({ qty: "quantity" });
  });

  it("shows the server's message beside the field it names", () => {
    render(<Harness schema={findReplace} errors={{ "replacements.0.find": "Field required." }} onValues={() => undefined} />);
    const alert = screen.getByRole("alert");
    expect(alert.textContent).toBe("Field required.");
    expect(alert.closest(".field")?.textContent).toContain("Find");
  });
});

describe("errors and parameters", () => {
  it("finds a field's path in a problem's location", () => {
    expect(errorPath(["body", "params", "replacements", 0, "find"])).toBe("replacements.0.find");
    expect(errorPath(["body", "op"])).toBeNull();
  });

  it("drops empty values so the server's defaults apply", () => {
    expect(cleanParams({ a: "", b: [], c: undefined, d: 0, e: false, f: null })).toEqual({ d: 0, e: false, f: null });
  });

  it("keeps an empty free value, and sends null for a required field that may be null", () => {
    const schema: JsonSchema = {
      type: "object",
      required: ["column", "value", "format"],
      properties: {
        column: { type: "string" },
        value: {},
        format: { anyOf: [{ type: "string" }, { type: "null" }] },
        prefix: { anyOf: [{ type: "string" }, { type: "null" }] },
      },
    };
    expect(cleanParams({ column: "city", value: "", prefix: "" }, schema)).toEqual({ column: "city", value: "", format: null });
  });
});
