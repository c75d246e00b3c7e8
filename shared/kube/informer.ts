/**
 * A list+watch cache of one resource type that never gives up, keeping projections (only the fields
 * the code reads), not the API's JSON. It lists (in pages), then watches from the list's
 * resourceVersion with bookmarks; a watch that ends normally resumes from the last resourceVersion
 * seen without relisting; 410 Gone relists; other errors restart after a capped, jittered backoff.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "../log.ts";
import { describeError, statusOf } from "./api-errors.ts";
import { ApiError } from "./client/api-error.ts";
import { apiPath } from "./client/api-path.ts";
import type { KubeApi, ObjectRef, WatchEvent } from "./client/kube-api.ts";
import type { ResourceType } from "./client/resource-types.ts";
import { ObjectCache, type Cached } from "./object-cache.ts";

export type { Cached } from "./object-cache.ts";

/** A list+watch cache that never gives up: it restarts after errors with capped, jittered backoff. */
export interface ResilientInformer<T extends Cached> {
  get(name: string, namespace?: string): T | undefined;
  list(namespace?: string): ReadonlyArray<T>;
  /** Resolves after the first successful list. */
  synced: Promise<void>;
  isSynced(): boolean;
  stop(): Promise<void>;
}

export interface InformerOptions<T extends Cached> {
  api: KubeApi;
  type: ResourceType;
  /** Watch one namespace; all when omitted. */
  namespace?: string;
  labelSelector?: string;
  /** e.g. "metadata.name=config" to watch one object. */
  fieldSelector?: string;
  /** Applied to every listed item and watch event object; only its result is kept. */
  project: (raw: unknown) => T;
  log: Logger;
  /** Called for every add, update and delete, including deletes found by a relist. */
  onChange: (obj: T, kind: "add" | "update" | "delete") => void;
  /** First and maximum restart delay after an error. */
  backoffMs?: { initial: number; max: number };
  /**
   * For an optional resource (a CRD the user may not have installed, or RBAC from before it): a 404
   * or 403 counts as an empty, synced list (a cache already filled keeps its objects), logged once,
   * and the list is retried every `missingRetryMs` (default 10 s), so the objects appear once the CRD
   * or the grant does. Without it a 404 or 403 is an error like any other.
   */
  missingIsEmpty?: boolean;
  missingRetryMs?: number;
  /** List page size (default 500). */
  pageSize?: number;
}

/** How one watch went. */
interface WatchOutcome {
  resourceVersion: string;
  /** ADDED, MODIFIED and DELETED events received. */
  events: number;
  ms: number;
  /** 410 Gone, at the start or as an ERROR event: relist. */
  expired: boolean;
  error?: unknown;
}

/** A watch that ends normally sooner than this without events is treated as a failure (as client-go does). */
const shortWatchMs = 1000;
/** Longest Retry-After honoured between attempts. */
const maxRetryAfterMs = 60_000;

/**
 * Starts an informer that restarts itself after list or watch errors.
 *
 * @example
 * const services = startInformer({ api, type: services, project: projectService, log, onChange: enqueue });
 * await services.synced;
 * services.get("web", "default")?.spec.type;
 */
