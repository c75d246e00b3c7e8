/**
 * The Kubernetes API client of both binaries, on node:http/node:https with one keep-alive connection
 * pool: JSON in and out, client-go's retries (Retry-After on 429/5xx for any verb, connection errors
 * for GET), one credential refresh after a 401, paged lists and streamed watches.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { ApiError } from "./api-error.ts";
import { apiPath, withQuery } from "./api-path.ts";
import type { ClusterAccess } from "./cluster-access.ts";
import { createEndpoint, exchange, type ExchangeResponse, type TransportError } from "./http-exchange.ts";
import type { CallOptions, KubeApi, ListOptions, ListResult, NamedRef, ObjectRef, PatchType, WatchEvent, WatchOptions } from "./kube-api.ts";
import { LineSplitter } from "./line-splitter.ts";
import { connectionRetryDelay, isConnectionError, parseRetryAfter, retryAfterWait } from "./retry-policy.ts";

/** Options of {@link createKubeApi}. */
export interface KubeApiOptions {
  /** User-Agent header; default "baremetal-lb (node vX)". */
  userAgent?: string;
  /** Limit of one request, retries excluded (default 30 s); watches have none once streaming. */
  requestTimeoutMs?: number;
}

const patchContentTypes: Record<PatchType, string> = {
  merge: "application/merge-patch+json",
  strategic: "application/strategic-merge-patch+json",
  json: "application/json-patch+json",
};

const watchEventTypes = new Set(["ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"]);

/** A watch may outlive its timeoutSeconds by this much before the client calls the connection lost. */
const watchGraceMs = 30_000;

interface SendOptions {
  body?: unknown;
  contentType?: string;
  signal?: AbortSignal;
  stream?: boolean;
  /** Retry 429/5xx answers that carry Retry-After (default true). */
  honourRetryAfter?: boolean;
}

/**
 * A KubeApi for `access`.
 *
 * @example
 * const api = createKubeApi(loadClusterAccess(flags.kubeconfig), { userAgent: "baremetal-lb-controller" });
 * const svc = projectService(await api.get({ ...services, namespace: "default", name: "web" }));
 * await api.close();
 */
