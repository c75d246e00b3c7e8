/**
 * An informer's store: projected objects keyed by namespace and name, and what changed when an
 * object arrives, leaves, or a relist replaces them all. Pure: no I/O, no timers.
 */

/** What a cached projection must have: the metadata that keys it and tells versions apart. */
export interface Cached {
  readonly metadata?: { readonly name?: string; readonly namespace?: string; readonly resourceVersion?: string };
}

/** One change to report: the object (for a delete, its last known state) and the kind of change. */
export interface CacheChange<T> {
  readonly obj: T;
  readonly kind: "add" | "update" | "delete";
}

/**
 * @example
 * const cache = new ObjectCache<ServiceObject>();
 * cache.upsert(projectService(raw));          // "add"
 * cache.get("web", "default")?.spec.type;     // "LoadBalancer"
 * cache.replace(relisted);                    // [{ obj, kind: "delete" }, …] for what the relist no longer has
 */
export class ObjectCache<T extends Cached> {
  /** namespace ("" for cluster-scoped) → name → object. */
  readonly #byNamespace = new Map<string, Map<string, T>>();
  #size = 0;

  get(name: string, namespace?: string): T | undefined {
    return this.#byNamespace.get(namespace ?? "")?.get(name);
  }

  /** Every object, or those of one namespace ("" or undefined: every object). */
  list(namespace?: string): T[] {
    if (namespace) return [...(this.#byNamespace.get(namespace)?.values() ?? [])];
    const out: T[] = [];
    for (const objects of this.#byNamespace.values()) for (const o of objects.values()) out.push(o);
    return out;
  }

  get size(): number {
    return this.#size;
  }

  /**
   * Stores `obj`: "add" when new, "update" when its resourceVersion differs from the cached one,
   * undefined when nothing changed (or it has no name).
   */
  upsert(obj: T): "add" | "update" | undefined {
    const name = obj.metadata?.name;
    if (name === undefined) return undefined;
    const ns = obj.metadata?.namespace ?? "";
    let objects = this.#byNamespace.get(ns);
    if (!objects) this.#byNamespace.set(ns, (objects = new Map()));
    const old = objects.get(name);
    if (old && old.metadata?.resourceVersion !== undefined && old.metadata.resourceVersion === obj.metadata?.resourceVersion) return undefined;
    objects.set(name, obj);
    if (old) return "update";
    this.#size++;
    return "add";
  }

  /** Removes the object with `obj`'s namespace and name; returns the removed one, or undefined. */
  remove(obj: T): T | undefined {
    const name = obj.metadata?.name;
    if (name === undefined) return undefined;
    const ns = obj.metadata?.namespace ?? "";
    const objects = this.#byNamespace.get(ns);
    const old = objects?.get(name);
    if (!objects || !old) return undefined;
    objects.delete(name);
    if (objects.size === 0) this.#byNamespace.delete(ns);
    this.#size--;
    return old;
  }

  /**
   * Makes the cache hold exactly `objects` (a relist) and returns the changes: adds, updates (only
   * where the resourceVersion changed) and deletes of cached objects the list no longer has.
   */
  replace(objects: Iterable<T>): CacheChange<T>[] {
    const changes: CacheChange<T>[] = [];
    const seen = new Map<string, Set<string>>();
    for (const obj of objects) {
      const name = obj.metadata?.name;
      if (name === undefined) continue;
      const ns = obj.metadata?.namespace ?? "";
      let names = seen.get(ns);
      if (!names) seen.set(ns, (names = new Set()));
      names.add(name);
      const kind = this.upsert(obj);
      if (kind) changes.push({ obj, kind });
    }
    for (const [ns, cached] of [...this.#byNamespace]) {
      const names = seen.get(ns);
      for (const [name, obj] of [...cached]) {
        if (names?.has(name)) continue;
        this.remove(obj);
        changes.push({ obj, kind: "delete" });
      }
    }
    return changes;
  }
}
