import { describe, expect, it } from "vitest";
import { layout, stepsOfSpec } from "./graph";

describe("step graph layout", () => {
  it("puts each step one layer right of its deepest dependency", () => {
    const placed = layout([
      { name: "load", depends_on: [] },
      { name: "clean", depends_on: ["load"] },
      { name: "stats", depends_on: ["load"] },
      { name: "report", depends_on: ["clean", "stats"] },
    ]);
    expect(placed).toEqual([
      { name: "load", layer: 0, row: 0 },
      { name: "clean", layer: 1, row: 0 },
      { name: "stats", layer: 1, row: 1 },
      { name: "report", layer: 2, row: 0 },
    ]);
  });

  it("survives a cycle and unknown dependencies", () => {
    const placed = layout([
      { name: "a", depends_on: ["b", "ghost"] },
      { name: "b", depends_on: ["a"] },
    ]);
    expect(placed.map((p) => p.name)).toEqual(["a", "b"]);
  });

  it("reads dependencies implied by references in a spec", () => {
    const spec = {
      steps: {
        dedupe: { task: "t", with: { table: "${inputs.sales}" } },
        count: { task: "t", with: { table: "${steps.dedupe.outputs.table}" } },
        export: { task: "t", depends_on: ["count"], with: { table: "${steps.count.outputs.counts}" } },
      },
    };
    expect(stepsOfSpec(spec)).toEqual([
      { name: "dedupe", depends_on: [] },
      { name: "count", depends_on: ["dedupe"] },
      { name: "export", depends_on: ["count"] },
    ]);
  });
});
