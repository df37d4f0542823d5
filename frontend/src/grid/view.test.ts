import { describe, expect, it } from "vitest";
import { cycleSort, describeFilter, parseFilterValue, viewParams } from "./view";

describe("sorting from headers", () => {
  it("goes ascending, descending, then off", () => {
    let sort = cycleSort([], "price", false);
    expect(sort).toEqual([{ column: "price" }]);
    sort = cycleSort(sort, "price", false);
    expect(sort).toEqual([{ column: "price", desc: true }]);
    expect(cycleSort(sort, "price", false)).toEqual([]);
  });

  it("replaces the sort on a plain click and adds a key on shift-click", () => {
    const byId = [{ column: "id" }];
    expect(cycleSort(byId, "price", false)).toEqual([{ column: "price" }]);
    expect(cycleSort(byId, "price", true)).toEqual([{ column: "id" }, { column: "price" }]);
    expect(cycleSort([{ column: "id" }, { column: "price" }], "price", true)).toEqual([{ column: "id" }, { column: "price", desc: true }]);
  });
});

describe("filter values", () => {
  it("types numbers for numeric columns and keeps text as typed", () => {
    expect(parseFilterValue("gt", "int", " 42 ")).toBe(42);
    expect(parseFilterValue("eq", "text", " a ")).toBe(" a ");
    expect(parseFilterValue("gt", "float", "abc")).toBe("abc");
  });

  it("splits lists and ranges", () => {
    expect(parseFilterValue("in", "int", "1, 2,3")).toEqual([1, 2, 3]);
    expect(parseFilterValue("between", "float", "1.5 and 3")).toEqual([1.5, 3]);
    expect(parseFilterValue("between", "int", "1..9")).toEqual([1, 9]);
  });

  it("reads back as a sentence", () => {
    expect(describeFilter({ column: "qty", op: "between", value: [1, 9] })).toBe("qty between 1 and 9");
    expect(describeFilter({ column: "name", op: "is_null" })).toBe("name is empty");
  });
});

describe("query parameters", () => {
  it("leaves out what is not set", () => {
    expect(viewParams({ sort: [], filter: [], q: "  " })).toEqual({ sort: undefined, filter: undefined, q: undefined });
    expect(viewParams({ sort: [{ column: "a", desc: true }], filter: [], q: "x" })).toEqual({
      sort: '[{"column":"a","desc":true}]',
      filter: undefined,
      q: "x",
    });
  });
});
