/** The grid's view (sort, filters, search) as the API takes it (DESIGN.md, "Grid queries"). */

export interface SortKey {
  column: string;
  desc?: boolean;
}

export type FilterOp =
  "eq" | "ne" | "lt" | "le" | "gt" | "ge" | "between" | "in" | "is_null" | "not_null" | "contains" | "starts_with" | "regex";

export interface Filter {
  column: string;
  op: FilterOp;
  value?: unknown;
}

export interface View {
  sort: SortKey[];
  filter: Filter[];
  q: string;
}

export const EMPTY_VIEW: View = { sort: [], filter: [], q: "" };

export const OP_LABELS: Record<FilterOp, string> = {
  eq: "is",
  ne: "is not",
  lt: "<",
  le: "≤",
  gt: ">",
  ge: "≥",
  between: "between",
  in: "is one of",
  is_null: "is empty",
  not_null: "is not empty",
  contains: "contains",
  starts_with: "starts with",
  regex: "matches regex",
};

/** The operators that make sense for a column type, most useful first. */
export function opsFor(type: string): FilterOp[] {
  if (type === "text") return ["contains", "eq", "ne", "starts_with", "in", "regex", "is_null", "not_null"];
  if (type === "bool") return ["eq", "is_null", "not_null"];
  return ["eq", "ne", "lt", "le", "gt", "ge", "between", "is_null", "not_null"];
}

export function takesValue(op: FilterOp): boolean {
  return op !== "is_null" && op !== "not_null";
}

/** A typed value from what was typed in a filter box; `in` takes a comma-separated list, `between` two values. */
export function parseFilterValue(op: FilterOp, type: string, text: string): unknown {
  const one = (part: string): unknown => {
    const trimmed = part.trim();
    if (type === "int" || type === "float") {
      const number = Number(trimmed);
      return trimmed === "" || Number.isNaN(number) ? trimmed : number;
    }
    if (type === "bool") return trimmed.toLowerCase() === "true";
    return part;
  };
  if (op === "in") return text.split(",").map(one);
  if (op === "between") {
    const parts = text.split(/\s*(?:,|\.\.|and)\s*/);
    return [one(parts[0] ?? ""), one(parts[1] ?? "")];
  }
  return one(text);
}

/** Next sort after clicking a header: ascending, then descending, then off. Shift keeps the other keys. */
export function cycleSort(sort: SortKey[], column: string, keepOthers: boolean): SortKey[] {
  const current = sort.find((key) => key.column === column);
  const others = keepOthers ? sort.filter((key) => key.column !== column) : [];
  if (!current) return [...others, { column }];
  if (!current.desc)
    return keepOthers ? sort.map((key) => (key.column === column ? { column, desc: true } : key)) : [{ column, desc: true }];
  return others;
}

/** Query parameters for /rows and /export. */
export function viewParams(view: View): { sort?: string; filter?: string; q?: string } {
  return {
    sort: view.sort.length ? JSON.stringify(view.sort) : undefined,
    filter: view.filter.length ? JSON.stringify(view.filter) : undefined,
    q: view.q.trim() || undefined,
  };
}

export function describeFilter(filter: Filter): string {
  const label = OP_LABELS[filter.op];
  if (!takesValue(filter.op)) return `${filter.column} ${label}`;
  const value = Array.isArray(filter.value) ? filter.value.join(filter.op === "between" ? " and " : ", ") : String(filter.value);
  return `${filter.column} ${label} ${value}`;
}
