import { describe, expect, it } from "vitest";
import { aggregatedDiscovery, legacyDiscovery, versionInfo } from "./discovery.ts";
import { builtinResources, type ResourceType } from "./resources.ts";

interface AggregatedResource {
  resource: string;
  responseKind: { group: string; version: string; kind: string };
  scope: string;
  singularResource: string;
  verbs: string[];
  shortNames?: string[];
  categories?: string[];
  subresources?: { subresource: string; responseKind: object; verbs: string[] }[];
}
interface AggregatedList {
  kind: string;
  apiVersion: string;
  items: { metadata: { name?: string }; versions: { version: string; resources: AggregatedResource[]; freshness: string }[] }[];
}

const widget: ResourceType = { group: "example.com", version: "v1", kind: "Widget", plural: "widgets", singular: "widget", namespaced: true, custom: true };

describe("versionInfo", () => {
  it("reports Kubernetes 1.32 so the kubectl dispatcher runs kubectl 1.32", () => {
    expect(versionInfo()).toMatchObject({ major: "1", minor: "32", gitVersion: expect.stringMatching(/^v1\.32\./) });
  });
});

describe("aggregatedDiscovery", () => {
  it("lists the core resources with scope, short names, categories and subresources", () => {
    const list = aggregatedDiscovery(builtinResources, "core") as AggregatedList;
    expect(list.kind).toBe("APIGroupDiscoveryList");
    expect(list.apiVersion).toBe("apidiscovery.k8s.io/v2");
    expect(list.items).toHaveLength(1);
    const [v1] = list.items[0].versions;
    expect(v1.version).toBe("v1");
    expect(v1.freshness).toBe("Current");
    const services = v1.resources.find((r) => r.resource === "services");
    expect(services).toEqual({
      resource: "services",
      responseKind: { group: "", version: "v1", kind: "Service" },
      scope: "Namespaced",
      singularResource: "service",
      verbs: ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
      shortNames: ["svc"],
      categories: ["all"],
      subresources: [{ subresource: "status", responseKind: { group: "", version: "v1", kind: "Service" }, verbs: ["get", "patch", "update"] }],
    });
    expect(v1.resources.find((r) => r.resource === "nodes")?.scope).toBe("Cluster");
    expect(v1.resources.find((r) => r.resource === "namespaces")?.subresources?.map((s) => [s.subresource, s.verbs])).toEqual([
      ["status", ["get", "patch", "update"]],
      ["finalize", ["update"]],
    ]);
  });

  it("lists every named group, custom ones included, and never the core group", () => {
    const list = aggregatedDiscovery([...builtinResources, widget], "groups") as AggregatedList;
    const names = list.items.map((i) => i.metadata.name);
    expect(names).toContain("apps");
    expect(names).toContain("discovery.k8s.io");
    expect(names).toContain("example.com");
    expect(names).not.toContain(undefined);
    const apps = list.items.find((i) => i.metadata.name === "apps")!;
    expect(apps.versions[0].resources.map((r) => r.resource)).toEqual(["deployments", "daemonsets"]);
    const widgets = list.items.find((i) => i.metadata.name === "example.com")!.versions[0].resources[0];
    expect(widgets).toMatchObject({ resource: "widgets", scope: "Namespaced", responseKind: { group: "example.com", version: "v1", kind: "Widget" } });
    expect(widgets.shortNames).toBeUndefined();
  });
});

describe("legacyDiscovery", () => {
  it("answers /api with the core versions", () => {
    expect(legacyDiscovery(builtinResources, "/api")).toEqual({ kind: "APIVersions", versions: ["v1"], serverAddressByClientCIDRs: [] });
  });

  it("answers /apis with every group and its preferred version", () => {
    const list = legacyDiscovery(builtinResources, "/apis") as { kind: string; groups: { name: string; preferredVersion: object }[] };
    expect(list.kind).toBe("APIGroupList");
    expect(list.groups.find((g) => g.name === "apps")).toEqual({
      name: "apps",
      versions: [{ groupVersion: "apps/v1", version: "v1" }],
      preferredVersion: { groupVersion: "apps/v1", version: "v1" },
    });
    expect(list.groups.map((g) => g.name)).not.toContain("");
  });

  it("answers /apis/<group> with an APIGroup", () => {
    expect(legacyDiscovery(builtinResources, "/apis/coordination.k8s.io")).toMatchObject({ kind: "APIGroup", name: "coordination.k8s.io" });
  });

  it("answers /api/v1 with resources and their subresources", () => {
    const list = legacyDiscovery(builtinResources, "/api/v1/") as { kind: string; groupVersion: string; resources: { name: string; namespaced: boolean; kind: string; verbs: string[]; shortNames?: string[] }[] };
    expect(list.kind).toBe("APIResourceList");
    expect(list.groupVersion).toBe("v1");
    expect(list.resources.find((r) => r.name === "services")).toMatchObject({ namespaced: true, kind: "Service", shortNames: ["svc"] });
    expect(list.resources.find((r) => r.name === "services/status")).toMatchObject({ kind: "Service", verbs: ["get", "patch", "update"] });
  });

  it("answers /apis/<group>/<version> with that group's resources", () => {
    const list = legacyDiscovery(builtinResources, "/apis/discovery.k8s.io/v1") as { groupVersion: string; resources: { name: string }[] };
    expect(list.groupVersion).toBe("discovery.k8s.io/v1");
    expect(list.resources.map((r) => r.name)).toEqual(["endpointslices"]);
  });

  it("is undefined for unknown groups, versions and other paths", () => {
    for (const path of ["/api/v2", "/apis/nope.example.com", "/apis/apps/v9", "/apis/apps/v1/deployments", "/healthz", "/"]) {
      expect(legacyDiscovery(builtinResources, path), path).toBeUndefined();
    }
  });
});
