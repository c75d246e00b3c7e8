/**
 * WATCH streams with kube-apiserver semantics: replay from a resourceVersion (410 Expired as an ERROR event when
 * it is compacted away), synthetic ADDED for the current state when no resourceVersion (or "0") is given, the
 * `sendInitialEvents` watch-list protocol, selector transitions (an object that stops matching is DELETED for this
 * watcher, one that starts matching is ADDED), BOOKMARKs, `timeoutSeconds`, and newline-delimited JSON with the
 * headers flushed at once. Events are encoded once and shared by every plain-JSON watcher.
 *
 * @example
 * const w = startWatch(res, { store, type, namespace: "x", resourceVersion: "12", allowBookmarks: true });
 * w.end(); // the client sees the stream end and re-watches
 */
import type { ServerResponse } from "node:http";
import { failureStatus } from "./api-error.ts";
import { parseResourceVersion } from "./list.ts";
import type { FieldMatcher, LabelMatcher } from "./selectors.ts";
import { apiVersionOf, type KubeObject, type ResourceType } from "./resources.ts";
import { resourceKey, type ChangeEvent, type Store, type StoredObject } from "./store.ts";

/** Converts one object to the JSON text sent as an event's object (for Table watches). */
export type EventObjectEncoder = (obj: KubeObject, resourceVersion: number) => string;

/** Parameters of one watch. */
export interface WatchSpec {
  store: Store;
  type: ResourceType;
  /** Namespace to watch; undefined for all. */
  namespace?: string;
  labels?: LabelMatcher;
  fields?: FieldMatcher;
  resourceVersion?: string;
  /** Watch-list: ADDED for the current state, then a BOOKMARK annotated k8s.io/initial-events-end. */
  sendInitialEvents?: boolean;
  allowBookmarks?: boolean;
  bookmarkIntervalMs?: number;
  timeoutSeconds?: number;
  /** Custom encoder of event objects (Table); undefined for plain JSON. */
  encode?: EventObjectEncoder;
  /** A watcher whose unsent output exceeds this many bytes is ended (the client re-watches). */
  maxBufferedBytes?: number;
}

/** A running watch. */
export interface ActiveWatch {
  /** Ends the stream cleanly. Idempotent. */
  end(): void;
  readonly ended: boolean;
}

/**
 * Starts streaming to `res` (status 200 is written and flushed immediately). The watch ends on client
 * disconnect, `timeoutSeconds`, `end()`, or an expired resourceVersion (after its ERROR event).
 */
