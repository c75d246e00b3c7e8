/**
 * The versioned object store: every object of every resource, one global resourceVersion counter, a bounded
 * history ring of change events for watch replay, and synchronous change listeners. It knows nothing about
 * Kubernetes semantics beyond "each write gets the next resourceVersion"; `operations.ts` decides what to write.
 *
 * Stored objects are never mutated after they are committed; their JSON text is encoded at most once and shared by
 * every response and watch event that carries that version.
 *
 * @example
 * const store = new Store();
 * const rv = store.nextResourceVersion();
 * store.commit("ADDED", "/services", { metadata: { name: "web", namespace: "x", resourceVersion: String(rv) } }, undefined, rv);
 */
import type { KubeObject } from "./resources.ts";

/** The watch event types a store change produces. */
export type ChangeType = "ADDED" | "MODIFIED" | "DELETED";

/** One committed object version with its lazily encoded JSON. */
export class StoredObject {
  readonly object: KubeObject;
  readonly resourceVersion: number;
  #json: string | undefined;

  constructor(object: KubeObject, resourceVersion: number) {
    this.object = object;
    this.resourceVersion = resourceVersion;
  }

  /** The object's JSON text, encoded once. */
  get json(): string {
    if (this.#json === undefined) this.#json = JSON.stringify(this.object);
    return this.#json;
  }
}

/** One change: what happened to which object at which resourceVersion. */
export class ChangeEvent {
  readonly type: ChangeType;
  /** Resource key, see `resourceKey`. */
  readonly resource: string;
  readonly namespace: string;
  readonly name: string;
  readonly resourceVersion: number;
  /** The object after the change (for DELETED: its last state, carrying the deletion's resourceVersion). */
  readonly current: StoredObject;
  /** The object before the change (undefined for ADDED). */
  readonly previous: StoredObject | undefined;
  #line: Buffer | undefined;

  constructor(
    type: ChangeType,
    resource: string,
    current: StoredObject,
    previous: StoredObject | undefined,
  ) {
    this.type = type;
    this.resource = resource;
    this.namespace = current.object.metadata.namespace ?? "";
    this.name = current.object.metadata.name ?? "";
    this.resourceVersion = current.resourceVersion;
    this.current = current;
    this.previous = previous;
  }

  /** The newline-terminated watch line `{"type":..,"object":..}` as UTF-8, encoded once and shared by all watchers. */
  get line(): Buffer {
    if (this.#line === undefined) this.#line = Buffer.from(`{"type":"${this.type}","object":${this.current.json}}\n`);
    return this.#line;
  }
}

/** The store key of a resource type: "<group>/<plural>". */
export function resourceKey(r: { group: string; plural: string }): string {
  return `${r.group}/${r.plural}`;
}

/** Listener for changes of one resource key; called synchronously inside `commit`. */
export type ChangeListener = (event: ChangeEvent) => void;

type Bucket = Map<string, Map<string, StoredObject>>;

/** In-memory, versioned, watchable object storage. */
export class Store {
  #rv = 0;
  readonly #data = new Map<string, Bucket>();
  readonly #history: (ChangeEvent | undefined)[];
  #historyStart = 0;
  #historyLength = 0;
  /** Events with resourceVersion <= this are no longer in history. */
  #compactedRv = 0;
  readonly #listeners = new Map<string, Set<ChangeListener>>();
  readonly #anyListeners = new Set<ChangeListener>();

  constructor(historySize = 10_000) {
    if (!Number.isInteger(historySize) || historySize < 1) throw new Error(`historySize must be a positive integer, got ${historySize}`);
    this.#history = new Array(historySize);
  }

  /** The latest committed resourceVersion. */
  get resourceVersion(): number {
    return this.#rv;
  }

  /** History older than or equal to this resourceVersion is gone (watch from older → 410). */
  get compactedResourceVersion(): number {
    return this.#compactedRv;
  }

  /** Reserves the next resourceVersion for a write about to be committed. */
  nextResourceVersion(): number {
    return ++this.#rv;
  }

  get(resource: string, namespace: string, name: string): StoredObject | undefined {
    return this.#data.get(resource)?.get(namespace)?.get(name);
  }

  /** Current objects of a resource, optionally only one namespace, in no particular order. */
  *list(resource: string, namespace?: string): IterableIterator<StoredObject> {
    const bucket = this.#data.get(resource);
    if (!bucket) return;
    if (namespace !== undefined) {
      const ns = bucket.get(namespace);
      if (ns) yield* ns.values();
      return;
    }
    for (const ns of bucket.values()) yield* ns.values();
  }

