import { layout, type Node } from "./graph";

const WIDTH = 150;
const HEIGHT = 40;
const GAP_X = 60;
const GAP_Y = 18;

/** The steps as boxes and arrows, each box coloured by its state when one is given. */
export function StepGraph({
  nodes,
  states = {},
  selected,
  onSelect,
}: {
  nodes: Node[];
  states?: Record<string, string>;
  selected?: string;
  onSelect?: (name: string) => void;
}) {
  const placed = layout(nodes);
  const at = new Map(placed.map((p) => [p.name, p]));
  const x = (layer: number) => 10 + layer * (WIDTH + GAP_X);
  const y = (row: number) => 10 + row * (HEIGHT + GAP_Y);
  const width = Math.max(...placed.map((p) => x(p.layer) + WIDTH), 0) + 10;
  const height = Math.max(...placed.map((p) => y(p.row) + HEIGHT), 0) + 10;
  return (
    <svg className="step-graph" width={width} height={height} role="img" aria-label="Steps">
      <defs>
        <marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto">
          <path d="M0,0 L10,5 L0,10 z" fill="#9aa3b2" />
        </marker>
      </defs>
      {nodes.flatMap((node) =>
        node.depends_on
          .filter((dep) => at.has(dep))
          .map((dep) => {
            const from = at.get(dep)!;
            const to = at.get(node.name)!;
            const x1 = x(from.layer) + WIDTH;
            const y1 = y(from.row) + HEIGHT / 2;
            const x2 = x(to.layer);
            const y2 = y(to.row) + HEIGHT / 2;
            const mid = (x1 + x2) / 2;
            return (
              <path
                key={`${dep}->${node.name}`}
                d={`M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2 - 2},${y2}`}
                fill="none"
                stroke="#9aa3b2"
                strokeWidth={1.5}
                markerEnd="url(#arrow)"
              />
            );
          }),
      )}
      {placed.map((p) => {
        const state = states[p.name];
        return (
          <g
            key={p.name}
            className={`node ${state ? `state-${state}` : ""} ${selected === p.name ? "selected" : ""}`}
            transform={`translate(${x(p.layer)},${y(p.row)})`}
            onClick={() => onSelect?.(p.name)}
            role={onSelect ? "button" : undefined}
            aria-label={state ? `${p.name}: ${state}` : p.name}
          >
            <rect width={WIDTH} height={HEIGHT} rx={6} />
            <text x={10} y={state ? 17 : 25} className="node-name">
              {p.name.length > 18 ? `${p.name.slice(0, 17)}…` : p.name}
            </text>
            {state && (
              <text x={10} y={32} className="node-state">
                {state.replace("_", " ")}
              </text>
            )}
          </g>
        );
      })}
    </svg>
  );
}
