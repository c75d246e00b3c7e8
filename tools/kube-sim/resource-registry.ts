/**
 * The resource types currently served: the built-in ones plus those defined by stored CustomResourceDefinitions.
 * Routing, discovery and OpenAPI read `all()` on every request, so a CRD becomes served as soon as it is stored.
 *
 * @example
 * const reg = new ResourceRegistry(builtinResources);
 * reg.find("", "v1", "services")?.kind; // "Service"
 */
import type { ResourceType } from "./resources.ts";

/** Lookup of served resource types by URL coordinates and by kind. */
export class ResourceRegistry {
  readonly #builtins: readonly ResourceType[];
  readonly #custom = new Map<string, readonly ResourceType[]>();
  #all: readonly ResourceType[];
  #byPath = new Map<string, ResourceType>();

  constructor(builtins: readonly ResourceType[]) {
    this.#builtins = builtins;
    this.#all = builtins;
    this.#reindex();
  }

  /** Every served resource type (built-in first, then custom), stable until the next CRD change. */
  all(): readonly ResourceType[] {
    return this.#all;
  }

  /** The type served at /api(s)/<group>/<version>/<plural>, if any. */
  find(group: string, version: string, plural: string): ResourceType | undefined {
    return this.#byPath.get(`${group}/${version}/${plural}`);
  }

  /** True when some version of `group` is served (used to tell 404 reasons apart). */
  servesGroupVersion(group: string, version: string): boolean {
    return this.#all.some((r) => r.group === group && r.version === version);
  }

  /** Replaces the types defined by the CRD named `crdName` (an empty list removes them). */
  setCustom(crdName: string, types: readonly ResourceType[]): void {
    if (types.length === 0) this.#custom.delete(crdName);
    else this.#custom.set(crdName, types);
    this.#all = [...this.#builtins, ...[...this.#custom.values()].flat()];
    this.#reindex();
  }

  #reindex(): void {
    const byPath = new Map<string, ResourceType>();
    for (const r of this.#all) {
      const key = `${r.group}/${r.version}/${r.plural}`;
      if (!byPath.has(key)) byPath.set(key, r);
    }
    this.#byPath = byPath;
  }
}
