import { useEffect, useRef, useState } from "react";
import { SidePanel } from "../components/SidePanel";
import { api, unwrap } from "../api/client";
import { ErrorNote, Loading, formatCount, saveFile } from "../components/ui";
import type { GridColumn } from "../grid/Grid";
import { viewParams, type View } from "../grid/view";
import { useLoad } from "../load";
import { drawChart, type Chart } from "./draw";

type Kind = "histogram" | "bars" | "scatter" | "line";
const NUMERIC = ["int", "float"];
const ORDERED = ["int", "float", "date", "timestamp"];
const WIDTH = 700;
const HEIGHT = 440;

/** Charts of the grid's view, aggregated or sampled by the server so they stay quick on the whole table. */
export function ChartPanel({
  datasetId,
  revisionId,
  datasetName,
  columns,
  view,
  initialColumn,
  onClose,
}: {
  datasetId: string;
  revisionId: string;
  datasetName: string;
  columns: GridColumn[];
  view: View;
  initialColumn?: string;
  onClose: () => void;
}) {
  const numeric = columns.filter((c) => NUMERIC.includes(c.type));
  const ordered = columns.filter((c) => ORDERED.includes(c.type));
  const [kind, setKind] = useState<Kind>(numeric.length ? "histogram" : "bars");
  const [x, setX] = useState(initialColumn ?? (kind === "bars" ? columns[0]?.name : numeric[0]?.name) ?? "");
  const [y, setY] = useState(numeric.find((c) => c.name !== x)?.name ?? numeric[0]?.name ?? "");
  const canvas = useRef<HTMLCanvasElement>(null);
  const { filter, q } = viewParams(view);
  const path = { dataset_id: datasetId };
  const choicesX = kind === "histogram" ? numeric : kind === "bars" ? columns : ordered;
  const xName = choicesX.some((c) => c.name === x) ? x : (choicesX[0]?.name ?? "");

  const chart = useLoad<Chart | null>(async () => {
    if (!xName) return null;
    if (kind === "histogram") {
      const found = await unwrap(
        api.GET("/api/v1/datasets/{dataset_id}/facets/histogram", { params: { path, query: { column: xName, bins: 40, filter, q } } }),
      );
      return { kind, column: xName, bins: found.bins };
    }
    if (kind === "bars") {
      const found = await unwrap(
        api.GET("/api/v1/datasets/{dataset_id}/facets/values", { params: { path, query: { column: xName, limit: 15, filter, q } } }),
      );
      return {
        kind,
        column: xName,
        values: found.values.map((v) => ({ label: v.value === null ? "(null)" : String(v.value), count: v.count })),
      };
    }
    if (!y) return null;
    const found = await unwrap(
      api.GET("/api/v1/datasets/{dataset_id}/chart", {
        params: { path, query: { x: xName, y, kind, points: kind === "scatter" ? 3000 : 400, filter, q } },
      }),
    );
    const time = ["date", "timestamp"].includes(found.x.type);
    return { kind, x: xName, y, time, points: found.points as [unknown, unknown][], total: found.total, reduced: found.reduced } as Chart;
  }, [datasetId, revisionId, kind, xName, y, filter, q]);

  useEffect(() => {
    if (canvas.current && chart.data) drawChart(canvas.current, chart.data);
  }, [chart.data]);

  function download() {
    const name = `${datasetName}-${kind}-${xName}${kind === "scatter" || kind === "line" ? `-${y}` : ""}.png`;
    canvas.current?.toBlob((blob) => blob && saveFile(blob, name), "image/png");
  }

  const info = chart.data as (Chart & { total?: number; reduced?: boolean }) | null | undefined;
  return (
    <SidePanel label="Chart" title="Chart" className="chart-panel" onClose={onClose}>
      <div className="chart-controls">
        <label className="field">
          <span className="field-label">Kind</span>
          <select value={kind} onChange={(e) => setKind(e.target.value as Kind)} aria-label="Chart kind">
            <option value="histogram">Histogram</option>
            <option value="bars">Bars of value counts</option>
            <option value="scatter">Scatter of two columns</option>
            <option value="line">Line of two columns</option>
          </select>
        </label>
        <label className="field">
          <span className="field-label">{kind === "scatter" || kind === "line" ? "X" : "Column"}</span>
          <select value={xName} onChange={(e) => setX(e.target.value)} aria-label="X column">
            {choicesX.map((c) => (
              <option key={c.name} value={c.name}>
                {c.name}
              </option>
            ))}
          </select>
        </label>
        {(kind === "scatter" || kind === "line") && (
          <label className="field">
            <span className="field-label">Y</span>
            <select value={y} onChange={(e) => setY(e.target.value)} aria-label="Y column">
              {numeric.map((c) => (
                <option key={c.name} value={c.name}>
                  {c.name}
                </option>
              ))}
            </select>
          </label>
        )}
      </div>
      {choicesX.length === 0 && <div className="muted">No column of a type this chart can draw.</div>}
      <ErrorNote error={chart.error} onRetry={chart.reload} />
      {chart.loading && !chart.data && <Loading what="the chart" />}
      <canvas ref={canvas} width={WIDTH} height={HEIGHT} className="chart-canvas" role="img" aria-label={`${kind} of ${xName}`} />
      {info && info.total !== undefined && (
        <div className="muted small">
          {info.reduced
            ? `${formatCount(info.total)} rows: ${info.kind === "scatter" ? "a random sample of them is drawn" : "means over equal steps of x"}.`
            : `${formatCount(info.total)} rows, all drawn.`}
        </div>
      )}
      <div className="actions">
        <button type="button" onClick={download} disabled={!chart.data}>
          Download PNG
        </button>
      </div>
    </SidePanel>
  );
}
