import { describe, expect, it } from "vitest";
import {
  MAX_SCROLL_HEIGHT,
  PageCache,
  maxTop,
  pagesCovering,
  rowAt,
  scrollHeight,
  scrollTopFor,
  topRowAt,
  visibleRows,
  visibleRowsFrom,
} from "./paging";

const small = { total: 50, rowHeight: 28, viewport: 280 };
const huge = { total: 10_000_000, rowHeight: 28, viewport: 700 };

describe("scrolling", () => {
  it("maps scroll pixels to rows one to one when the table fits the height cap", () => {
    expect(scrollHeight(small)).toBe(50 * 28);
    expect(topRowAt(280, small)).toBe(10);
    expect(scrollTopFor(10, small)).toBe(280);
  });

  it("caps the scrolled height for ten million rows and still reaches the last row", () => {
    expect(scrollHeight(huge)).toBe(MAX_SCROLL_HEIGHT);
    const bottom = MAX_SCROLL_HEIGHT - huge.viewport;
    const last = visibleRows(bottom, huge, 0);
    expect(last.end).toBe(huge.total);
    expect(topRowAt(bottom / 2, huge)).toBeCloseTo((huge.total - huge.viewport / huge.rowHeight) / 2, 3);
  });

  it("inverts: the scroll position for a row shows that row at the top", () => {
    for (const row of [0, 1, 12_345, 5_000_000, 9_999_975]) {
      expect(topRowAt(scrollTopFor(row, huge), huge)).toBeCloseTo(row, 3);
    }
  });

  it("clamps positions outside the scrolled area", () => {
    expect(topRowAt(-100, huge)).toBe(0);
    expect(topRowAt(MAX_SCROLL_HEIGHT * 2, huge)).toBeCloseTo(huge.total - huge.viewport / huge.rowHeight, 3);
  });

  it("shows row zero for a table shorter than the viewport", () => {
    expect(visibleRows(0, { total: 3, rowHeight: 28, viewport: 500 })).toEqual({ first: 0, end: 3, offset: -0 });
    expect(visibleRows(0, { total: 0, rowHeight: 28, viewport: 500 }).end).toBe(0);
  });

  it("offsets the first row by the fraction of it scrolled past", () => {
    const rows = visibleRows(14, small, 0);
    expect(rows.first).toBe(0);
    expect(rows.offset).toBe(-14);
  });
});

describe("row-precise positions", () => {
  it("draws from any row of a huge table, which one scroll pixel cannot reach", () => {
    const rows = visibleRowsFrom(5_000_001.5, huge, 0);
    expect(rows.first).toBe(5_000_001);
    expect(rows.offset).toBe(-14);
    expect(topRowAt(scrollTopFor(5_000_001, huge), huge)).toBeCloseTo(5_000_001, 3);
  });

  it("stops at the row that shows the end of the table", () => {
    expect(maxTop(huge)).toBe(huge.total - 25);
    expect(visibleRowsFrom(maxTop(huge), huge, 0).end).toBe(huge.total);
    expect(maxTop({ total: 3, rowHeight: 28, viewport: 500 })).toBe(0);
  });
});

describe("pages", () => {
  it("lists the pages holding a range of rows", () => {
    expect(pagesCovering(0, 30, 100)).toEqual([0]);
    expect(pagesCovering(95, 130, 100)).toEqual([0, 1]);
    expect(pagesCovering(200, 200, 100)).toEqual([]);
    expect(pagesCovering(5_000_010, 5_000_040, 100)).toEqual([50_000]);
  });

  it("drops the least recently used page when full", () => {
    const cache = new PageCache<number[]>(2);
    cache.set(0, [1]);
    cache.set(1, [2]);
    cache.get(0);
    cache.set(2, [3]);
    expect(cache.has(0)).toBe(true);
    expect(cache.has(1)).toBe(false);
    expect(cache.size).toBe(2);
  });

  it("finds a row inside its page and reports rows still loading as undefined", () => {
    const cache = new PageCache<{ rows: string[] }>(4);
    cache.set(1, { rows: ["a", "b"] });
    expect(rowAt(cache, 101, 100)).toBe("b");
    expect(rowAt(cache, 5, 100)).toBeUndefined();
  });
});
