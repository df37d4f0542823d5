/** Drawing charts on a canvas, so that the picture downloads as a PNG exactly as shown. */

import { formatTick, linear, niceTicks, toNumber } from "./scale";

export type Chart =
  | { kind: "histogram"; column: string; bins: { low: number; high: number; count: number }[] }
  | { kind: "bars"; column: string; values: { label: string; count: number }[] }
  | { kind: "scatter" | "line"; x: string; y: string; time: boolean; points: [unknown, unknown][] };

const PAD = { left: 64, right: 16, top: 16, bottom: 48 };
const INK = "#1c2430";
const MUTED = "#667085";
const GRID = "#e2e5ea";
const ACCENT = "#2563eb";

function frame(context: CanvasRenderingContext2D, width: number, height: number) {
  context.fillStyle = "#ffffff";
  context.fillRect(0, 0, width, height);
  context.font = "14px system-ui, sans-serif";
  context.textBaseline = "middle";
}

function axes(
  context: CanvasRenderingContext2D,
  width: number,
  height: number,
  x: { low: number; high: number; time: boolean; label: string },
  y: { low: number; high: number; label: string },
) {
  const sx = linear(x.low, x.high, PAD.left, width - PAD.right);
  const sy = linear(y.low, y.high, height - PAD.bottom, PAD.top);
  context.strokeStyle = GRID;
  context.fillStyle = MUTED;
  context.lineWidth = 1;
  context.textAlign = "right";
  for (const tick of niceTicks(y.low, y.high, 5)) {
    const at = Math.round(sy(tick)) + 0.5;
    context.beginPath();
    context.moveTo(PAD.left, at);
    context.lineTo(width - PAD.right, at);
    context.stroke();
    context.fillText(formatTick(tick, false, y.high - y.low), PAD.left - 6, at);
  }
  context.textAlign = "center";
  const xTicks = x.time ? niceTicks(x.low, x.high, 4) : niceTicks(x.low, x.high, 5);
  for (const tick of xTicks) context.fillText(formatTick(tick, x.time, x.high - x.low), sx(tick), height - PAD.bottom + 16);
  context.fillStyle = INK;
  context.fillText(x.label, (PAD.left + width - PAD.right) / 2, height - 12);
  context.save();
  context.translate(14, (PAD.top + height - PAD.bottom) / 2);
  context.rotate(-Math.PI / 2);
  context.fillText(y.label, 0, 0);
  context.restore();
  return { sx, sy };
}

function extent(values: number[]): [number, number] {
  let low = Infinity;
  let high = -Infinity;
  for (const value of values) {
    if (!Number.isFinite(value)) continue;
    low = Math.min(low, value);
    high = Math.max(high, value);
  }
  return low === Infinity ? [0, 1] : [low, high];
}

export function drawChart(canvas: HTMLCanvasElement, chart: Chart): void {
  const context = canvas.getContext("2d");
  if (!context) return;
  const { width, height } = canvas;
  frame(context, width, height);
  if (chart.kind === "bars") {
    const rows = chart.values.slice(0, 15);
    const top = Math.max(1, ...rows.map((r) => r.count));
    const band = (height - PAD.top - 10) / Math.max(rows.length, 1);
    const left = 110;
    const scale = linear(0, top, left, width - 60);
    rows.forEach((row, i) => {
      const y = PAD.top + i * band;
      context.fillStyle = ACCENT;
      context.fillRect(left, y + 2, Math.max(1, scale(row.count) - left), band - 4);
      context.fillStyle = INK;
      context.textAlign = "right";
      const label = row.label.length > 16 ? `${row.label.slice(0, 15)}…` : row.label;
      context.fillText(label, left - 6, y + band / 2);
      context.textAlign = "left";
      context.fillStyle = MUTED;
      context.fillText(row.count.toLocaleString("en-US"), scale(row.count) + 4, y + band / 2);
    });
    return;
  }
  if (chart.kind === "histogram") {
    const bins = chart.bins;
    if (bins.length === 0) return;
    const top = Math.max(1, ...bins.map((b) => b.count));
    const { sx, sy } = axes(
      context,
      width,
      height,
      { low: bins[0].low, high: bins[bins.length - 1].high, time: false, label: chart.column },
      { low: 0, high: top, label: "rows" },
    );
    context.fillStyle = ACCENT;
    for (const bin of bins) {
      const x0 = sx(bin.low);
      const x1 = sx(bin.high);
      context.fillRect(x0 + 0.5, sy(bin.count), Math.max(1, x1 - x0 - 1), sy(0) - sy(bin.count));
    }
    return;
  }
  const xs = chart.points.map((p) => toNumber(p[0]));
  const ys = chart.points.map((p) => toNumber(p[1]));
  const [x0, x1] = extent(xs);
  const [y0, y1] = extent(ys);
  const { sx, sy } = axes(
    context,
    width,
    height,
    { low: x0, high: x1, time: chart.time, label: chart.x },
    { low: Math.min(0, y0), high: y1, label: chart.y },
  );
  context.fillStyle = ACCENT;
  context.strokeStyle = ACCENT;
  if (chart.kind === "scatter") {
    context.globalAlpha = chart.points.length > 1000 ? 0.35 : 0.7;
    xs.forEach((x, i) => context.fillRect(sx(x) - 1.5, sy(ys[i]) - 1.5, 3, 3));
    context.globalAlpha = 1;
  } else {
    context.lineWidth = 1.5;
    context.beginPath();
    xs.forEach((x, i) => (i === 0 ? context.moveTo(sx(x), sy(ys[i])) : context.lineTo(sx(x), sy(ys[i]))));
    context.stroke();
  }
}
