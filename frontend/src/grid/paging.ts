/**
 * The grid's paging and scrolling arithmetic, kept apart from React so it can be tested alone.
 *
 * Browsers cap an element's height (Chromium near 33 million pixels), far below 10 million rows
 * of 28 pixels. So the scrolled area is at most MAX_SCROLL_HEIGHT tall and the scroll position is
 * scaled onto the rows: the scrollbar's middle is the table's middle, whatever its length.
 */

export const PAGE_ROWS = 100;
export const MAX_SCROLL_HEIGHT = 8_000_000;

export interface Geometry {
  total: number;
  rowHeight: number;
  viewport: number;
}

/** Height of the scrolled area for `total` rows. */
export function scrollHeight({ total, rowHeight }: Geometry): number {
  return Math.min(total * rowHeight, MAX_SCROLL_HEIGHT);
}

/** The row (fractional) at the top of the viewport for a scroll position. */
export function topRowAt(scrollTop: number, geometry: Geometry): number {
  const { total, rowHeight, viewport } = geometry;
  const real = total * rowHeight;
  const shown = scrollHeight(geometry);
  if (real <= viewport) return 0;
  const fraction = shown <= viewport ? 0 : Math.min(1, Math.max(0, scrollTop / (shown - viewport)));
  return (fraction * (real - viewport)) / rowHeight;
}

/** The scroll position that puts `row` at the top of the viewport (the inverse of topRowAt). */
export function scrollTopFor(row: number, geometry: Geometry): number {
  const { total, rowHeight, viewport } = geometry;
  const real = total * rowHeight;
  const shown = scrollHeight(geometry);
  if (real <= viewport) return 0;
  const fraction = Math.min(1, Math.max(0, (row * rowHeight) / (real - viewport)));
  return fraction * (shown - viewport);
}

export interface VisibleRows {
  /** First row to draw. */
  first: number;
  /** One past the last row to draw. */
  end: number;
  /** Pixel offset of row `first` from the viewport's top (zero or negative). */
  offset: number;
}

/** The highest row that can be at the top: the last rows then fill the viewport. */
export function maxTop({ total, rowHeight, viewport }: Geometry): number {
  return Math.max(0, total - viewport / rowHeight);
}

/** The rows to draw for a scroll position, with `overscan` extra rows below. */
export function visibleRows(scrollTop: number, geometry: Geometry, overscan = 5): VisibleRows {
  return visibleRowsFrom(topRowAt(scrollTop, geometry), geometry, overscan);
}

/**
 * The rows to draw with row `top` (fractional) at the top. On a table taller than the scroll
 * cap one scroll pixel is more than a row, so the grid keeps this row itself and moves it by
 * whole rows for the wheel and the keys; the scroll position only follows.
 */
export function visibleRowsFrom(top: number, geometry: Geometry, overscan = 5): VisibleRows {
  const first = Math.floor(top);
  const fits = Math.ceil(geometry.viewport / geometry.rowHeight) + 1;
  const end = Math.min(geometry.total, first + fits + overscan);
  return { first, end, offset: -(top - first) * geometry.rowHeight };
}

/** Page numbers holding rows [first, end). */
export function pagesCovering(first: number, end: number, pageRows = PAGE_ROWS): number[] {
  if (end <= first) return [];
  const pages: number[] = [];
  for (let page = Math.floor(first / pageRows); page * pageRows < end; page += 1) pages.push(page);
  return pages;
}

/** Pages kept in memory, the least recently used dropped first. */
export class PageCache<T> {
  private pages = new Map<number, T>();

  constructor(private readonly capacity: number) {}

  get(page: number): T | undefined {
    const value = this.pages.get(page);
    if (value !== undefined) {
      this.pages.delete(page);
      this.pages.set(page, value);
    }
    return value;
  }

  has(page: number): boolean {
    return this.pages.has(page);
  }

  set(page: number, value: T): void {
    this.pages.delete(page);
    this.pages.set(page, value);
    while (this.pages.size > this.capacity) {
      const oldest = this.pages.keys().next().value as number;
      this.pages.delete(oldest);
    }
  }

  clear(): void {
    this.pages.clear();
  }

  get size(): number {
    return this.pages.size;
  }
}

/** The row at `index`, given cached pages; undefined while its page is loading. */
export function rowAt<R>(cache: PageCache<{ rows: R[] }>, index: number, pageRows = PAGE_ROWS): R | undefined {
  const page = cache.get(Math.floor(index / pageRows));
  return page?.rows[index % pageRows];
}
