import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { Link, useParams } from "react-router-dom";
import { api, unwrap, type Schemas } from "../api/client";
import { useLiveEvents } from "../api/events";
import { Menu } from "../components/Menu";
import { ErrorNote, LoadFailed, Loading, formatBytes, formatCount, formatWhen } from "../components/ui";
import { Grid, type FetchPage } from "../grid/Grid";
import { EMPTY_VIEW, cycleSort, describeFilter, viewParams, type View } from "../grid/view";
import { useLoad } from "../load";
import { ChartPanel } from "../charts/ChartPanel";
import { ClusterDialog } from "./ClusterDialog";
import { CompareDialog } from "./CompareDialog";
import { FilterForm, FunnelIcon, ProfilePanel, Sparkline } from "./columns";
import { FacetsPanel } from "./FacetsPanel";
import { HistoryPanel } from "./HistoryPanel";
import { OperationsPanel } from "./OperationsPanel";
import { RunBar } from "./RunBar";
import { useRunWatch } from "./runWatch";

type Profile = Schemas["ProfilePublic"];
type Side = "operations" | "history" | "profile" | "facets" | "chart" | null;
type ReadyKind = "nulls" | "duplicates" | "outliers";
interface Ready {
  kind: ReadyKind;
  column?: string;
}

const READY_LABELS: Record<ReadyKind, string> = {
  nulls: "rows with an empty value",
  duplicates: "duplicate rows",
  outliers: "outliers",
};

const EXPORTS = [
  { format: "csv", label: "CSV" },
  { format: "parquet", label: "Parquet" },
  { format: "xlsx", label: "Excel" },
  { format: "json", label: "JSON" },
];

/** The route: a workspace of its own per dataset, so that nothing of one (a view, a revision
 * opened, a selection) carries over to the next. */
export function WorkspacePage() {
  const { datasetId = "" } = useParams();
  return <Workspace key={datasetId} datasetId={datasetId} />;
}