export function createKubeApi(access: ClusterAccess, opts: KubeApiOptions = {}): KubeApi {
  const endpoint = createEndpoint(access, opts.userAgent ?? `baremetal-lb (node ${process.version})`);
  const timeoutMs = opts.requestTimeoutMs ?? 30_000;
  let closed = false;

  async function send(method: string, path: string, o: SendOptions = {}): Promise<ExchangeResponse> {
    const body = o.body === undefined ? undefined : { text: JSON.stringify(o.body), contentType: o.contentType ?? "application/json" };
    let refresh = false;
    let refreshed = false;
    let retryAfterRetries = 0;
    let connectionRetries = 0;
    let staleSocketRetries = 0;
    const where = path.split("?")[0];
    for (;;) {
      if (closed) throw new Error(`${method} ${where}: the API client is closed`);
      o.signal?.throwIfAborted();
      const credentials = await access.credentials(refresh);
      refresh = false;
      let res: ExchangeResponse;
      try {
        res = await exchange(endpoint, { method, path, credentials, body, signal: o.signal, timeoutMs, stream: o.stream });
      } catch (e) {
        const err = e as TransportError;
        if (o.signal?.aborted) throw err;
        // A keep-alive connection the server had just closed: nothing reached it, any verb may go again.
        if (err.reusedSocket && (err.code === "ECONNRESET" || err.code === "EPIPE") && staleSocketRetries < 3) {
          staleSocketRetries++;
          continue;
        }
        const delay = method === "GET" && !o.stream && isConnectionError(err) ? connectionRetryDelay(connectionRetries++) : undefined;
        if (delay !== undefined) {
          await sleep(delay, undefined, { signal: o.signal });
          continue;
        }
        throw Object.assign(new Error(`${method} ${access.server}${where}: ${err.message}`, { cause: err }), { code: err.code });
      }
      if (res.status >= 200 && res.status < 300) return res;
      if (res.status === 401 && !refreshed) {
        refreshed = true;
        refresh = true;
        continue;
      }
      const retryAfterMs = parseRetryAfter(header(res, "retry-after"), Date.now());
      const wait = o.honourRetryAfter === false ? undefined : retryAfterWait(res.status, retryAfterMs, retryAfterRetries);
      if (wait !== undefined) {
        retryAfterRetries++;
        await sleep(wait, undefined, { signal: o.signal });
        continue;
      }
      throw new ApiError(method, where, res.status, res.body, retryAfterMs);
    }
  }

  async function sendJson(method: string, path: string, o: SendOptions = {}): Promise<unknown> {
    const res = await send(method, path, o);
    if (res.body === "") return undefined;
    try {
      return JSON.parse(res.body);
    } catch (e) {
      throw new Error(`${method} ${path.split("?")[0]}: HTTP ${res.status} with a body that is not JSON (${(e as Error).message}): ${res.body.slice(0, 200)}`);
    }
  }

  async function list(ref: ObjectRef, options: ListOptions = {}, call: CallOptions = {}): Promise<ListResult> {
    const path = apiPath(ref);
    const items: unknown[] = [];
    let resourceVersion = "";
    let next: string | undefined;
    let restarted = false;
    for (;;) {
      const query = {
        labelSelector: options.labelSelector,
        fieldSelector: options.fieldSelector,
        limit: options.limit,
        continue: next,
        resourceVersion: next !== undefined || restarted ? undefined : options.resourceVersion,
      };
      let page: unknown;
      try {
        page = await sendJson("GET", withQuery(path, query), { signal: call.signal });
      } catch (e) {
        // The continue token expired (compaction): start again from the first page, once, as client-go does.
        if (next !== undefined && !restarted && e instanceof ApiError && e.code === 410) {
          restarted = true;
          next = undefined;
          items.length = 0;
          continue;
        }
        throw e;
      }
      const o = (page ?? {}) as { items?: unknown; metadata?: { resourceVersion?: unknown; continue?: unknown } };
      if (!Array.isArray(o.items)) throw new Error(`GET ${path}: the answer is not a list (no items array)`);
      const each = options.eachItem;
      for (const item of o.items) {
        const kept = each ? each(item) : item;
        if (kept !== undefined) items.push(kept);
      }
      o.items.length = 0; // the page's raw JSON can go before the next page arrives
      resourceVersion = typeof o.metadata?.resourceVersion === "string" ? o.metadata.resourceVersion : resourceVersion;
      next = typeof o.metadata?.continue === "string" && o.metadata.continue !== "" ? o.metadata.continue : undefined;
      if (next === undefined || !options.limit) return { items, resourceVersion };
    }
  }

  async function watch(ref: ObjectRef, options: WatchOptions, onEvent: (event: WatchEvent) => void, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return;
    const base = apiPath(ref);
    const path = withQuery(base, {
      watch: 1,
      allowWatchBookmarks: true,
      resourceVersion: options.resourceVersion,
      labelSelector: options.labelSelector,
      fieldSelector: options.fieldSelector,
      timeoutSeconds: options.timeoutSeconds,
    });
    let res: ExchangeResponse;
    try {
      res = await send("GET", path, { signal, stream: true, honourRetryAfter: false });
    } catch (e) {
      if (signal.aborted) return;
      throw e;
    }
    const { res: stream, req } = res.stream!;
    return new Promise<void>((resolve, reject) => {
      const lines = new LineSplitter();
      let settled = false;
      let deadline: NodeJS.Timeout | undefined;
      const finish = (err?: Error) => {
        if (settled) return;
        settled = true;
        signal.removeEventListener("abort", onAbort);
        clearTimeout(deadline);
        if (err && !signal.aborted) {
          req.destroy();
          reject(err);
        } else {
          if (err) req.destroy();
          resolve();
        }
      };
      const onAbort = () => {
        req.destroy();
        finish();
      };
      signal.addEventListener("abort", onAbort, { once: true });
      if (signal.aborted) onAbort(); // aborted between the headers and here
      if (options.timeoutSeconds !== undefined && options.timeoutSeconds > 0) {
        deadline = setTimeout(() => finish(new Error(`watch ${base}: no end ${watchGraceMs / 1000} s after its timeoutSeconds (${options.timeoutSeconds}); the connection is presumed lost`)), options.timeoutSeconds * 1000 + watchGraceMs);
      }
      const deliver = (batch: string[]) => {
        for (const line of batch) {
          if (settled) return;
          let event: { type?: unknown; object?: unknown };
          try {
            event = JSON.parse(line) as typeof event;
          } catch {
            throw new Error(`watch ${base}: the server sent a line that is not JSON: ${line.slice(0, 120)}`);
          }
          if (typeof event.type !== "string" || !watchEventTypes.has(event.type)) continue;
          onEvent({ type: event.type as WatchEvent["type"], object: event.object });
        }
      };
      stream.on("data", (chunk: Buffer) => {
        if (settled) return;
        try {
          deliver(lines.push(chunk));
        } catch (e) {
          finish(e as Error);
        }
      });
      stream.on("end", () => {
        try {
          deliver(lines.end());
          finish();
        } catch (e) {
          finish(e as Error);
        }
      });
      stream.on("error", (e) => finish(new Error(`watch ${base}: the stream broke: ${e.message}`, { cause: e })));
      stream.on("close", () => {
        if (!stream.complete) finish(new Error(`watch ${base}: the connection closed before the server ended the stream`));
      });
    });
  }

  return {
    get: (ref: NamedRef, call: CallOptions = {}) => sendJson("GET", apiPath(ref), { signal: call.signal }),
    list,
    create: (ref, body, call = {}) => sendJson("POST", apiPath({ ...ref, name: undefined, subresource: undefined }), { body, signal: call.signal }),
    replace: (ref, body, call = {}) => sendJson("PUT", apiPath(ref), { body, signal: call.signal }),
    patch: (ref, body, type, call = {}) => sendJson("PATCH", apiPath(ref), { body, contentType: patchContentTypes[type], signal: call.signal }),
    delete: async (ref, call = {}) => {
      await send("DELETE", apiPath(ref), { signal: call.signal });
    },
    watch,
    close: async () => {
      closed = true;
      endpoint.agent.destroy();
    },
  };
}

function header(res: ExchangeResponse, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
