/** Laying out a pipeline's steps as layers: each step one column right of its last dependency. */

export interface Node {
  name: string;
  depends_on: string[];
}

export interface Placed {
  name: string;
  layer: number;
  row: number;
}

/** Layers by longest path from a root; rows in the order the steps were given. Cycles (which a saved
 * pipeline cannot have) are cut rather than looped over. */
export function layout(nodes: Node[]): Placed[] {
  const byName = new Map(nodes.map((node) => [node.name, node]));
  const layers = new Map<string, number>();
  const visiting = new Set<string>();
  const layerOf = (name: string): number => {
    const known = layers.get(name);
    if (known !== undefined) return known;
    if (visiting.has(name)) return 0;
    visiting.add(name);
    const deps = (byName.get(name)?.depends_on ?? []).filter((dep) => byName.has(dep));
    const layer = deps.length ? Math.max(...deps.map(layerOf)) + 1 : 0;
    visiting.delete(name);
    layers.set(name, layer);
    return layer;
  };
  const rows = new Map<number, number>();
  return nodes.map((node) => {
    const layer = layerOf(node.name);
    const row = rows.get(layer) ?? 0;
    rows.set(layer, row + 1);
    return { name: node.name, layer, row };
  });
}

/** The steps of a pipeline spec (`steps: {name: {depends_on, with}}`), with dependencies implied by `${steps.x...}`. */
export function stepsOfSpec(spec: Record<string, unknown>): Node[] {
  const steps = (spec.steps ?? {}) as Record<string, { depends_on?: string[]; with?: unknown }>;
  return Object.entries(steps).map(([name, step]) => {
    const implied = [...JSON.stringify(step.with ?? {}).matchAll(/\$\{steps\.([A-Za-z0-9_-]+)\./g)].map((m) => m[1]);
    return { name, depends_on: [...new Set([...(step.depends_on ?? []), ...implied])] };
  });
}
