/** A virtualised grid over the server: only the rows in view are drawn, fetched by page as they come into view. */

import { useCallback, useEffect, useLayoutEffect, useMemo, useReducer, useRef, useState, type KeyboardEvent, type ReactNode } from "react";
import { formatCount } from "../components/ui";
import { PAGE_ROWS, PageCache, maxTop, pagesCovering, rowAt, scrollHeight, scrollTopFor, topRowAt, visibleRowsFrom } from "./paging";

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
  // The row at the top (fractional): the scroll position follows it, not the other way round,
  // so that on ten million rows the wheel and the keys still move by whole rows.
  const [top, setTop] = useState(0);
  const [viewport, setViewport] = useState(600);
  const [, redraw] = useReducer((n: number) => n + 1, 0);
  const latest = useRef({ fetchPage, onShape, onError });
  latest.current = { fetchPage, onShape, onError };

  const bodyHeight = Math.max(rowHeight, viewport - headerHeight);
  const geometry = useMemo(() => ({ total: shape?.total ?? 0, rowHeight, viewport: bodyHeight }), [shape?.total, rowHeight, bodyHeight]);
  const rows = visibleRowsFrom(top, geometry);
  const topRef = useRef(top);
  topRef.current = top;
  const geometryRef = useRef(geometry);
  geometryRef.current = geometry;

  /** Put `row` at the top, and the scrollbar where it belongs. */
  const moveTo = useCallback((row: number) => {
    const at = Math.min(Math.max(0, row), maxTop(geometryRef.current));
    topRef.current = at; // now: the scroll event this causes may come before the next render
    setTop(at);
    const element = scroller.current;
    if (element) element.scrollTop = scrollTopFor(at, geometryRef.current);
  }, []);
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
      setTop(0);
      lastClicked.current = null;
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

  // Fewer rows than before (a new revision, a narrower view): keep the top within the table.
  useEffect(() => {
    if (topRef.current > maxTop(geometry)) moveTo(maxTop(geometry));
  }, [geometry, moveTo]);

  // A jump happens once, when asked (its nonce), not again on every resize.
  useEffect(() => {
    if (jumpTo) moveTo(jumpTo.row);
  }, [jumpTo?.nonce, moveTo]); // eslint-disable-line react-hooks/exhaustive-deps

  // Above the scroll cap one pixel is more than a row: move by rows for the wheel instead.
  useEffect(() => {
    const element = scroller.current;
    if (!element) return;
    const onWheel = (event: WheelEvent) => {
      const { total, rowHeight, viewport } = geometryRef.current;
      if (total * rowHeight <= scrollHeight(geometryRef.current) || Math.abs(event.deltaY) < Math.abs(event.deltaX)) return;
      event.preventDefault();
      const pixels = event.deltaMode === 1 ? event.deltaY * rowHeight : event.deltaMode === 2 ? event.deltaY * viewport : event.deltaY;
      moveTo(topRef.current + pixels / rowHeight);
    };
    element.addEventListener("wheel", onWheel, { passive: false });
    return () => element.removeEventListener("wheel", onWheel);
  }, [moveTo]);

  function onKey(event: KeyboardEvent<HTMLDivElement>) {
    if (event.target !== event.currentTarget) return; // typing in a cell editor or a header
    const page = Math.max(1, Math.floor(bodyHeight / rowHeight) - 1);
    const steps: Record<string, number> = { ArrowDown: 1, ArrowUp: -1, PageDown: page, PageUp: -page };
    if (event.key in steps) moveTo(Math.round(topRef.current) + steps[event.key]);
    else if (event.key === "Home") moveTo(0);
    else if (event.key === "End") moveTo(Number.MAX_SAFE_INTEGER);
    else return;
    event.preventDefault();
  }

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
                if (at === null) {
                  // Rows scrolled past long ago are no longer loaded: never select part of a range.
                  latest.current.onError?.(
                    new Error("That range is too long to select from the rows loaded: select fewer rows, or filter them first."),
                  );
                  return;
                }
                range.push(at);
              }
              onSelect(range, true);
            } else onSelect([position], !chosen);
            lastClicked.current = index;
          }}
        >
          {formatCount((position ?? index) + 1)}
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
      tabIndex={0}
      onKeyDown={onKey}
      onScroll={(event) => {
        // The scrollbar dragged (or the browser scrolling): follow it, unless this is the
        // position moveTo just set, which stands for a row more precisely than a pixel can.
        const position = event.currentTarget.scrollTop;
        if (Math.abs(scrollTopFor(topRef.current, geometry) - position) > 1) setTop(topRowAt(position, geometry));
      }}
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
