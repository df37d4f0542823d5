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
  /** Each row's position in the revision (what edits and deletions name), when known. */
  positions?: number[] | null;
}

interface Cached {
  rows: unknown[][];
  positions: number[] | null;
}

export type FetchPage = (offset: number, limit: number, signal: AbortSignal) => Promise<Page>;

interface Props {
  /** Changes whenever the rows would differ (revision, sort, filter, search): the cache is dropped. */
  viewKey: string;
  /** Changes when the rows are a different selection or order (sort, filter, search): back to the
   * top. A new revision of the same view keeps the place, as a spreadsheet would. */
  scrollKey?: string;
  fetchPage: FetchPage;
  header: (column: GridColumn, index: number) => ReactNode;
  /** Called with the view's size and columns once the first page arrives. */
  onShape?: (total: number, columns: GridColumn[]) => void;
  onError?: (error: unknown) => void;
  rowHeight?: number;
  headerHeight?: number;
  jumpTo?: { row: number; nonce: number };
  /** Rows selected, by position; clicking a row number toggles it (shift: a range). */
  selected?: ReadonlySet<number>;
  onSelect?: (positions: number[], add: boolean) => void;
  /** Double-click a cell to edit it; Enter sends the text typed. */
  onEdit?: (position: number, column: string, text: string) => void;
}

const CACHE_PAGES = 60;

function sameColumns(a: GridColumn[], b: GridColumn[]): boolean {
  return a.length === b.length && a.every((column, i) => column.name === b[i].name && column.type === b[i].type);
}
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

/** An inline editor for one cell: Enter keeps, Escape or leaving gives up. */
function CellEditor({ value, width, onDone }: { value: unknown; width: number; onDone: (text: string | null) => void }) {
  const [text, setText] = useState(value === null || value === undefined ? "" : String(value));
  return (
    <input
      className="cell-editor"
      style={{ width }}
      autoFocus
      aria-label="New value"
      value={text}
      onChange={(e) => setText(e.target.value)}
      onBlur={() => onDone(null)}
      onKeyDown={(e) => {
        if (e.key === "Enter") onDone(text);
        if (e.key === "Escape") onDone(null);
      }}
    />
  );
}

export function Grid({
  viewKey,
  scrollKey = viewKey,
  fetchPage,
  header,
  onShape,
  onError,
  rowHeight = 28,
  headerHeight = 56,
  jumpTo,
  selected,
  onSelect,
  onEdit,
}: Props) {
  const scroller = useRef<HTMLDivElement>(null);
  const cache = useRef(new PageCache<Cached>(CACHE_PAGES));
  const [editing, setEditing] = useState<{ position: number; column: number } | null>(null);
  const lastClicked = useRef<number | null>(null);
  const visible = useRef({ first: 0, end: 1 });
  const shownScrollKey = useRef(scrollKey);
  const inflight = useRef(new Map<number, AbortController>());
  const [shape, setShape] = useState<{ total: number; columns: GridColumn[] } | null>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [viewport, setViewport] = useState(600);
  const [, redraw] = useReducer((n: number) => n + 1, 0);
  const latest = useRef({ fetchPage, onShape, onError });
  latest.current = { fetchPage, onShape, onError };

  const bodyHeight = Math.max(rowHeight, viewport - headerHeight);
  const geometry = useMemo(() => ({ total: shape?.total ?? 0, rowHeight, viewport: bodyHeight }), [shape?.total, rowHeight, bodyHeight]);
  const rows = visibleRows(scrollTop, geometry);
  visible.current = rows;

  const load = useCallback((page: number) => {
    if (cache.current.has(page) || inflight.current.has(page)) return;
    const controller = new AbortController();
    inflight.current.set(page, controller);
    latest.current
      .fetchPage(page * PAGE_ROWS, PAGE_ROWS, controller.signal)
      .then((reply) => {
        if (controller.signal.aborted) return;
        cache.current.set(page, { rows: reply.rows, positions: reply.positions ?? null });
        setShape((old) =>
          old && old.total === reply.total && sameColumns(old.columns, reply.columns)
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

  // Other rows: forget every page, and fetch the ones in view again (from the top for a new
  // selection or order; in place for a new revision of the same view).
  useLayoutEffect(() => {
    for (const controller of inflight.current.values()) controller.abort();
    inflight.current.clear();
    cache.current.clear();
    setEditing(null);
    if (shownScrollKey.current !== scrollKey) {
      shownScrollKey.current = scrollKey;
      setShape(null);
      setScrollTop(0);
      if (scroller.current) scroller.current.scrollTop = 0;
      load(0);
      return;
    }
    const { first, end } = visible.current;
    pagesCovering(first, Math.max(end, first + 1)).forEach(load);
  }, [viewKey, scrollKey, load]);

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
  const positionAt = (index: number): number | null => {
    const page = cache.current.get(Math.floor(index / PAGE_ROWS));
    return page?.positions ? (page.positions[index % PAGE_ROWS] ?? null) : null;
  };
  for (let index = rows.first; index < rows.end; index += 1) {
    const row = rowAt(cache.current, index);
    const position = positionAt(index);
    const chosen = position !== null && selected?.has(position);
    drawn.push(
      <div
        key={index}
        className={[row ? "grid-row" : "grid-row loading", chosen ? "selected" : ""].join(" ")}
        role="row"
        aria-rowindex={index + 2}
        aria-selected={chosen || undefined}
        style={{ top: (index - rows.first) * rowHeight + rows.offset, height: rowHeight, width: totalWidth }}
      >
        <div
          className={onSelect && position !== null ? "cell rownum selectable" : "cell rownum"}
          style={{ width: NUMBER_COLUMN }}
          title={onSelect && position !== null ? "Click to select the row (shift: a range)" : undefined}
          onClick={(event) => {
            if (!onSelect || position === null) return;
            const from = lastClicked.current;
            if (event.shiftKey && from !== null) {
              const [low, high] = [Math.min(from, index), Math.max(from, index)];
              const range: number[] = [];
              for (let i = low; i <= high; i += 1) {
                const at = positionAt(i);
                if (at !== null) range.push(at);
              }
              onSelect(range, true);
            } else onSelect([position], !chosen);
            lastClicked.current = index;
          }}
        >
          {((position ?? index) + 1).toLocaleString("en-US")}
        </div>
        {row
          ? columns.map((column, c) =>
              editing && editing.position === position && editing.column === c ? (
                <CellEditor
                  key={column.name}
                  value={row[c]}
                  width={widths[c]}
                  onDone={(text) => {
                    setEditing(null);
                    if (text !== null && position !== null) onEdit?.(position, column.name, text);
                  }}
                />
              ) : (
                <div
                  key={column.name}
                  className="cell-wrap"
                  onDoubleClick={() => onEdit && position !== null && setEditing({ position, column: c })}
                >
                  <Cell value={row[c]} type={column.type} width={widths[c]} />
                </div>
              ),
            )
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
