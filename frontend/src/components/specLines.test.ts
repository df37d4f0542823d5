import { describe, expect, it } from "vitest";
import { lineOf } from "./specLines";

const SPEC = `name: coffee-report
inputs:
  sales:
    kind: table
params:
  top: {type: integer, default: 3}
steps:
  dedupe:
    task: drop-duplicate-rows
    with: {table: "\${inputs.sales}"}
  best-sellers:
    task: count-values
    with:
      table: "\${steps.dedupe.outputs.table}"
      column: product
outputs:
  csv: x
`;

describe("lines of problems in a YAML spec", () => {
  it("finds nested keys", () => {
    expect(lineOf(SPEC, ["name"])).toBe(1);
    expect(lineOf(SPEC, ["steps", "dedupe", "task"])).toBe(9);
    expect(lineOf(SPEC, ["steps", "best-sellers", "with", "column"])).toBe(15);
    expect(lineOf(SPEC, ["outputs", "csv"])).toBe(17);
  });

  it("does not take a key of another block for the one asked", () => {
    expect(lineOf(SPEC, ["steps", "best-sellers", "task"])).toBe(12);
  });

  it("falls back to the deepest key found", () => {
    expect(lineOf(SPEC, ["steps", "dedupe", "with", "table"])).toBe(10);
    expect(lineOf(SPEC, ["steps", "missing"])).toBe(7);
    expect(lineOf(SPEC, ["nothing"])).toBe(1);
  });

  it("counts list items", () => {
    const text = "inputs:\n  t:\n    validators:\n      - {kind: rows}\n      - kind: columns\n        required: {}\n";
    expect(lineOf(text, ["inputs", "t", "validators", 1])).toBe(5);
    expect(lineOf(text, ["inputs", "t", "validators", 1, "required"])).toBe(6);
  });
});

describe("keys of the same name at other depths", () => {
  it("takes the top-level key, not a nested one above it", () => {
    const text = "name: x\nsteps:\n  a:\n    params: {k: 1}\nparams:\n  k: {type: number}\n";
    expect(lineOf(text, ["params"])).toBe(5);
    expect(lineOf(text, ["params", "k"])).toBe(6);
    expect(lineOf(text, ["steps", "a", "params"])).toBe(4);
  });

  it("finds a key on a list item's own line", () => {
    const text = "inputs:\n  t:\n    validators:\n      - kind: rows\n        min: 1\n";
    expect(lineOf(text, ["inputs", "t", "validators", 0, "kind"])).toBe(4);
    expect(lineOf(text, ["inputs", "t", "validators", 0, "min"])).toBe(5);
  });
});
