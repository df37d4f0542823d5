/**
 * One WebSocket per tab for live events (docs/events.md). Pages subscribe to event types;
 * after a reconnect they are told to re-read, because events sent while disconnected are lost.
 */

import { useEffect, useRef } from "react";

export interface LiveEvent {
  type: string;
  id: string;
  at: string;
  data: Record<string, unknown>;
}

type Listener = (event: LiveEvent) => void;

const RECONNECT = "connection.restored";

class EventHub {
  private socket: WebSocket | null = null;
  private listeners = new Map<string, Set<Listener>>();
  private retry = 0;
  private timer: number | undefined;
  private wasOpen = false;
  private stopped = true;
  private follows = new Map<string, number>();

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    window.clearTimeout(this.timer);
    this.socket?.close();
    this.socket = null;
    this.wasOpen = false;
  }

  /**
   * Ask for a step's log as `step.log` events (docs/events.md); the follow is sent again after
   * a reconnect. Returns the function that stops following.
   */
  followLog(run: string, step: string): () => void {
    const key = JSON.stringify({ run, step });
    this.follows.set(key, (this.follows.get(key) ?? 0) + 1);
    this.send({ follow_log: { run, step } });
    return () => {
      const count = (this.follows.get(key) ?? 1) - 1;
      if (count > 0) {
        this.follows.set(key, count);
        return;
      }
      this.follows.delete(key);
      this.send({ unfollow_log: { run, step } });
    };
  }

  private send(message: unknown): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }

  on(type: string, listener: Listener): () => void {
    const set = this.listeners.get(type) ?? new Set();
    set.add(listener);
    this.listeners.set(type, set);
    return () => set.delete(listener);
  }

  private emit(event: LiveEvent): void {
    for (const listener of this.listeners.get(event.type) ?? []) listener(event);
  }

  private connect(): void {
    const scheme = window.location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${window.location.host}/api/v1/events`);
    this.socket = socket;
    socket.onopen = () => {
      if (this.wasOpen) this.emit({ type: RECONNECT, id: "", at: new Date().toISOString(), data: {} });
      this.wasOpen = true;
      this.retry = 0;
      for (const key of this.follows.keys()) this.send({ follow_log: JSON.parse(key) });
    };
    socket.onmessage = (message) => {
      try {
        this.emit(JSON.parse(message.data as string) as LiveEvent);
      } catch {
        /* a message that is not JSON is not ours to act on */
      }
    };
    socket.onclose = (close) => {
      if (this.socket !== socket || this.stopped || close.code === 4401) return;
      const delay = Math.min(30_000, 500 * 2 ** this.retry++);
      this.timer = window.setTimeout(() => this.connect(), delay);
    };
  }
}

export const events = new EventHub();

/**
 * Call `handler` for each event of these types, and with a synthetic event after a reconnect
 * (so the page re-reads what it shows). The handler may change between renders.
 */
export function useLiveEvents(types: string[], handler: Listener): void {
  const latest = useRef(handler);
  latest.current = handler;
  const key = types.join(",");
  useEffect(() => {
    const offs = [...key.split(","), RECONNECT].map((type) => events.on(type, (event) => latest.current(event)));
    return () => offs.forEach((off) => off());
  }, [key]);
}
