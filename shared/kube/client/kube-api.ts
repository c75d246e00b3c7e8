/**
 * The Kubernetes API as both binaries use it: plain JSON in and out, one connection pool, errors
 * that carry the HTTP status and the server's Status message. The implementation is
 * ./http-kube-api.ts; tests may hand a fake of this interface to the code under test.
 *
 * Objects come back as parsed JSON (`unknown` until a projection in ../objects/ reads them):
 * timestamps are RFC 3339 strings, never Date objects.
 */
import type { ResourceType } from "./resource-types.ts";

/** Where a request goes: a resource type, and optionally a namespace, a name and a subresource. */
export interface ObjectRef extends ResourceType {
  /** Omitted for cluster-scoped types and for lists across all namespaces. */
  readonly namespace?: string;
  readonly name?: string;
  readonly subresource?: "status";
}

/** A named object: get, replace, patch and delete need one. */
export interface NamedRef extends ObjectRef {
  readonly name: string;
}

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  /** Page size; the list follows `continue` tokens until the last page. */
  limit?: number;
  resourceVersion?: string;
  /**
   * Applied to each item as its page arrives; what it returns replaces the raw item in
   * {@link ListResult.items} (undefined drops it). An informer projects here, so a 10,000-object
   * list never holds every raw object at once.
   */
  eachItem?: (raw: unknown) => unknown;
}

export interface WatchOptions {
  labelSelector?: string;
  fieldSelector?: string;
  /** Where the watch starts: the list's resourceVersion, or the last event's. */
  resourceVersion: string;
  /** Server-side timeout; the server ends the watch after it (normal, not an error). */
  timeoutSeconds?: number;
}

/** One watch event as the API server sends it. BOOKMARK carries only metadata.resourceVersion; ERROR carries a Status. */
export interface WatchEvent {
  type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
  object: unknown;
}

/** A list's items (raw JSON, or what {@link ListOptions.eachItem} made of them), and the resourceVersion to watch from. */
export interface ListResult {
  items: unknown[];
  resourceVersion: string;
}

export type PatchType = "merge" | "strategic" | "json";

/** Per-request options. */
export interface CallOptions {
  /** Aborts the request (and any retry wait). */
  signal?: AbortSignal;
}

/**
 * @example
 * const lease = await api.get({ ...leases, namespace: "metallb-system", name: "metallb-controller" });
 * await api.patch({ ...services, namespace: "default", name: "web" }, { metadata: { annotations: { a: "b" } } }, "merge");
 */
export interface KubeApi {
  get(ref: NamedRef, opts?: CallOptions): Promise<unknown>;
  /** Lists every page; each page's items are handed over as raw JSON. */
  list(ref: ObjectRef, options?: ListOptions, opts?: CallOptions): Promise<ListResult>;
  create(ref: ObjectRef, body: unknown, opts?: CallOptions): Promise<unknown>;
  replace(ref: NamedRef, body: unknown, opts?: CallOptions): Promise<unknown>;
  patch(ref: NamedRef, body: unknown, type: PatchType, opts?: CallOptions): Promise<unknown>;
  delete(ref: NamedRef, opts?: CallOptions): Promise<void>;
  /**
   * Watches from `options.resourceVersion` with bookmarks on, calling `onEvent` for each event in
   * order. Resolves when the server ends the stream normally; rejects with an ApiError when the
   * watch cannot start (410 included), or with the error that broke the stream. `signal` ends it.
   */
  watch(ref: ObjectRef, options: WatchOptions, onEvent: (event: WatchEvent) => void, signal: AbortSignal): Promise<void>;
  /** Closes pooled connections. */
  close(): Promise<void>;
}
