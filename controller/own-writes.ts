/**
 * Tells the informer events that only echo the controller's own Service writes from those that
 * need a reconcile. Each allocation writes a Service twice (pool annotation, then status), and the
 * watch sends both new versions back; reconciling them again would find nothing to do, at the cost
 * of a third of the controller's work per Service. Pure; the controller feeds it the informer's
 * events and its writes' results.
 *
 * A version is an echo when our write produced it from the version the reconcile read, with
 * resourceVersion preconditions and no conflict (service-writer.ts): it differs from what was
 * reconciled only by what we wrote. Every other event (another writer's version, an add, a delete,
 * any event after a conflict) still reconciles, and so do the other triggers (config, Namespace and
 * Node changes), which do not pass through here: reconciling stays level-triggered, as with
 * controller-runtime's predicates.
 *
 * @example
 * own.begin("default/web");
 * own.needsReconcile("default/web", "update", "41"); // false: held until the write ends
 * own.end("default/web", ["41", "42"]);               // false: "41" was ours
 * own.needsReconcile("default/web", "update", "42"); // false: ours too
 * own.needsReconcile("default/web", "update", "43"); // true: someone else's
 */
export class OwnWrites {
  /** Keys being written, with the versions heard meanwhile. */
  private readonly writing = new Map<string, string[]>();
  /** Versions our finished writes produced and the watch has not sent yet, oldest first. */
  private readonly echoes = new Map<string, readonly string[]>();

  /** A reconcile of `key` is about to write: its earlier echoes are moot, and events are held until {@link end}. */
  begin(key: string): void {
    this.echoes.delete(key);
    this.writing.set(key, []);
  }

  /**
   * The write of `key` ended: `versions` are those it produced without conflict (empty after a
   * conflict or a failure). Returns true when a version heard meanwhile was not ours: the caller
   * must queue the key again.
   */
  end(key: string, versions: readonly string[]): boolean {
    const heard = this.writing.get(key) ?? [];
    this.writing.delete(key);
    if (heard.some((rv) => !versions.includes(rv))) return true;
    const last = heard.length > 0 ? versions.indexOf(heard[heard.length - 1]) : -1;
    const remaining = versions.slice(last + 1);
    if (remaining.length > 0) this.echoes.set(key, remaining);
    return false;
  }

  /** Whether an informer event for `key`'s Service, now at `resourceVersion`, needs a reconcile. */
  needsReconcile(key: string, kind: "add" | "update" | "delete", resourceVersion: string | undefined): boolean {
    const heard = this.writing.get(key);
    if (heard !== undefined) {
      if (kind !== "update" || resourceVersion === undefined) return true;
      heard.push(resourceVersion);
      return false;
    }
    const echoes = this.echoes.get(key);
    if (echoes === undefined) return true;
    const at = kind === "update" && resourceVersion !== undefined ? echoes.indexOf(resourceVersion) : -1;
    if (at < 0 || at === echoes.length - 1) this.echoes.delete(key);
    else this.echoes.set(key, echoes.slice(at + 1));
    return at < 0;
  }

  /** Forgets `key` (its Service is gone or no longer ours). */
  forget(key: string): void {
    this.echoes.delete(key);
  }
}
