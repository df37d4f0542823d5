const ENDED = new Set(["succeeded", "failed", "cancelled"]);

/** A run in one of these states changes no more (unless retried). */
export function isEnded(state: string): boolean {
  return ENDED.has(state);
}

export function StateBadge({ state }: { state: string }) {
  return <span className={`state-badge state-${state}`}>{state.replace("_", " ")}</span>;
}

/** "1 min 5 s" between two times, or until now for one still running. */
export function formatDuration(start?: string | null, end?: string | null, now: number = Date.now()): string {
  if (!start) return "—";
  const ms = (end ? Date.parse(end) : now) - Date.parse(start);
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}
