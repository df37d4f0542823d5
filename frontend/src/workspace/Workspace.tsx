import { useCallback, useMemo, useRef, useState } from "react";
import { Link, useParams } from "react-router-dom";
import { api, unwrap, type Schemas } from "../api/client";
import { useLiveEvents } from "../api/events";
import { ErrorNote, Loading, formatBytes, formatCount, formatWhen } from "../components/ui";
import { Grid, type FetchPage } from "../grid/Grid";
import { EMPTY_VIEW, cycleSort, describeFilter, viewParams, type View } from "../grid/view";
import { useLoad } from "../load";
import { FilterForm, FunnelIcon, ProfilePanel, Sparkline } from "./columns";
import { HistoryPanel } from "./HistoryPanel";
import { OperationsPanel } from "./OperationsPanel";
import { RunBar } from "./RunBar";
import { useRunWatch } from "./runWatch";

type Profile = Schemas["ProfilePublic"];
type Side = "operations" | "history" | "profile" | null;

const EXPORTS = [
  { format: "csv", label: "CSV" },
  { format: "parquet", label: "Parquet" },
  { format: "xlsx", label: "Excel" },
  { format: "json", label: "JSON" },
];

export function Workspace() {
  const { datasetId = "" } = useParams();
  const dataset = useLoad(
    () => unwrap(api.GET("/api/v1/datasets/{dataset_id}", { params: { path: { dataset_id: datasetId } } })),
    [datasetId],
  );
  const head = dataset.data?.head_revision ?? null;
  const revisionId = head?.id ?? "";
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
  const [exportOpen, setExportOpen] = useState(false);
  const searchTimer = useRef<number | undefined>(undefined);

  useLiveEvents(["dataset.revision", "run.updated"], (event) => {
    const mine = event.id === datasetId || event.type === "connection.restored";
    if (event.type === "dataset.revision" ? mine : event.type === "connection.restored") dataset.reload();
    // A step ends (or starts) as a run: the history shows both.
    if (mine || event.type === "run.updated") history.reload();
  });

  const profiles = useMemo(() => new Map((profile.data?.columns ?? []).map((c) => [c.name, c])), [profile.data]);
  const params = viewParams(view);
  const viewKey = `${revisionId}|${params.sort ?? ""}|${params.filter ?? ""}|${params.q ?? ""}`;

  const fetchPage: FetchPage = useCallback(
    (offset, limit, signal) =>
      unwrap(
        api.GET("/api/v1/datasets/{dataset_id}/revisions/{revision_id}/rows", {
          params: { path: { dataset_id: datasetId, revision_id: revisionId }, query: { offset, limit, ...viewParams(view) } },
          signal,
        }),
      ).then((page) => {
        setGridError(undefined);
        return page;
      }),
    [datasetId, revisionId, view],
  );

  const onShape = useCallback((total: number) => setShown(total), []);

  if (dataset.loading && !dataset.data) return <Loading what="the dataset" />;
  if (dataset.error && !dataset.data)
    return (
      <main className="page">
        <ErrorNote error={dataset.error} onRetry={dataset.reload} />
        <Link to="/datasets">Back to datasets</Link>
      </main>
    );
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
            type="search"
            className="search"
            placeholder="Search text columns"
            aria-label="Search rows"
            value={search}
            onChange={(e) => {
              const text = e.target.value;
              setSearch(text);
              window.clearTimeout(searchTimer.current);
              searchTimer.current = window.setTimeout(() => setView((v) => ({ ...v, q: text })), 300);
            }}
          />
          <button type="button" className={side === "operations" ? "primary" : ""} onClick={() => setSide(side === "operations" ? null : "operations")}>
            Clean
          </button>
          <button type="button" aria-pressed={side === "history"} onClick={() => setSide(side === "history" ? null : "history")}>
            History
          </button>
          <div className="menu">
            <button type="button" aria-haspopup="menu" aria-expanded={exportOpen} onClick={() => setExportOpen(!exportOpen)}>
              Export ▾
            </button>
            {exportOpen && (
              <div className="menu-list right" role="menu">
                <div className="menu-caption">{view.filter.length || view.q ? "The rows shown, in this order" : "All rows, in this order"}</div>
                {EXPORTS.map(({ format, label }) => (
                  <a
                    key={format}
                    role="menuitem"
                    href={`/api/v1/datasets/${datasetId}/export?format=${format}&${exportQuery.toString()}`}
                    onClick={() => setExportOpen(false)}
                    download
                  >
                    {label}
                  </a>
                ))}
              </div>
            )}
          </div>
        </div>
      </div>
      {(view.filter.length > 0 || view.sort.length > 0 || view.q) && (
        <div className="chips" aria-label="Current view">
          {view.sort.map((key) => (
            <span className="chip" key={`sort-${key.column}`}>
              sorted by {key.column} {key.desc ? "↓" : "↑"}
              <button type="button" aria-label={`Stop sorting by ${key.column}`} onClick={() => setView({ ...view, sort: view.sort.filter((k) => k !== key) })}>
                ×
              </button>
            </span>
          ))}
          {view.filter.map((filter, i) => (
            <span className="chip filter" key={`filter-${i}`}>
              {describeFilter(filter)}
              <button type="button" aria-label={`Remove filter ${describeFilter(filter)}`} onClick={() => setView({ ...view, filter: view.filter.filter((_, j) => j !== i) })}>
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
              setView(EMPTY_VIEW);
            }}
          >
            Clear all
          </button>
        </div>
      )}
      {watched && <RunBar watched={watched} onDismiss={dismiss} />}
      <ErrorNote error={gridError} />
      <div className="workspace-body">
        {head ? (
          <Grid
            viewKey={viewKey}
            fetchPage={fetchPage}
            onShape={onShape}
            onError={setGridError}
            header={(column) => {
              const sort = view.sort.find((key) => key.column === column.name);
              return (
                <div className="head">
                  <div className="head-top">
                    <button
                      type="button"
                      className="head-name"
                      title={`Sort by ${column.name} (shift-click to add to the sort)`}
                      onClick={(event) => setView({ ...view, sort: cycleSort(view.sort, column.name, event.shiftKey) })}
                    >
                      {column.name}
                      {sort && <span className="sort-mark">{sort.desc ? " ↓" : " ↑"}</span>}
                    </button>
                    <button type="button" className="icon small" aria-label={`Filter ${column.name}`} title="Filter" onClick={() => setFiltering(column.name)}>
                      <FunnelIcon />
                    </button>
                  </div>
                  <button type="button" className="head-bottom" title="Show the column's profile" onClick={() => {
                      setSelected(column.name);
                      setSide("profile");
                    }}>
                    <span className={`badge type-${column.type}`}>{column.type}</span>
                    <Sparkline profile={profiles.get(column.name)} />
                  </button>
                  {filtering === column.name && (
                    <FilterForm
                      column={column}
                      onClose={() => setFiltering(undefined)}
                      onApply={(op, value) => {
                        setFiltering(undefined);
                        setView({ ...view, filter: [...view.filter, { column: column.name, op, value }] });
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
            onClose={() => setSide(null)}
          />
        )}
      </div>
    </main>
  );
}