export function startWatch(res: ServerResponse, spec: WatchSpec, onEnd?: () => void): ActiveWatch {
  const { store, type } = spec;
  const key = resourceKey(type);
  const apiVersion = apiVersionOf(type);
  const maxBuffered = spec.maxBufferedBytes ?? 64 * 1024 * 1024;
  res.writeHead(200, {
    "Content-Type": spec.encode ? "application/json;as=Table;v=v1;g=meta.k8s.io" : "application/json",
    "Cache-Control": "no-cache, private",
    "Transfer-Encoding": "chunked",
  });
  res.flushHeaders();

  let ended = false;
  let bookmarkTimer: NodeJS.Timeout | undefined;
  let timeoutTimer: NodeJS.Timeout | undefined;
  let unsubscribe: (() => void) | undefined;
  const end = () => {
    if (ended) return;
    ended = true;
    unsubscribe?.();
    clearTimeout(bookmarkTimer);
    clearTimeout(timeoutTimer);
    flush();
    if (!res.destroyed && !res.writableEnded) res.end();
    onEnd?.();
  };
  res.on("close", end);

  // Events of one event-loop turn leave in one chunk: a watcher of a busy resource otherwise costs a write (and a
  // syscall) per event.
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let flushScheduled = false;
  const flush = () => {
    flushScheduled = false;
    if (pending.length === 0 || res.destroyed || res.writableEnded) return;
    const chunk = pending.length === 1 ? pending[0] : Buffer.concat(pending, pendingBytes);
    pending = [];
    pendingBytes = 0;
    res.write(chunk);
    if (res.writableLength > maxBuffered) end();
  };
  const write = (text: string | Buffer) => {
    if (ended || res.destroyed) return;
    const buf = typeof text === "string" ? Buffer.from(text) : text;
    pending.push(buf);
    pendingBytes += buf.length;
    if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(flush);
    }
  };

  const matches = (obj: KubeObject): boolean =>
    (spec.namespace === undefined || !type.namespaced || (obj.metadata.namespace ?? "") === spec.namespace) &&
    (spec.labels === undefined || spec.labels(obj.metadata.labels)) &&
    (spec.fields === undefined || spec.fields(obj));

  const objectText = (o: StoredObject): string => {
    if (spec.encode) return spec.encode(o.object, o.resourceVersion);
    if (o.object.apiVersion !== apiVersion) return JSON.stringify({ ...o.object, apiVersion });
    return o.json;
  };
  const sendObject = (eventType: string, o: StoredObject) => write(`{"type":"${eventType}","object":${objectText(o)}}\n`);

  const deliver = (e: ChangeEvent) => {
    if (ended) return;
    const now = matches(e.current.object);
    const before = e.type === "MODIFIED" ? matches(e.previous!.object) : now;
    if (!now && !before) return;
    if (now && before) {
      if (!spec.encode && e.current.object.apiVersion === apiVersion) write(e.line);
      else sendObject(e.type, e.current);
    } else if (now) {
      sendObject("ADDED", e.current);
    } else {
      // Stopped matching: DELETED with the previous content at the event's resourceVersion (as apiserver's cacher).
      const prev = e.previous!.object;
      const obj: KubeObject = { ...prev, metadata: { ...prev.metadata, resourceVersion: String(e.resourceVersion) } };
      write(`{"type":"DELETED","object":${spec.encode ? spec.encode(obj, e.resourceVersion) : JSON.stringify({ ...obj, apiVersion })}}\n`);
    }
  };

  const bookmark = (annotations?: Record<string, string>) => {
    const metadata: Record<string, unknown> = { resourceVersion: String(store.resourceVersion) };
    if (annotations) metadata.annotations = annotations;
    write(`{"type":"BOOKMARK","object":${JSON.stringify({ kind: type.kind, apiVersion, metadata })}}\n`);
  };

  const sendCurrentState = () => {
    const ns = type.namespaced ? spec.namespace : undefined;
    for (const o of store.list(key, ns)) if (matches(o.object)) sendObject("ADDED", o);
  };

  const handle: ActiveWatch = { end, get ended() { return ended; } };
  let rv: number | undefined;
  try {
    rv = parseResourceVersion(spec.resourceVersion);
  } catch (e) {
    write(`{"type":"ERROR","object":${JSON.stringify((e as { status: unknown }).status)}}\n`);
    end();
    return handle;
  }

  if (spec.sendInitialEvents) {
    sendCurrentState();
    bookmark({ "k8s.io/initial-events-end": "true" });
  } else if (rv === undefined || rv === 0) {
    sendCurrentState();
  } else {
    const replay = store.eventsSince(rv, key);
    if (replay === undefined) {
      const status = failureStatus(410, "Expired", `too old resource version: ${rv} (${store.compactedResourceVersion + 1})`);
      write(`{"type":"ERROR","object":${JSON.stringify(status)}}\n`);
      end();
      return handle;
    }
    for (const e of replay) deliver(e);
  }
  if (ended) return handle;
  unsubscribe = store.subscribe(key, deliver);

  if (spec.allowBookmarks) {
    const interval = spec.bookmarkIntervalMs ?? 5000;
    const tick = () => {
      bookmark();
      if (!ended) bookmarkTimer = setTimeout(tick, interval);
    };
    bookmarkTimer = setTimeout(tick, interval);
  }
  if (spec.timeoutSeconds !== undefined && spec.timeoutSeconds > 0) {
    timeoutTimer = setTimeout(end, spec.timeoutSeconds * 1000);
  }
  return handle;
}