function Workspace({ datasetId }: { datasetId: string }) {
  const dataset = useLoad(
    () => unwrap(api.GET("/api/v1/datasets/{dataset_id}", { params: { path: { dataset_id: datasetId } } })),
    [datasetId],
  );
  const head = dataset.data?.head_revision ?? null;
  const [pinned, setPinned] = useState<{ id: string; number: number | null } | null>(null);
  // An older revision opened from the history is shown read-only; the head otherwise.
  const revisionId = pinned?.id ?? head?.id ?? "";
  const profile = useLoad<Profile | null>(
    () =>
      revisionId
        ? unwrap(
            api.GET("/api/v1/datasets/{dataset_id}/revisions/{revision_id}/profile", {
              params: { path: { dataset_id: datasetId, revision_id: revisionId } },
            }),
          )
        : Promise.resolve(null),
    [datasetId, revisionId],
  );
  const [view, setView] = useState<View>(EMPTY_VIEW);
  const [search, setSearch] = useState("");
  const [filtering, setFiltering] = useState<string>();
  const [selected, setSelected] = useState<string>();
  const [side, setSide] = useState<Side>(null);
  const { watched, watch, dismiss } = useRunWatch();
  const history = useLoad(
    () => unwrap(api.GET("/api/v1/datasets/{dataset_id}/history", { params: { path: { dataset_id: datasetId } } })),
    [datasetId],
  );
  const [shown, setShown] = useState<number>();
  const [gridError, setGridError] = useState<unknown>();
  const [ready, setReady] = useState<Ready | null>(null);
  const [rowsChosen, setRowsChosen] = useState<ReadonlySet<number>>(new Set());
  const [clustering, setClustering] = useState(false);
  const [jump, setJump] = useState<{ row: number; nonce: number }>();
  // Selected rows are positions in the revision shown: another revision makes them other rows.
  useEffect(() => setRowsChosen(new Set()), [revisionId]);
  const [comparing, setComparing] = useState<{ id: string; number: number | null } | null>(null);
  const searchTimer = useRef<number | undefined>(undefined);

  useLiveEvents(["dataset.revision", "run.updated"], (event) => {
    const mine = event.id === datasetId || event.type === "connection.restored";
    if (event.type === "dataset.revision" ? mine : event.type === "connection.restored") dataset.reload();
    // A step ends (or starts) as a run: the history shows both.
    if (mine || event.type === "run.updated") history.reloadSoon();
  });

  const profiles = useMemo(() => new Map((profile.data?.columns ?? []).map((c) => [c.name, c])), [profile.data]);
  const params = viewParams(view);
  const readOnly = pinned !== null;
  const readyKey = ready ? `${ready.kind}:${ready.column ?? ""}` : "";
  const scrollKey = `${params.sort ?? ""}|${params.filter ?? ""}|${params.q ?? ""}|${readyKey}`;
  const viewKey = `${revisionId}|${scrollKey}`;

  const fetchPage: FetchPage = useCallback(
    (offset, limit, signal) => {
      const call = ready
        ? unwrap(
            api.GET("/api/v1/datasets/{dataset_id}/views/{kind}", {
              params: { path: { dataset_id: datasetId, kind: ready.kind }, query: { offset, limit, column: ready.column } },
              signal,
            }),
          )
        : unwrap(
            api.GET("/api/v1/datasets/{dataset_id}/revisions/{revision_id}/rows", {
              params: { path: { dataset_id: datasetId, revision_id: revisionId }, query: { offset, limit, ...viewParams(view) } },
              signal,
            }),
          );
      return call.then((page) => {
        setGridError(undefined);
        return page;
      });
    },
    [datasetId, revisionId, view, ready],
  );

  /** Queue an operation on the head the grid shows; its run is followed in the run bar. */
  const apply = useCallback(
    async (op: string, params: Record<string, unknown>, label: string) => {
      if (!head) return;
      try {
        const reply = await unwrap(
          api.POST("/api/v1/datasets/{dataset_id}/operations", {
            params: { path: { dataset_id: datasetId } },
            body: { op, params, base_revision: head.id },
          }),
        );
        watch(reply.run_id, label);
        return true;
      } catch (reason) {
        setGridError(reason);
        return false;
      }
    },
    [datasetId, head, watch],
  );

  const changeView = useCallback((next: View) => {
    setReady(null);
    setView(next);
  }, []);

  const onShape = useCallback((total: number) => setShown(total), []);

  if (dataset.loading && !dataset.data) return <Loading what="the dataset" />;
  if (dataset.error && !dataset.data)
    return <LoadFailed error={dataset.error} onRetry={dataset.reload} back="/datasets" label="datasets" />;
  const data = dataset.data!;
  const exportQuery = new URLSearchParams({ revision: revisionId });
  for (const [key, value] of Object.entries(params)) if (value) exportQuery.set(key, value);

  return (
    <main className="workspace">
      <div className="workspace-head">
        <div>
          <div className="crumbs">
            <Link to="/datasets">Datasets</Link> /
          </div>
          <h1>{data.name}</h1>
          <div className="muted small">
            {head
              ? `${formatCount(head.row_count)} rows · ${head.columns.length} columns · ${formatBytes(head.size_bytes)} · revision ${head.number} · changed ${formatWhen(data.updated_at)} · owner ${data.owner}`
              : "No revision yet."}
          </div>
        </div>
        <div className="toolbar">
          <input
            type="number"
            className="goto"
            min={1}
            placeholder="Go to row"
            aria-label="Go to row"
            onKeyDown={(event) => {
              const row = Number(event.currentTarget.value);
              if (event.key === "Enter" && Number.isInteger(row) && row >= 1) setJump({ row: row - 1, nonce: Date.now() });
            }}
          />
          <input
            type="search"
            className="search"
            placeholder="Search text columns"
            aria-label="Search rows"
            value={search}
            onChange={(e) => {
              const text = e.target.value;
              setSearch(text);
              window.clearTimeout(searchTimer.current);
              searchTimer.current = window.setTimeout(() => {
                setReady(null);
                setView((v) => ({ ...v, q: text }));
              }, 300);
            }}
          />
          {!readOnly && (
            <>
              <button type="button" aria-pressed={side === "facets"} onClick={() => setSide(side === "facets" ? null : "facets")}>
                Facets
              </button>
              <Menu label="Views ▾">
                {(close) => (
                  <>
                    <div className="menu-caption">Show only…</div>
                    {(["nulls", "duplicates"] as ReadyKind[]).map((kind) => (
                      <button
                        key={kind}
                        type="button"
                        role="menuitem"
                        onClick={() => {
                          close();
                          setReady({ kind });
                        }}
                      >
                        {READY_LABELS[kind]}
                      </button>
                    ))}
                    {(head?.columns ?? [])
                      .filter((c) => c.type === "int" || c.type === "float")
                      .map((c) => (
                        <button
                          key={c.name}
                          type="button"
                          role="menuitem"
                          onClick={() => {
                            close();
                            setReady({ kind: "outliers", column: c.name });
                          }}
                        >
                          outliers in {c.name}
                        </button>
                      ))}
                  </>
                )}
              </Menu>
              <button type="button" aria-pressed={side === "chart"} onClick={() => setSide(side === "chart" ? null : "chart")}>
                Chart
              </button>
              <button type="button" onClick={() => setClustering(true)}>
                Cluster
              </button>
              <button
                type="button"
                className={side === "operations" ? "primary" : ""}
                onClick={() => setSide(side === "operations" ? null : "operations")}
              >
                Clean
              </button>
            </>
          )}
          <button type="button" aria-pressed={side === "history"} onClick={() => setSide(side === "history" ? null : "history")}>
            History
          </button>
          <Menu label="Export ▾">
            {(close) => (
              <>
                <div className="menu-caption">
                  {view.filter.length || view.q ? "The rows shown, in this order" : "All rows, in this order"}
                </div>
                {EXPORTS.map(({ format, label }) => (
                  <a
                    key={format}
                    role="menuitem"
                    href={`/api/v1/datasets/${datasetId}/export?format=${format}&${exportQuery.toString()}`}
                    onClick={close}
                    download
                  >
                    {label}
                  </a>
                ))}
              </>
            )}
          </Menu>
        </div>
      </div>
      {(view.filter.length > 0 || view.sort.length > 0 || view.q) && (
        <div className="chips" aria-label="Current view">
          {view.sort.map((key) => (
            <span className="chip" key={`sort-${key.column}`}>
              sorted by {key.column} {key.desc ? "↓" : "↑"}
              <button
                type="button"
                aria-label={`Stop sorting by ${key.column}`}
                onClick={() => changeView({ ...view, sort: view.sort.filter((k) => k !== key) })}
              >
                ×
              </button>
            </span>
          ))}
          {view.filter.map((filter, i) => (
            <span className="chip filter" key={`filter-${i}`}>
              {describeFilter(filter)}
              <button
                type="button"
                aria-label={`Remove filter ${describeFilter(filter)}`}
                onClick={() => changeView({ ...view, filter: view.filter.filter((_, j) => j !== i) })}
              >
                ×
              </button>
            </span>
          ))}
          {shown !== undefined && head && (
            <span className="muted small">
              {formatCount(shown)} of {formatCount(head.row_count)} rows
            </span>
          )}
          <button
            type="button"
            className="link"
            onClick={() => {
              setSearch("");
              changeView(EMPTY_VIEW);
            }}
          >
            Clear all
          </button>
        </div>
      )}
      {pinned && (
        <div className="pinned-bar" role="status">
          Viewing revision {pinned.number}, read-only.
          <button type="button" className="link" onClick={() => setPinned(null)}>
            Back to the current revision
          </button>
        </div>
      )}
      {ready && (
        <div className="chips" aria-label="Ready view">
          <span className="chip filter">
            showing {READY_LABELS[ready.kind]}
            {ready.column ? ` in ${ready.column}` : ""}
            <button type="button" aria-label="Back to every row" onClick={() => setReady(null)}>
              ×
            </button>
          </span>
          {shown !== undefined && <span className="muted small">{formatCount(shown)} rows</span>}
        </div>
      )}
      {rowsChosen.size > 0 && (
        <div className="selection-bar" role="region" aria-label="Selected rows">
          <strong>{formatCount(rowsChosen.size)} selected</strong>
          <button
            type="button"
            className="danger"
            onClick={() =>
              void apply("delete-rows", { rows: [...rowsChosen].sort((a, b) => a - b) }, `Delete ${rowsChosen.size} rows`).then(
                (started) => started && setRowsChosen(new Set()),
              )
            }
          >
            Delete {rowsChosen.size === 1 ? "row" : "rows"}
          </button>
          <button type="button" className="link" onClick={() => setRowsChosen(new Set())}>
            Clear selection
          </button>
        </div>
      )}
      {watched && <RunBar watched={watched} onDismiss={dismiss} />}
      <ErrorNote error={gridError} />
      <div className="workspace-body">
        {head ? (
          <Grid
            viewKey={viewKey}
            scrollKey={scrollKey}
            jumpTo={jump}
            fetchPage={fetchPage}
            onShape={onShape}
            onError={setGridError}
            selected={rowsChosen}
            onSelect={
              readOnly
                ? undefined
                : (positions, add) =>
                    setRowsChosen((old) => {
                      const next = new Set(old);
                      for (const position of positions) {
                        if (add) next.add(position);
                        else next.delete(position);
                      }
                      return next;
                    })
            }
            onEdit={
              readOnly
                ? undefined
                : (position, column, text) => {
                    const type = head.columns.find((c) => c.name === column)?.type;
                    const value = text === "" && type !== "text" ? null : text;
                    void apply("edit-cell", { row: position, column, value }, `Edit ${column} in row ${position + 1}`);
                  }
            }
            header={(column) => {
              const sort = view.sort.find((key) => key.column === column.name);
              return (
                <div className="head">
                  <div className="head-top">
                    <button
                      type="button"
                      className="head-name"
                      title={`Sort by ${column.name} (shift-click to add to the sort)`}
                      onClick={(event) => changeView({ ...view, sort: cycleSort(view.sort, column.name, event.shiftKey) })}
                    >
                      {column.name}
                      {sort && <span className="sort-mark">{sort.desc ? " ↓" : " ↑"}</span>}
                    </button>
                    <button
                      type="button"
                      className="icon small"
                      aria-label={`Filter ${column.name}`}
                      title="Filter"
                      onClick={() => setFiltering(column.name)}
                    >
                      <FunnelIcon />
                    </button>
                  </div>
                  <button
                    type="button"
                    className="head-bottom"
                    title="Show the column's profile"
                    onClick={() => {
                      setSelected(column.name);
                      setSide("profile");
                    }}
                  >
                    <span className={`badge type-${column.type}`}>{column.type}</span>
                    <Sparkline profile={profiles.get(column.name)} />
                  </button>
                  {filtering === column.name && (
                    <FilterForm
                      column={column}
                      onClose={() => setFiltering(undefined)}
                      onApply={(op, value) => {
                        setFiltering(undefined);
                        changeView({ ...view, filter: [...view.filter, { column: column.name, op, value }] });
                      }}
                    />
                  )}
                </div>
              );
            }}
          />
        ) : (
          <div className="state empty">This dataset has no revision yet.</div>
        )}
        {side === "profile" && selected && profiles.get(selected) && (
          <ProfilePanel profile={profiles.get(selected)!} onClose={() => setSide(null)} />
        )}
        {side === "chart" && head && (
          <ChartPanel
            datasetId={datasetId}
            revisionId={revisionId}
            datasetName={data.name}
            columns={head.columns}
            view={view}
            initialColumn={selected}
            onClose={() => setSide(null)}
          />
        )}
        {side === "facets" && head && (
          <FacetsPanel
            datasetId={datasetId}
            revisionId={revisionId}
            columns={head.columns}
            view={view}
            initialColumn={selected}
            onFilter={(filter) => changeView({ ...view, filter: [...view.filter, filter] })}
            onClose={() => setSide(null)}
          />
        )}
        {side === "operations" && head && (
          <OperationsPanel
            datasetId={datasetId}
            baseRevision={head.id}
            columns={head.columns}
            selectedColumn={selected}
            busy={Boolean(history.data?.running)}
            onStarted={watch}
            onConflict={dataset.reload}
            onClose={() => setSide(null)}
          />
        )}
        {side === "history" && (
          <HistoryPanel
            datasetId={datasetId}
            datasetName={data.name}
            history={history}
            onChanged={() => {
              dataset.reload();
              history.reload();
            }}
            onStarted={watch}
            onView={(revision) => setPinned(revision.id === head?.id ? null : revision)}
            onCompare={setComparing}
            onClose={() => setSide(null)}
          />
        )}
      </div>
      {comparing && head && (
        <CompareDialog
          datasetId={datasetId}
          from={comparing}
          to={pinned ?? { id: head.id, number: head.number }}
          onClose={() => setComparing(null)}
        />
      )}
      {clustering && head && (
        <ClusterDialog
          datasetId={datasetId}
          baseRevision={head.id}
          columns={head.columns}
          initialColumn={selected}
          onStarted={watch}
          onClose={() => setClustering(false)}
        />
      )}
    </main>
  );
}
