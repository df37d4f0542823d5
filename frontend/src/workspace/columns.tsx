/** The pieces of a column in the workspace: its header sparkline, its filter form, its profile panel. */

import { useState, type FormEvent } from "react";
import { SidePanel } from "../components/SidePanel";
import type { Schemas } from "../api/client";
import { formatCount, formatNumber } from "../components/ui";
import type { GridColumn } from "../grid/Grid";
import { OP_LABELS, opsFor, parseFilterValue, takesValue, type FilterOp } from "../grid/view";

type ColumnProfile = Schemas["ColumnProfile"];

/** Bars of the column's histogram or top values, drawn small in its header. */
export function Sparkline({ profile }: { profile?: ColumnProfile }) {
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

export function FunnelIcon() {
  return (
    <svg width="12" height="12" viewBox="0 0 16 16" aria-hidden>
      <path d="M1.5 2h13l-5 6.2V14l-3-1.6V8.2z" fill="currentColor" />
    </svg>
  );
}

/** Statistics read better as grouped numbers than in exponent notation. */
const formatStat = (value: number) => formatNumber(value, 6);

export function FilterForm({
  column,
  onApply,
  onClose,
}: {
  column: GridColumn;
  onApply: (op: FilterOp, value: unknown) => void;
  onClose: () => void;
}) {
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

export function ProfilePanel({ profile, onClose }: { profile: ColumnProfile; onClose: () => void }) {
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
  if (profile.min_length !== null && profile.min_length !== undefined)
    rows.push(["Length", `${profile.min_length} to ${profile.max_length}`]);
  if (profile.true !== null && profile.true !== undefined)
    rows.push(["true / false", `${formatCount(profile.true)} / ${formatCount(profile.false ?? 0)}`]);
  const top = profile.top ?? [];
  const topMax = Math.max(1, ...top.map((t) => t.count));
  return (
    <SidePanel label={`Profile of ${profile.name}`} title={profile.name} closeLabel="Close profile" onClose={onClose}>
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
    </SidePanel>
  );
}
