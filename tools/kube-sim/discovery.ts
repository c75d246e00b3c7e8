/**
 * API discovery documents built from the resource registry: `/version`, aggregated discovery (`/api`, `/apis` with
 * the apidiscovery.k8s.io/v2 Accept) and legacy discovery (APIVersions, APIGroupList, APIGroup, APIResourceList).
 *
 * kubectl 1.32 asks for aggregated discovery first and needs the exact Content-Type
 * {@link AGGREGATED_DISCOVERY_CONTENT_TYPE}; it resolves short names ("svc") from `shortNames` and `get all`
 * from `categories`.
 *
 * @example
 * res.setHeader("content-type", AGGREGATED_DISCOVERY_CONTENT_TYPE);
 * res.end(JSON.stringify(aggregatedDiscovery(builtinResources, "groups")));
 */
import { apiVersionOf, type ResourceType } from "./resources.ts";

/** Content-Type of an aggregated discovery answer; kubectl ignores the body under any other type. */
export const AGGREGATED_DISCOVERY_CONTENT_TYPE = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

const KUBE_VERSION = "v1.32.4";

/**
 * The `/version` body. Minor "32" makes the gcloud kubectl dispatcher run its kubectl 1.32.
 *
 * @example
 * versionInfo(); // { major: "1", minor: "32", gitVersion: "v1.32.4", ... }
 */
export function versionInfo(): object {
  return {
    major: "1",
    minor: "32",
    gitVersion: KUBE_VERSION,
    gitCommit: "0000000000000000000000000000000000000000",
    gitTreeState: "clean",
    buildDate: "2025-01-01T00:00:00Z",
    goVersion: "go1.23.0",
    compiler: "gc",
    platform: "linux/amd64",
  };
}

const COLLECTION_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

/** Verbs of a subresource, as kube-apiserver reports them. */
function subresourceVerbs(subresource: string): string[] {
  return subresource === "finalize" ? ["update"] : ["get", "patch", "update"];
}

function scopeOf(r: ResourceType): "Namespaced" | "Cluster" {
  return r.namespaced ? "Namespaced" : "Cluster";
}

/** Group-versions in registry order, each with its resources; the core group comes out as "". */
function groupVersions(resources: readonly ResourceType[]): Map<string, Map<string, ResourceType[]>> {
  const groups = new Map<string, Map<string, ResourceType[]>>();
  for (const r of resources) {
    let versions = groups.get(r.group);
    if (versions === undefined) groups.set(r.group, (versions = new Map()));
    let list = versions.get(r.version);
    if (list === undefined) versions.set(r.version, (list = []));
    list.push(r);
  }
  return groups;
}

function aggregatedResource(r: ResourceType): object {
  const responseKind = { group: r.group, version: r.version, kind: r.kind };
  const entry: Record<string, unknown> = {
    resource: r.plural,
    responseKind,
    scope: scopeOf(r),
    singularResource: r.singular,
    verbs: COLLECTION_VERBS,
  };
  if (r.shortNames?.length) entry.shortNames = r.shortNames;
  if (r.categories?.length) entry.categories = r.categories;
  if (r.subresources?.length) {
    entry.subresources = r.subresources.map((subresource) => ({
      subresource,
      responseKind,
      verbs: subresourceVerbs(subresource),
    }));
  }
  return entry;
}

/**
 * An apidiscovery.k8s.io/v2 APIGroupDiscoveryList: `which: "core"` answers `GET /api`, `"groups"` answers
 * `GET /apis` (every group but core).
 *
 * @example
 * aggregatedDiscovery(builtinResources, "core").items[0].versions[0].resources; // [{ resource: "namespaces", ... }, ...]
 */
export function aggregatedDiscovery(resources: readonly ResourceType[], which: "core" | "groups"): object {
  const items: object[] = [];
  for (const [group, versions] of groupVersions(resources)) {
    if ((group === "") !== (which === "core")) continue;
    items.push({
      metadata: group === "" ? {} : { name: group },
      versions: [...versions].map(([version, list]) => ({
        version,
        resources: list.map(aggregatedResource),
        freshness: "Current",
      })),
    });
  }
  return { kind: "APIGroupDiscoveryList", apiVersion: "apidiscovery.k8s.io/v2", metadata: {}, items };
}

function groupEntry(group: string, versions: Iterable<string>): object {
  const list = [...versions].map((version) => ({ groupVersion: `${group}/${version}`, version }));
  return { name: group, versions: list, preferredVersion: list[0] };
}

function resourceList(group: string, version: string, list: readonly ResourceType[]): object {
  const entries: object[] = [];
  for (const r of list) {
    const entry: Record<string, unknown> = {
      name: r.plural,
      singularName: r.singular,
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: COLLECTION_VERBS,
    };
    if (r.shortNames?.length) entry.shortNames = r.shortNames;
    if (r.categories?.length) entry.categories = r.categories;
    entries.push(entry);
    for (const sub of r.subresources ?? []) {
      entries.push({
        name: `${r.plural}/${sub}`,
        singularName: "",
        namespaced: r.namespaced,
        kind: r.kind,
        verbs: subresourceVerbs(sub),
      });
    }
  }
  return {
    kind: "APIResourceList",
    apiVersion: "v1",
    groupVersion: apiVersionOf({ group, version }),
    resources: entries,
  };
}

/**
 * Legacy (unaggregated) discovery for `path`: APIVersions for `/api`, APIGroupList for `/apis`, APIGroup for
 * `/apis/<group>`, APIResourceList for `/api/v1` and `/apis/<group>/<version>`; undefined for any other path or
 * an unknown group-version (the server answers 404).
 *
 * @example
 * legacyDiscovery(builtinResources, "/apis/apps/v1"); // { kind: "APIResourceList", groupVersion: "apps/v1", ... }
 */
export function legacyDiscovery(resources: readonly ResourceType[], path: string): object | undefined {
  const groups = groupVersions(resources);
  const parts = path.split("/").filter((p) => p !== "");
  if (parts[0] === "api") {
    const core = groups.get("");
    if (parts.length === 1) {
      return { kind: "APIVersions", versions: [...(core?.keys() ?? [])], serverAddressByClientCIDRs: [] };
    }
    const list = parts.length === 2 ? core?.get(parts[1]) : undefined;
    return list === undefined ? undefined : resourceList("", parts[1], list);
  }
  if (parts[0] !== "apis") return undefined;
  if (parts.length === 1) {
    const entries = [...groups].filter(([group]) => group !== "").map(([group, versions]) => groupEntry(group, versions.keys()));
    return { kind: "APIGroupList", apiVersion: "v1", groups: entries };
  }
  const versions = groups.get(parts[1]);
  if (versions === undefined) return undefined;
  if (parts.length === 2) return { kind: "APIGroup", apiVersion: "v1", ...groupEntry(parts[1], versions.keys()) };
  const list = parts.length === 3 ? versions.get(parts[2]) : undefined;
  return list === undefined ? undefined : resourceList(parts[1], parts[2], list);
}
