/**
 * The namespace controller: once a namespace is Terminating, it deletes everything inside it (a short tick later,
 * so the contents stay reachable meanwhile), waits for objects held by finalizers, then removes the `kubernetes`
 * finalizer through /finalize, which lets the namespace itself go.
 *
 * @example
 * const stop = runNamespaceController(state, { tickMs: 100 });
 */
import type { ClusterState } from "./cluster-state.ts";
import type { ResourceType } from "./resources.ts";
import { resourceKey } from "./store.ts";

/** Options of the namespace controller. */
export interface NamespaceControllerOptions {
  /** Delay before (and between) cleanup passes, in milliseconds. */
  tickMs?: number;
}

/** Starts the namespace controller; returns the function that stops it. */
export function runNamespaceController(state: ClusterState, opts: NamespaceControllerOptions = {}): () => void {
  const tickMs = opts.tickMs ?? 100;
  const namespaces = state.registry.find("", "v1", "namespaces");
  if (!namespaces) throw new Error("the Namespace type is missing from the built-in resources");
  const terminating = new Set<string>();
  let timer: NodeJS.Timeout | undefined;

  const typeOfKey = (key: string): ResourceType | undefined => state.registry.all().find((r) => resourceKey(r) === key);

  const pass = () => {
    timer = undefined;
    for (const ns of [...terminating]) {
      const stored = state.find(namespaces, "", ns);
      if (!stored || stored.object.metadata.deletionTimestamp === undefined) {
        terminating.delete(ns);
        continue;
      }
      for (const key of state.store.resourcesInNamespace(ns)) {
        const type = typeOfKey(key);
        if (!type) continue;
        for (const o of state.list(type, ns)) {
          if (o.object.metadata.deletionTimestamp === undefined) state.delete(type, ns, o.object.metadata.name ?? "");
        }
      }
      if (state.store.resourcesInNamespace(ns).length > 0) continue;
      const spec = (stored.object.spec ?? {}) as { finalizers?: string[] };
      const finalizers = (spec.finalizers ?? []).filter((f) => f !== "kubernetes");
      state.update(namespaces, "", ns, { ...stored.object, spec: { ...spec, finalizers } }, "finalize");
      terminating.delete(ns);
    }
    if (terminating.size > 0) timer = setTimeout(pass, tickMs);
  };

  const unsubscribe = state.store.subscribe(resourceKey(namespaces), (e) => {
    if (e.type === "DELETED" || e.current.object.metadata.deletionTimestamp === undefined) return;
    if (terminating.has(e.name)) return;
    terminating.add(e.name);
    timer ??= setTimeout(pass, tickMs);
  });
  return () => {
    unsubscribe();
    if (timer) clearTimeout(timer);
  };
}