  /** Number of objects of a resource (optionally in one namespace). */
  count(resource: string, namespace?: string): number {
    const bucket = this.#data.get(resource);
    if (!bucket) return 0;
    if (namespace !== undefined) return bucket.get(namespace)?.size ?? 0;
    let n = 0;
    for (const ns of bucket.values()) n += ns.size;
    return n;
  }

  /** Resource keys that hold at least one object in `namespace`. */
  resourcesInNamespace(namespace: string): string[] {
    const out: string[] = [];
    for (const [key, bucket] of this.#data) if ((bucket.get(namespace)?.size ?? 0) > 0) out.push(key);
    return out;
  }

  /**
   * Commits a change. `object.metadata.resourceVersion` must already equal `String(rv)`, with `rv` from
   * `nextResourceVersion()`. Returns the stored version.
   */
  commit(type: ChangeType, resource: string, object: KubeObject, rv: number): ChangeEvent {
    const namespace = object.metadata.namespace ?? "";
    const name = object.metadata.name ?? "";
    let bucket = this.#data.get(resource);
    if (!bucket) {
      bucket = new Map();
      this.#data.set(resource, bucket);
    }
    let ns = bucket.get(namespace);
    if (!ns) {
      ns = new Map();
      bucket.set(namespace, ns);
    }
    const previous = ns.get(name);
    const stored = new StoredObject(object, rv);
    if (type === "DELETED") {
      ns.delete(name);
      if (ns.size === 0) bucket.delete(namespace);
    } else {
      ns.set(name, stored);
    }
    const event = new ChangeEvent(type, resource, stored, previous);
    this.#record(event);
    this.#listeners.get(resource)?.forEach((l) => l(event));
    this.#anyListeners.forEach((l) => l(event));
    return event;
  }

  #record(event: ChangeEvent): void {
    const cap = this.#history.length;
    if (this.#historyLength === cap) {
      const evicted = this.#history[this.#historyStart]!;
      this.#compactedRv = Math.max(this.#compactedRv, evicted.resourceVersion);
      this.#history[this.#historyStart] = event;
      this.#historyStart = (this.#historyStart + 1) % cap;
    } else {
      this.#history[(this.#historyStart + this.#historyLength) % cap] = event;
      this.#historyLength++;
    }
  }

  /** Forgets all history: any resourceVersion older than now is expired. */
  compact(): void {
    this.#history.fill(undefined);
    this.#historyStart = 0;
    this.#historyLength = 0;
    this.#compactedRv = this.#rv;
  }

  /**
   * Events with resourceVersion > `rv`, oldest first, for one resource (or all when `resource` is undefined).
   * Returns undefined when `rv` is older than the compaction point.
   */
  eventsSince(rv: number, resource?: string): ChangeEvent[] | undefined {
    if (rv < this.#compactedRv) return undefined;
    const cap = this.#history.length;
    const at = (i: number) => this.#history[(this.#historyStart + i) % cap]!;
    let lo = 0;
    let hi = this.#historyLength;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (at(mid).resourceVersion <= rv) lo = mid + 1;
      else hi = mid;
    }
    const out: ChangeEvent[] = [];
    for (let i = lo; i < this.#historyLength; i++) {
      const e = at(i);
      if (resource === undefined || e.resource === resource) out.push(e);
    }
    return out;
  }

  /**
   * The objects of `resource` (optionally one namespace) as they were at `rv`, or undefined when that point is
   * compacted away.
   */
  snapshotAt(resource: string, rv: number, namespace?: string): StoredObject[] | undefined {
    const later = this.eventsSince(rv, resource);
    if (later === undefined) return undefined;
    const state = new Map<string, StoredObject>();
    for (const o of this.list(resource, namespace)) state.set(`${o.object.metadata.namespace ?? ""}/${o.object.metadata.name}`, o);
    for (let i = later.length - 1; i >= 0; i--) {
      const e = later[i];
      if (namespace !== undefined && e.namespace !== namespace) continue;
      const key = `${e.namespace}/${e.name}`;
      if (e.type === "ADDED" || e.previous === undefined) state.delete(key);
      else state.set(key, e.previous);
    }
    return [...state.values()];
  }

  /** Subscribes to changes of one resource key; returns the unsubscribe function. */
  subscribe(resource: string, listener: ChangeListener): () => void {
    let set = this.#listeners.get(resource);
    if (!set) {
      set = new Set();
      this.#listeners.set(resource, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
    };
  }

  /** Subscribes to every change; returns the unsubscribe function. */
  subscribeAll(listener: ChangeListener): () => void {
    this.#anyListeners.add(listener);
    return () => {
      this.#anyListeners.delete(listener);
    };
  }
}
