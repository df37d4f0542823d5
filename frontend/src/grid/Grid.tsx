/** A virtualised grid over the server: only the rows in view are drawn, fetched by page as they come into view. */

import { useCallback, useEffect, useLayoutEffect, useMemo, useReducer, useRef, useState, type ReactNode } from "react";
import { PAGE_ROWS, PageCache, pagesCovering, rowAt, scrollHeight, scrollTopFor, visibleRows } from "./paging";

export interface GridColumn {
  name: string;
  type: string;
}

export interface Page {
  columns: GridColumn[];
  rows: unknown[][];
  total: number;
}

export type FetchPage = (offset: number, limit: number, signal: AbortSignal) => Promise<Page>;

interface Props {
  /** Changes whenever the rows would differ (revision, sort, filter, search): the cache is dropped. */
  viewKey: string;
  fetchPage: FetchPage;
  header: (column: GridColumn, index: number) => ReactNode;
  /** Called with the view's size and columns once the first page arrives. */
  onShape?: (total: number, columns: GridColumn[]) => void;
  onError?: (error: unknown) => void;
  rowHeight?: number;
  headerHeight?: number;
  jumpTo?: { row: number; nonce: number };
}

const CACHE_PAGES = 60;
const NUMBER_COLUMN = 72;

export function columnWidth(type: string): number {
  if (type === "text") return 200;
  if (type === "bool") return 100;
  if (type === "timestamp") return 190;
  return 140;
}

/** How a cell shows: nulls faded, numbers right-aligned, non-finite floats as the server spells them. */
function Cell({ value, type, width }: { value: unknown; type: string; width: number }) {
  if (value === null || value === undefined) {
    return (
      <div className="cell null" style={{ width }}>
        null
      </div>
    );
  }
  const numeric = type === "int" || type === "float";
  const text = typeof value === "boolean" ? (value ? "true" : "false") : String(value);
  return (
    <div className={numeric ? "cell num" : "cell"} style={{ width }} title={text.length > 24 ? text : undefined}>
      {text}
    </div>
  );
}

export function Grid({ viewKey, fetchPage, header, onShape, onError, rowHeight = 28, headerHeight = 56, jumpTo }: Props) {
  const scroller = useRef<HTMLDivElement>(null);
  const cache = useRef(new PageCache<unknown[][]>(CACHE_PAGES));
  const inflight = useRef(new Map<number, AbortController>());
  const [shape, setShape] = useState<{ total: number; columns: GridColumn[] } | null>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [viewport, setViewport] = useState(600);
  const [, redraw] = useReducer((n: number) => n + 1, 0);
  const latest = useRef({ fetchPage, onShape, onError });
  latest.current = { fetchPage, onShape, onError };

  const bodyHeight = Math.max(rowHeight, viewport - headerHeight);
  const geometry = useMemo(
    () => ({ total: shape?.total ?? 0, rowHeight, viewport: bodyHeight }),
    [shape?.total, rowHeight, bodyHeight],
  );
  const rows = visibleRows(scrollTop, geometry);

  const load = useCallback((page: number) => {
    if (cache.current.has(page) || inflight.current.has(page)) return;
    const controller = new AbortController();
    inflight.current.set(page, controller);
    latest.current
      .fetchPage(page * PAGE_ROWS, PAGE_ROWS, controller.signal)
      .then((reply) => {
        if (controller.signal.aborted) return;
        cache.current.set(page, reply.rows);
        setShape((old) =>
          old && old.total === reply.total && old.columns.length === reply.columns.length
            ? old
            : { total: reply.total, columns: reply.columns },
        );
        redraw();
      })
      .catch((error: unknown) => {
        if (!controller.signal.aborted) latest.current.onError?.(error);
      })
      .finally(() => {
        if (inflight.current.get(page) === controller) inflight.current.delete(page);
      });
  }, []);

  // A new view: forget every page and start from the top.
  useLayoutEffect(() => {
    for (const controller of inflight.current.values()) controller.abort();
    inflight.current.clear();
    cache.current.clear();
    setShape(null);
    setScrollTop(0);
    if (scroller.current) scroller.current.scrollTop = 0;
    load(0);
  }, [viewKey, load]);

  useEffect(() => {
    if (shape) latest.current.onShape?.(shape.total, shape.columns);
  }, [shape]);

  // Fetch the pages in view; give up on pages scrolled past before they arrived.
  useEffect(() => {
    if (!shape) return;
    const wanted = new Set(pagesCovering(rows.first, rows.end));
    for (const [page, controller] of inflight.current) {
      if (!wanted.has(page)) {
        controller.abort();
        inflight.current.delete(page);
      }
    }
    wanted.forEach(load);
  }, [rows.first, rows.end, shape, load]);

  useLayoutEffect(() => {
    const element = scroller.current;
    if (!element) return;
    const observer = new ResizeObserver(() => setViewport(element.clientHeight));
    observer.observe(element);
    setViewport(element.clientHeight);
    return () => observer.disconnect();
  }, []);

  useEffect(() => {
    if (!jumpTo || !scroller.current) return;
    scroller.current.scrollTop = scrollTopFor(jumpTo.row, geometry);
  }, [jumpTo, geometry]);

  const columns = shape?.columns ?? [];
  const widths = columns.map((column) => columnWidth(column.type));
  const totalWidth = NUMBER_COLUMN + widths.reduce((sum, width) => sum + width, 0);
  const drawn: ReactNode[] = [];
  for (let index = rows.first; index < rows.end; index += 1) {
    const row = rowAt(cache.current, index);
    drawn.push(
      <div
        key={index}
        className={row ? "grid-row" : "grid-row loading"}
        role="row"
        aria-rowindex={index + 2}
        style={{ top: (index - rows.first) * rowHeight + rows.offset, height: rowHeight, width: totalWidth }}
      >
        <div className="cell rownum" style={{ width: NUMBER_COLUMN }}>
          {(index + 1).toLocaleString("en-US")}
        </div>
        {row
          ? columns.map((column, c) => <Cell key={column.name} value={row[c]} type={column.type} width={widths[c]} />)
          : null}
      </div>,
    );
  }

  return (
    <div
      className="grid"
      ref={scroller}
      role="grid"
      aria-rowcount={shape ? shape.total + 1 : -1}
      aria-busy={!shape}
      onScroll={(event) => setScrollTop(event.currentTarget.scrollTop)}
    >
      <div style={{ height: headerHeight + scrollHeight(geometry), width: totalWidth, position: "relative" }}>
        <div className="grid-head" role="row" style={{ height: headerHeight, width: totalWidth }}>
          <div className="head-cell rownum" style={{ width: NUMBER_COLUMN }}>
            #
          </div>
          {columns.map((column, c) => (
            <div key={column.name} className="head-cell" role="columnheader" style={{ width: widths[c] }}>
              {header(column, c)}
            </div>
          ))}
        </div>
        <div className="grid-body" style={{ top: headerHeight, height: bodyHeight, width: totalWidth }}>
          {drawn}
        </div>
      </div>
    </div>
  );
}