export function startInformer<T extends Cached>(opts: InformerOptions<T>): ResilientInformer<T> {
  const { initial, max } = opts.backoffMs ?? { initial: 200, max: 5_000 };
  const ref: ObjectRef = { apiVersion: opts.type.apiVersion, plural: opts.type.plural, ...(opts.namespace ? { namespace: opts.namespace } : {}) };
  const path = apiPath(ref);
  const { log } = opts;
  const cache = new ObjectCache<T>();
  const stopping = new AbortController();
  const { signal } = stopping;
  let synced = false;
  let markSynced!: () => void;
  const syncedPromise = new Promise<void>((resolve) => (markSynced = resolve));
  let delay = initial;
  let reportedMissing: number | undefined;

  const setSynced = () => {
    if (synced) return;
    synced = true;
    markSynced();
  };

  const emit = (obj: T, kind: "add" | "update" | "delete") => {
    try {
      opts.onChange(obj, kind);
    } catch (err) {
      log.error({ path, err: describeError(err), kind }, "informer change handler failed");
    }
  };

  /** `raw` projected, or undefined (logged) when the projection throws: one odd object must not stall the cache. */
  const project = (raw: unknown): T | undefined => {
    try {
      return opts.project(raw);
    } catch (err) {
      const meta = (raw as { metadata?: { name?: unknown; namespace?: unknown } } | null)?.metadata;
      log.error({ path, name: meta?.name, namespace: meta?.namespace, err: describeError(err) }, "object skipped: its projection failed");
      return undefined;
    }
  };

  /** Lists every page and replaces the cache; returns the list's resourceVersion. */
  async function relist(): Promise<string> {
    // Each page is projected as it arrives: only projections are ever held, never the whole raw list.
    const result = await opts.api.list(
      ref,
      { labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector, limit: opts.pageSize ?? 500, eachItem: project },
      { signal },
    );
    signal.throwIfAborted(); // stopped while the list was in flight: report nothing
    for (const change of cache.replace(result.items as T[])) emit(change.obj, change.kind);
    reportedMissing = undefined;
    setSynced();
    return result.resourceVersion;
  }

  async function watchFrom(start: string): Promise<WatchOutcome> {
    const outcome: WatchOutcome = { resourceVersion: start, events: 0, ms: 0, expired: false };
    const t0 = Date.now();
    const ended = new AbortController();
    const onEvent = (event: WatchEvent) => {
      if (event.type === "ERROR") {
        const status = (event.object ?? {}) as { code?: unknown };
        const code = typeof status.code === "number" ? status.code : 500;
        if (code === 410) outcome.expired = true;
        else outcome.error = new ApiError("WATCH", path, code, JSON.stringify(event.object));
        ended.abort();
        return;
      }
      const rv = resourceVersionOf(event.object);
      if (event.type === "BOOKMARK") {
        if (rv) outcome.resourceVersion = rv;
        return;
      }
      outcome.events++;
      const obj = project(event.object);
      if (!obj) {
        if (rv) outcome.resourceVersion = rv;
        return;
      }
      if (event.type === "DELETED") {
        if (cache.remove(obj)) emit(obj, "delete");
      } else {
        const kind = cache.upsert(obj);
        if (kind) emit(obj, kind);
      }
      if (rv) outcome.resourceVersion = rv;
    };
    try {
      // Server-side timeout of 5–10 min, as client-go's reflector: spreads relists, and a dead connection is noticed.
      const timeoutSeconds = 300 + Math.floor(Math.random() * 300);
      await opts.api.watch(ref, { resourceVersion: start, labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector, timeoutSeconds }, onEvent, AbortSignal.any([signal, ended.signal]));
    } catch (err) {
      if (statusOf(err) === 410) outcome.expired = true;
      else outcome.error = err;
    }
    outcome.ms = Date.now() - t0;
    return outcome;
  }

  /** Waits `ms` unless stopped. */
  async function pause(ms: number): Promise<void> {
    await sleep(ms, undefined, { signal }).catch(() => undefined);
  }

  /** The wait before retrying after `err`: its Retry-After when it has one, else the next backoff step. */
  function nextWait(err: unknown): number {
    const wait = Math.round(delay * (0.75 + Math.random() * 0.5));
    delay = Math.min(delay * 2, max);
    const retryAfterMs = err instanceof ApiError ? err.retryAfterMs : undefined;
    return retryAfterMs !== undefined ? Math.min(retryAfterMs, maxRetryAfterMs) : wait;
  }

  /** For an optional resource, a 404 or 403: logs once, counts as synced; returns the retry wait. */
  function missing(err: unknown, status: 404 | 403): number {
    const retryInMs = opts.missingRetryMs ?? 10_000;
    if (reportedMissing !== status && status === 404) {
      log.info({ path, retryInMs }, "resource not served (its CRD is not installed?); treating it as empty until it is");
    } else if (reportedMissing !== status) {
      log.warn({ path, retryInMs, err: describeError(err) }, "not allowed to list this resource; treating it as empty until RBAC allows it (apply manifests/20-rbac.yaml)");
    }
    reportedMissing = status;
    setSynced();
    return retryInMs;
  }

  async function run(): Promise<void> {
    let resourceVersion: string | undefined;
    while (!signal.aborted) {
      let justListed = false;
      if (resourceVersion === undefined) {
        try {
          resourceVersion = await relist();
          justListed = true;
        } catch (err) {
          if (signal.aborted) return;
          const status = statusOf(err);
          if (opts.missingIsEmpty && (status === 404 || status === 403)) {
            await pause(missing(err, status));
            continue;
          }
          const wait = nextWait(err);
          log.warn({ path, err: describeError(err), retryInMs: wait }, "watch failed, restarting");
          await pause(wait);
          continue;
        }
      }
      const outcome = await watchFrom(resourceVersion);
      if (signal.aborted) return;
      resourceVersion = outcome.resourceVersion;
      const healthy = outcome.events > 0 || outcome.ms >= shortWatchMs;
      if (healthy) delay = initial;
      if (outcome.expired && !justListed) {
        log.info({ path, resourceVersion }, "watch history expired (410 Gone); relisting");
        resourceVersion = undefined;
        continue;
      }
      let err = outcome.error;
      if (outcome.expired) {
        // 410 for the resourceVersion a list just returned: relist, but not in a tight loop.
        err = new Error(`watch of ${path} answered 410 Gone for the resourceVersion ${resourceVersion} its list had just returned`);
        resourceVersion = undefined;
      } else if (err === undefined && healthy) {
        continue; // a normal end (timeoutSeconds, a server shutting watches): resume where it stopped
      } else if (err === undefined) {
        err = new Error(`the server ended the watch of ${path} at once, without events`);
      }
      const status = statusOf(err);
      if (opts.missingIsEmpty && (status === 404 || status === 403)) {
        resourceVersion = undefined; // relist: a gone CRD or a revoked grant shows there
        continue;
      }
      const wait = nextWait(err);
      log.warn({ path, err: describeError(err), retryInMs: wait }, "watch failed, restarting");
      await pause(wait);
    }
  }

  const running = run().catch((err: unknown) => {
    // run() handles every API error itself; this is a bug, logged rather than left unhandled.
    log.error({ path, err: describeError(err) }, "informer stopped unexpectedly");
  });

  return {
    get: (name, namespace) => cache.get(name, namespace),
    list: (namespace) => cache.list(namespace),
    synced: syncedPromise,
    isSynced: () => synced,
    stop: async () => {
      stopping.abort();
      await running;
    },
  };
}

function resourceVersionOf(raw: unknown): string | undefined {
  const metadata = raw && typeof raw === "object" ? (raw as { metadata?: { resourceVersion?: unknown } }).metadata : undefined;
  return typeof metadata?.resourceVersion === "string" && metadata.resourceVersion !== "" ? metadata.resourceVersion : undefined;
}
