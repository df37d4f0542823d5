import { useCallback, useMemo, useRef, useState, type FormEvent } from "react";
import { Link, useParams } from "react-router-dom";
import { api, unwrap, type Schemas } from "../api/client";
import { useLiveEvents } from "../api/events";
import { ErrorNote, Loading, formatBytes, formatCount, formatWhen } from "../components/ui";
import { Grid, type FetchPage, type GridColumn } from "../grid/Grid";
import {
  EMPTY_VIEW,
  OP_LABELS,
  cycleSort,
  describeFilter,
  opsFor,
  parseFilterValue,
  takesValue,
  viewParams,
  type FilterOp,
  type View,
} from "../grid/view";
import { useLoad } from "../load";

type Profile = Schemas["ProfilePublic"];
type ColumnProfile = Schemas["ColumnProfile"];

const EXPORTS = [
  { format: "csv", label: "CSV" },
  { format: "parquet", label: "Parquet" },
  { format: "xlsx", label: "Excel" },
  { format: "json", label: "JSON" },
];

/** Bars of the column's histogram or top values, drawn small in its header. */
function Sparkline({ profile }: { profile?: ColumnProfile }) {
  const counts = profile?.histogram?.counts ?? profile?.top?.map((top) => top.count) ?? [];
  if (counts.length === 0) return <svg className="spark" aria-hidden />;
  const max = Math.max(...counts, 1);
  const width = 100 / counts.length;
  return (
    <svg className="spark" viewBox="0 0 100 16" preserveAspectRatio="none" aria-hidden>
      {counts.map((count, i) => {
        const height = count === 0 ? 0 : Math.max(1, (count / max) * 16);
        return <rect key={i} x={i * width + 0.5} width={Math.max(width - 1, 0.5)} y={16 - height} height={height} />;
      })}
    </svg>
  );
}

function FunnelIcon() {
  return (
    <svg width="12" height="12" viewBox="0 0 16 16" aria-hidden>
      <path d="M1.5 2h13l-5 6.2V14l-3-1.6V8.2z" fill="currentColor" />
    </svg>
  );
}

/** Statistics read better as grouped numbers than in exponent notation. */
function formatStat(value: number): string {
  return value.toLocaleString("en-US", { maximumSignificantDigits: 6 });
}

function FilterForm({ column, onApply, onClose }: { column: GridColumn; onApply: (op: FilterOp, value: unknown) => void; onClose: () => void }) {
  const ops = opsFor(column.type);
  const [op, setOp] = useState<FilterOp>(ops[0]);
  const [text, setText] = useState("");
  function submit(event: FormEvent) {
    event.preventDefault();
    onApply(op, takesValue(op) ? parseFilterValue(op, column.type, text) : undefined);
  }
  return (
    <form className="popover" onSubmit={submit} aria-label={`Filter ${column.name}`}>
      <div className="popover-title">Show rows where {column.name}</div>
      <select value={op} onChange={(e) => setOp(e.target.value as FilterOp)} aria-label="Condition">
        {ops.map((choice) => (
          <option key={choice} value={choice}>
            {OP_LABELS[choice]}
          </option>
        ))}
      </select>
      {takesValue(op) &&
        (column.type === "bool" ? (
          <select value={text} onChange={(e) => setText(e.target.value)} aria-label="Value">
            <option value="true">true</option>
            <option value="false">false</option>
          </select>
        ) : (
          <input
            autoFocus
            value={text}
            onChange={(e) => setText(e.target.value)}
            aria-label="Value"
            placeholder={op === "in" ? "a, b, c" : op === "between" ? "low and high" : "value"}
          />
        ))}
      <div className="actions">
        <button type="button" onClick={onClose}>
          Cancel
        </button>
        <button type="submit" className="primary">
          Filter
        </button>
      </div>
    </form>
  );
}

function ProfilePanel({ profile, onClose }: { profile: ColumnProfile; onClose: () => void }) {
  const rows: [string, string | number | null | undefined][] = [
    ["Type", profile.type],
    ["Values", formatCount(profile.count)],
    ["Empty (null)", formatCount(profile.nulls)],
    ["Distinct", `${profile.distinct_exact ? "" : "≈ "}${formatCount(profile.distinct)}`],
  ];
  if (profile.min !== null && profile.min !== undefined) rows.push(["Minimum", String(profile.min)]);
  if (profile.max !== null && profile.max !== undefined) rows.push(["Maximum", String(profile.max)]);
  if (profile.mean !== null && profile.mean !== undefined) rows.push(["Mean", formatStat(profile.mean)]);
  if (profile.std !== null && profile.std !== undefined) rows.push(["Std. deviation", formatStat(profile.std)]);
  if (profile.non_finite) rows.push(["NaN or infinite", formatCount(profile.non_finite)]);
  if (profile.min_length !== null && profile.min_length !== undefined) rows.push(["Length", `${profile.min_length} to ${profile.max_length}`]);
  if (profile.true !== null && profile.true !== undefined) rows.push(["true / false", `${formatCount(profile.true)} / ${formatCount(profile.false ?? 0)}`]);
  const top = profile.top ?? [];
  const topMax = Math.max(1, ...top.map((t) => t.count));
  return (
    <aside className="side-panel" aria-label={`Profile of ${profile.name}`}>
      <header>
        <h2>{profile.name}</h2>
        <button type="button" className="icon" aria-label="Close profile" onClick={onClose}>
          ×
        </button>
      </header>
      <dl className="facts">
        {rows.map(([label, value]) => (
          <div key={label}>
            <dt>{label}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
      {profile.histogram && (
        <figure>
          <figcaption>Distribution</figcaption>
          <Sparkline profile={profile} />
          <div className="range muted small">
            <span>{String(profile.histogram.edges[0])}</span>
            <span>{String(profile.histogram.edges[profile.histogram.edges.length - 1])}</span>
          </div>
        </figure>
      )}
      {top.length > 0 && (
        <figure>
          <figcaption>Most frequent</figcaption>
          <ul className="bars">
            {top.map((t) => (
              <li key={t.value}>
                <span className="bar" style={{ width: `${(t.count / topMax) * 100}%` }} />
                <span className="bar-label">{t.value === "" ? "(empty text)" : t.value}</span>
                <span className="bar-count">{formatCount(t.count)}</span>
              </li>
            ))}
          </ul>
        </figure>
      )}
    </aside>
  );
}

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
  const [shown, setShown] = useState<number>();
  const [gridError, setGridError] = useState<unknown>();
  const [exportOpen, setExportOpen] = useState(false);
  const searchTimer = useRef<number | undefined>(undefined);

  useLiveEvents(["dataset.revision"], (event) => {
    if (event.type !== "dataset.revision" || event.id === datasetId) dataset.reload();
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
                  <button type="button" className="head-bottom" title="Show the column's profile" onClick={() => setSelected(column.name)}>
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
        {selected && profiles.get(selected) && <ProfilePanel profile={profiles.get(selected)!} onClose={() => setSelected(undefined)} />}
      </div>
    </main>
  );
}
