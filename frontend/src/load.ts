/** Loading data for a page: one small hook instead of a data-fetching library. */

import { useCallback, useEffect, useRef, useState } from "react";

export interface Loaded<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
  /** Reload once shortly: a burst of live events costs one request, not one each. */
  reloadSoon: () => void;
}

const SOON_MS = 300;

/**
 * Run `load` when `deps` change and on `reload()`. A reply that arrives after a newer request
 * started is dropped, so a slow answer never overwrites a fresh one.
 */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<unknown>();
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const generation = useRef(0);
  const latest = useRef(load);
  latest.current = load;

  useEffect(() => {
    const mine = ++generation.current;
    setLoading(true);
    latest
      .current()
      .then((value) => {
        if (mine !== generation.current) return;
        setData(value);
        setError(undefined);
      })
      .catch((reason: unknown) => {
        if (mine === generation.current) setError(reason);
      })
      .finally(() => {
        if (mine === generation.current) setLoading(false);
      });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);

  const reload = useCallback(() => setTick((n) => n + 1), []);
  const soon = useRef<number | undefined>(undefined);
  const reloadSoon = useCallback(() => {
    if (soon.current !== undefined) return;
    soon.current = window.setTimeout(() => {
      soon.current = undefined;
      setTick((n) => n + 1);
    }, SOON_MS);
  }, []);
  useEffect(() => () => window.clearTimeout(soon.current), []);
  return { data, error, loading, reload, reloadSoon };
}
