import { useState } from "react";
import { SidePanel } from "../components/SidePanel";
import { api, unwrap, type Schemas } from "../api/client";
import { ErrorNote, Loading, formatCount, formatNumber } from "../components/ui";
import type { GridColumn } from "../grid/Grid";
import { viewParams, type Filter, type View } from "../grid/view";
import { useLoad } from "../load";

const NUMERIC = new Set(["int", "float"]);

const formatEdge = (value: number) => formatNumber(value, 4);

/**
 * Facets of one column under the grid's current filters: value counts, or a histogram for
 * numbers. Clicking a value or a bar adds it to the grid's filters, as in OpenRefine.
 */
export function FacetsPanel({
  datasetId,
  revisionId,
  columns,
  view,
  initialColumn,
  onFilter,
  onClose,
}: {
  datasetId: string;
  revisionId: string;
  columns: GridColumn[];
  view: View;
  initialColumn?: string;
  onFilter: (filter: Filter) => void;
  onClose: () => void;
}) {
  const [column, setColumn] = useState(initialColumn ?? columns[0]?.name ?? "");
  const type = columns.find((c) => c.name === column)?.type ?? "text";
  const numeric = NUMERIC.has(type);
  const { filter, q } = viewParams(view);
  const path = { dataset_id: datasetId };
  const facet = useLoad<Schemas["ValueCounts"] | Schemas["NumericFacet"]>(
    () =>
      numeric
        ? unwrap(api.GET("/api/v1/datasets/{dataset_id}/facets/histogram", { params: { path, query: { column, bins: 20, filter, q } } }))
        : unwrap(api.GET("/api/v1/datasets/{dataset_id}/facets/values", { params: { path, query: { column, limit: 50, filter, q } } })),
    [datasetId, revisionId, column, numeric, filter, q],
  );
  const data = facet.data;

  let body = null;
  if (data && "values" in data) {
    const top = Math.max(1, ...data.values.map((v) => v.count));
    body = (
      <>
        <div className="muted small">
          {formatCount(data.distinct)} distinct in {formatCount(data.rows)} rows · {formatCount(data.nulls)} empty
        </div>
        <ul className="bars facet-values">
          {data.values.map((item) => (
            <li key={String(item.value)}>
              <button
                type="button"
                className="facet-button"
                onClick={() => onFilter({ column, op: "eq", value: item.value })}
                title="Show only these rows"
              >
                <span className="bar" style={{ width: `${(item.count / top) * 100}%` }} />
                <span className="bar-label">{item.value === "" ? "(empty text)" : String(item.value)}</span>
                <span className="bar-count">{formatCount(item.count)}</span>
              </button>
            </li>
          ))}
          {data.nulls > 0 && (
            <li>
              <button type="button" className="facet-button" onClick={() => onFilter({ column, op: "is_null" })}>
                <span className="bar-label muted">(null)</span>
                <span className="bar-count">{formatCount(data.nulls)}</span>
              </button>
            </li>
          )}
        </ul>
        {data.distinct > data.values.length && <div className="muted small">The {data.values.length} most common are shown.</div>}
      </>
    );
  } else if (data && "bins" in data) {
    const top = Math.max(1, ...data.bins.map((b) => b.count));
    body = (
      <>
        <div className="muted small">
          {data.min === null ? "No numbers." : `${formatEdge(data.min)} to ${formatEdge(data.max ?? data.min)}`} · {formatCount(data.nulls)}{" "}
          empty
          {data.non_finite ? ` · ${formatCount(data.non_finite)} NaN or infinite` : ""}
        </div>
        <div className="histogram" role="list" aria-label={`Histogram of ${column}`}>
          {data.bins.map((bin, i) => (
            <button
              key={i}
              type="button"
              role="listitem"
              className="histogram-bar"
              title={`${formatEdge(bin.low)} to ${formatEdge(bin.high)}: ${formatCount(bin.count)} rows — click to filter`}
              onClick={() => onFilter({ column, op: "between", value: [bin.low, bin.high] })}
            >
              <span style={{ height: `${(bin.count / top) * 100}%` }} />
            </button>
          ))}
        </div>
        {data.bins.length > 0 && (
          <div className="range muted small">
            <span>{formatEdge(data.bins[0].low)}</span>
            <span>{formatEdge(data.bins[data.bins.length - 1].high)}</span>
          </div>
        )}
      </>
    );
  }

  return (
    <SidePanel label="Facets" title="Facets" onClose={onClose}>
      <label className="field">
        <span className="field-label">Column</span>
        <select value={column} onChange={(e) => setColumn(e.target.value)} aria-label="Facet column">
          {columns.map((c) => (
            <option key={c.name} value={c.name}>
              {c.name} ({c.type})
            </option>
          ))}
        </select>
      </label>
      <div className="muted small">Under the grid’s filters and search; click to filter the grid.</div>
      <ErrorNote error={facet.error} onRetry={facet.reload} />
      {facet.loading && !facet.data ? <Loading what="facet" /> : body}
    </SidePanel>
  );
}
