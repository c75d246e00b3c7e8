import { ListWatch, Watch, type KubeConfig, type KubernetesObject, type ListPromise } from "@kubernetes/client-node";
import type { Logger } from "../log.ts";
import { describeError, statusOf } from "./api-errors.ts";

/** A list+watch cache that never gives up: it restarts after errors with capped, jittered backoff. */
export interface ResilientInformer<T extends KubernetesObject> {
  get(name: string, namespace?: string): T | undefined;
  list(namespace?: string): ReadonlyArray<T>;
  /** Resolves after the first successful list. */
  synced: Promise<void>;
  isSynced(): boolean;
  stop(): Promise<void>;
}

export interface InformerOptions<T extends KubernetesObject> {
  kc: KubeConfig;
  /** Watch path, e.g. "/api/v1/services". */
  path: string;
  list: ListPromise<T>;
  labelSelector?: string;
  /** e.g. "metadata.name=config" to watch one object (the list function must filter the same way). */
  fieldSelector?: string;
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
}

/**
 * Starts a client-node informer that restarts itself after list or watch errors. A watch that
 * ends with 410 Gone relists (client-node does that), and a relist reports deletions it finds.
 *
 * @example
 * const services = startInformer({ kc, path: "/api/v1/services", list: () => core.listServiceForAllNamespaces(), log, onChange: enqueue });
 * await services.synced;
 */
export function startInformer<T extends KubernetesObject>(opts: InformerOptions<T>): ResilientInformer<T> {
  const { initial, max } = opts.backoffMs ?? { initial: 200, max: 5_000 };
  const informer = new ListWatch<T>(opts.path, new Watch(opts.kc), opts.list, false, opts.labelSelector, opts.fieldSelector);
  let stopped = false;
  let synced = false;
  let delay = initial;
  let restartTimer: NodeJS.Timeout | undefined;
  let markSynced!: () => void;
  const syncedPromise = new Promise<void>((resolve) => (markSynced = resolve));

  informer.on("add", (o) => opts.onChange(o, "add"));
  informer.on("update", (o) => opts.onChange(o, "update"));
  informer.on("delete", (o) => opts.onChange(o, "delete"));
  let reportedMissing: number | undefined;
  informer.on("error", (err: unknown) => {
    if (stopped) return;
    const status = statusOf(err);
    if (opts.missingIsEmpty && (status === 404 || status === 403)) {
      const retryInMs = opts.missingRetryMs ?? 10_000;
      if (reportedMissing !== status && status === 404) {
        opts.log.info({ path: opts.path, retryInMs }, "resource not served (its CRD is not installed?); treating it as empty until it is");
      } else if (reportedMissing !== status) {
        opts.log.warn({ path: opts.path, retryInMs, err: describeError(err) }, "not allowed to list this resource; treating it as empty until RBAC allows it (apply manifests/20-rbac.yaml)");
      }
      reportedMissing = status;
      if (!synced) {
        synced = true;
        markSynced();
      }
      clearTimeout(restartTimer);
      restartTimer = setTimeout(run, opts.missingRetryMs ?? 10_000);
      return;
    }
    const wait = Math.round(delay * (0.75 + Math.random() * 0.5));
    opts.log.warn({ path: opts.path, err: describeError(err), retryInMs: wait }, "watch failed, restarting");
    delay = Math.min(delay * 2, max);
    clearTimeout(restartTimer);
    restartTimer = setTimeout(run, wait);
  });

  async function run(): Promise<void> {
    if (stopped) return;
    let failed = false;
    const onError = () => (failed = true);
    informer.on("error", onError);
    try {
      await informer.start();
    } finally {
      informer.off("error", onError);
    }
    if (!failed && !stopped) {
      delay = initial;
      if (!synced) {
        synced = true;
        markSynced();
      }
    }
  }
  void run();

  return {
    get: (name, namespace) => informer.get(name, namespace),
    list: (namespace) => informer.list(namespace),
    synced: syncedPromise,
    isSynced: () => synced,
    stop: async () => {
      stopped = true;
      clearTimeout(restartTimer);
      await informer.stop();
    },
  };
}
