import { afterEach, describe, expect, it } from "vitest";
import { eventually } from "../support/eventually.ts";
import { ApiError } from "./api-error.ts";
import type { KubeObject } from "./resources.ts";
import { createSimulatedCluster, type SimulatedCluster } from "./simulated-cluster.ts";

let cluster: SimulatedCluster;
afterEach(() => cluster?.stop());

function start(): SimulatedCluster {
  cluster = createSimulatedCluster({ namespaceTickMs: 5, endpointsController: false });
  return cluster;
}

function configMaps() {
  return cluster.state.registry.find("", "v1", "configmaps")!;
}

function apiError(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error("expected an ApiError, but the call succeeded");
}

const svcBody = (name: string, extra: Record<string, unknown> = {}): KubeObject => ({
  metadata: { name },
  spec: { ports: [{ port: 80 }], ...extra },
});

describe("create", () => {
  it("fills uid, creationTimestamp, generation 1, kind/apiVersion and a growing resourceVersion", () => {
    const { state, types } = start();
    const a = state.create(types.services, "default", svcBody("a"));
    const b = state.create(types.services, "default", svcBody("b"));
    expect(a.object).toMatchObject({ kind: "Service", apiVersion: "v1", metadata: { name: "a", namespace: "default", generation: 1 } });
    expect(a.object.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(a.object.metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(Number(b.object.metadata.resourceVersion)).toBeGreaterThan(Number(a.object.metadata.resourceVersion));
  });

  it("answers 409 AlreadyExists for an existing name", () => {
    const { state, types } = start();
    state.create(types.services, "default", svcBody("a"));
    const err = apiError(() => state.create(types.services, "default", svcBody("a")));
    expect(err.status).toMatchObject({ code: 409, reason: "AlreadyExists", message: 'services "a" already exists', details: { name: "a", kind: "services" } });
  });

  it("generates a name from generateName", () => {
    const { state } = start();
    const o = state.create(configMaps(), "default", { metadata: { generateName: "cfg-" } });
    expect(o.object.metadata.name).toMatch(/^cfg-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  });

  it("rejects a missing name and invalid names with 422 field causes", () => {
    const { state, types } = start();
    expect(apiError(() => state.create(configMaps(), "default", { metadata: {} })).status).toMatchObject({
      code: 422,
      reason: "Invalid",
      details: { causes: [{ field: "metadata.name", reason: "FieldValueRequired" }] },
    });
    const bad = apiError(() => state.create(configMaps(), "default", { metadata: { name: "Not_Valid" } }));
    expect(bad.status.details?.causes?.[0]).toMatchObject({ field: "metadata.name", reason: "FieldValueInvalid" });
    // Services need DNS-1035 labels: a leading digit is refused although a ConfigMap may have it.
    expect(apiError(() => state.create(types.services, "default", svcBody("1web"))).code).toBe(422);
    expect(state.create(configMaps(), "default", { metadata: { name: "1web" } }).object.metadata.name).toBe("1web");
  });

  it("rejects bad label keys and values", () => {
    start();
    const err = apiError(() => cluster.state.create(configMaps(), "default", { metadata: { name: "c", labels: { "bad key": "v", ok: "not valid!" } } }));
    expect(err.status.details?.causes?.map((c) => c.field)).toEqual(["metadata.labels", "metadata.labels"]);
  });

  it("answers 404 for a missing namespace and 403 for a terminating one", async () => {
    const { state, types } = start();
    expect(apiError(() => state.create(types.services, "nope", svcBody("a"))).status).toMatchObject({
      code: 404,
      reason: "NotFound",
      message: 'namespaces "nope" not found',
    });
    state.create(types.namespaces, "", { metadata: { name: "x" } });
    state.create(configMaps(), "x", { metadata: { name: "held", finalizers: ["example.com/hold"] } });
    state.delete(types.namespaces, "", "x");
    const err = apiError(() => state.create(types.services, "x", svcBody("a")));
    expect(err.status).toMatchObject({ code: 403, reason: "Forbidden" });
    expect(err.message).toContain("unable to create new content in namespace x because it is being terminated");
  });

  it("refuses a body whose namespace differs from the URL's", () => {
    const { state } = start();
    expect(apiError(() => state.create(configMaps(), "default", { metadata: { name: "c", namespace: "kube-system" } })).code).toBe(400);
  });
});

describe("update", () => {
  it("answers 409 Conflict for a stale resourceVersion and accepts an empty one", () => {
    const { state, types } = start();
    const created = state.create(types.services, "default", svcBody("web"));
    const first = state.update(types.services, "default", "web", { ...created.object, metadata: { ...created.object.metadata, labels: { a: "1" } } });
    const err = apiError(() => state.update(types.services, "default", "web", { ...created.object, metadata: { ...created.object.metadata, labels: { a: "2" } } }));
    expect(err.status).toMatchObject({
      code: 409,
      reason: "Conflict",
      message: 'Operation cannot be fulfilled on services "web": the object has been modified; please apply your changes to the latest version and try again',
    });
    const unconditional = state.update(types.services, "default", "web", {
      ...first.object.object,
      metadata: { ...first.object.object.metadata, resourceVersion: "", labels: { a: "3" } },
    });
    expect(unconditional.object.object.metadata.labels).toEqual({ a: "3" });
  });

  it("answers 404 NotFound for a missing object", () => {
    const { state, types } = start();
    expect(apiError(() => state.update(types.services, "default", "nope", svcBody("nope"))).status).toMatchObject({ code: 404, message: 'services "nope" not found' });
  });

  it("bumps generation on spec changes only", () => {
    const { state, types } = start();
    const v1 = state.create(types.services, "default", svcBody("web")).object;
    const labelled = state.update(types.services, "default", "web", { ...v1, metadata: { ...v1.metadata, labels: { a: "b" } } }).object.object;
    expect(labelled.metadata.generation).toBe(1);
    const spec = { ...(labelled.spec as object), sessionAffinity: "ClientIP" };
    const changed = state.update(types.services, "default", "web", { ...labelled, spec }).object.object;
    expect(changed.metadata.generation).toBe(2);
  });

  it("bumps generation on any non-metadata change for kinds without spec", () => {
    const { state } = start();
    const cm = state.create(configMaps(), "default", { metadata: { name: "c" }, data: { a: "1" } }).object;
    const next = state.update(configMaps(), "default", "c", { ...cm, data: { a: "2" } }).object.object;
    expect(next.metadata.generation).toBe(2);
  });

  it("writes nothing for an update that changes nothing", () => {
    const { state, types } = start();
    const v1 = state.create(types.services, "default", svcBody("web"));
    const rv = state.store.resourceVersion;
    const same = state.update(types.services, "default", "web", v1.object);
    expect(same.object).toBe(v1);
    expect(state.store.resourceVersion).toBe(rv);
  });

  it("ignores status on the main resource and everything but status on /status", () => {
    const { state, types } = start();
    const v1 = state.create(types.services, "default", svcBody("web", { type: "LoadBalancer" })).object;
    const ingress = { loadBalancer: { ingress: [{ ip: "192.0.2.10" }] } };
    const main = state.update(types.services, "default", "web", { ...v1, status: ingress, metadata: { ...v1.metadata, labels: { x: "y" } } }).object.object;
    expect(main.status).toEqual({ loadBalancer: {} });
    expect(main.metadata.labels).toEqual({ x: "y" });
    const viaStatus = state.update(
      types.services,
      "default",
      "web",
      { ...main, status: ingress, spec: { ...(main.spec as object), sessionAffinity: "ClientIP" }, metadata: { ...main.metadata, labels: {} } },
      "status",
    ).object.object;
    expect(viaStatus.status).toEqual({ loadBalancer: { ingress: [{ ip: "192.0.2.10", ipMode: "VIP" }] } });
    expect((viaStatus.spec as { sessionAffinity: string }).sessionAffinity).toBe("None");
    expect(viaStatus.metadata.labels).toEqual({ x: "y" });
    expect(viaStatus.metadata.generation).toBe(1);
  });

  it("creates on PUT only for kinds that allow it (Endpoints yes, Services no)", () => {
    const { state, types } = start();
    const r = state.update(types.endpoints, "default", "ep", { metadata: { name: "ep" } });
    expect(r.created).toBe(true);
    expect(apiError(() => state.update(types.services, "default", "web", svcBody("web"))).code).toBe(404);
  });
});

describe("delete", () => {
  it("removes an object without finalizers and returns its last state with a new resourceVersion", () => {
    const { state, types } = start();
    const v1 = state.create(types.services, "default", svcBody("web"));
    const gone = state.delete(types.services, "default", "web");
    expect(Number(gone.object.metadata.resourceVersion)).toBeGreaterThan(Number(v1.object.metadata.resourceVersion));
    expect(state.find(types.services, "default", "web")).toBeUndefined();
    expect(apiError(() => state.delete(types.services, "default", "web")).code).toBe(404);
  });

  it("keeps an object with finalizers until the last one is removed", () => {
    const { state } = start();
    state.create(configMaps(), "default", { metadata: { name: "c", finalizers: ["example.com/a", "example.com/b"] } });
    const marked = state.delete(configMaps(), "default", "c").object;
    expect(marked.metadata.deletionTimestamp).toBeDefined();
    expect(marked.metadata.generation).toBe(2);
    expect(state.delete(configMaps(), "default", "c").object).toBe(marked); // deleting again changes nothing
    const err = apiError(() =>
      state.update(configMaps(), "default", "c", { ...marked, metadata: { ...marked.metadata, finalizers: ["example.com/a", "example.com/b", "example.com/c"] } }),
    );
    expect(err.status.details?.causes?.[0]).toMatchObject({ field: "metadata.finalizers", reason: "FieldValueForbidden" });
    const one = state.update(configMaps(), "default", "c", { ...marked, metadata: { ...marked.metadata, finalizers: ["example.com/b"] } }).object.object;
    expect(state.find(configMaps(), "default", "c")).toBeDefined();
    const events: string[] = [];
    state.store.subscribe("/configmaps", (e) => events.push(e.type));
    state.update(configMaps(), "default", "c", { ...one, metadata: { ...one.metadata, finalizers: [] } });
    expect(state.find(configMaps(), "default", "c")).toBeUndefined();
    expect(events).toEqual(["DELETED"]);
  });

  it("honours uid and resourceVersion preconditions", () => {
    const { state } = start();
    state.create(configMaps(), "default", { metadata: { name: "c" } });
    expect(apiError(() => state.delete(configMaps(), "default", "c", { preconditions: { uid: "other" } })).code).toBe(409);
    expect(apiError(() => state.delete(configMaps(), "default", "c", { preconditions: { resourceVersion: "1" } })).code).toBe(409);
  });

  it("terminates a namespace: contents stay reachable, then everything and the namespace are gone", async () => {
    const { state, types } = start();
    state.create(types.namespaces, "", { metadata: { name: "x" } });
    state.create(types.services, "x", svcBody("web"));
    state.create(configMaps(), "x", { metadata: { name: "held", finalizers: ["example.com/hold"] } });
    const ns = state.delete(types.namespaces, "", "x").object;
    expect(ns.status).toEqual({ phase: "Terminating" });
    expect(ns.metadata.deletionTimestamp).toBeDefined();
    expect(state.find(types.services, "x", "web")).toBeDefined();
    await eventually(() => state.find(types.services, "x", "web") === undefined, { ms: 2_000, what: "the namespace controller to delete the Service", everyMs: 5 });
    const held = state.get(configMaps(), "x", "held").object;
    expect(held.metadata.deletionTimestamp).toBeDefined();
    expect(state.find(types.namespaces, "", "x")).toBeDefined();
    state.update(configMaps(), "x", "held", { ...held, metadata: { ...held.metadata, finalizers: [] } });
    await eventually(() => state.find(types.namespaces, "", "x") === undefined, { ms: 2_000, what: "the namespace to be finalized", everyMs: 5 });
  });

  it("deletes a collection, marking objects with finalizers", () => {
    const { state } = start();
    state.create(configMaps(), "default", { metadata: { name: "a", labels: { app: "x" } } });
    state.create(configMaps(), "default", { metadata: { name: "b", labels: { app: "x" }, finalizers: ["example.com/f"] } });
    const out = state.deleteCollection(configMaps(), state.list(configMaps(), "default"));
    expect(out.map((o) => o.object.metadata.name).sort()).toEqual(["a", "b"]);
    expect(state.list(configMaps(), "default").map((o) => o.object.metadata.name)).toEqual(["b"]);
  });

  it("dry-run writes nothing", () => {
    const { state, types } = start();
    const rv = state.store.resourceVersion;
    const o = state.create(types.services, "default", svcBody("web"), { dryRun: true });
    expect(o.object.metadata.name).toBe("web");
    expect(state.find(types.services, "default", "web")).toBeUndefined();
    expect(state.store.resourceVersion).toBe(rv);
  });
});

describe("custom resources", () => {
  const crd = {
    metadata: { name: "widgets.example.com" },
    spec: {
      group: "example.com",
      scope: "Namespaced",
      names: { plural: "widgets", singular: "widget", kind: "Widget", shortNames: ["wd"] },
      versions: [{ name: "v1", served: true, storage: true, subresources: { status: {} }, schema: { openAPIV3Schema: { type: "object" } } }],
    },
  };

  it("serves a CRD's types as soon as it is stored, marks it Established, and removes them with it", async () => {
    const { state, types } = start();
    const stored = state.create(types.crds, "", structuredClone(crd)).object;
    expect((stored.status as { conditions: { type: string; status: string }[] }).conditions).toContainEqual(expect.objectContaining({ type: "Established", status: "True" }));
    const widgets = state.registry.find("example.com", "v1", "widgets");
    expect(widgets).toMatchObject({ kind: "Widget", namespaced: true, custom: true, hasStatus: true });
    state.create(widgets!, "default", { metadata: { name: "w1" }, spec: { size: 1 }, status: { ready: true } });
    expect(state.get(widgets!, "default", "w1").object.status).toBeUndefined();
    state.delete(types.crds, "", "widgets.example.com");
    await eventually(() => state.find(types.crds, "", "widgets.example.com") === undefined, { ms: 2_000, what: "the CRD to be cleaned up", everyMs: 5 });
    expect(state.registry.find("example.com", "v1", "widgets")).toBeUndefined();
    expect(state.store.count("example.com/widgets")).toBe(0);
  });

  it("refuses a CRD whose name is not plural.group", () => {
    const { state, types } = start();
    const err = apiError(() => state.create(types.crds, "", { ...structuredClone(crd), metadata: { name: "wrong.example.com" } }));
    expect(err.status.details?.causes?.[0]).toMatchObject({ field: "metadata.name" });
  });
});

describe("decoding like kube-apiserver", () => {
  it("refuses Lease times without exactly six fractional digits (a JavaScript toISOString value) with 400", () => {
    const { state } = start();
    const leases = state.registry.find("coordination.k8s.io", "v1", "leases")!;
    const err = apiError(() => state.create(leases, "default", { metadata: { name: "l" }, spec: { holderIdentity: "a", renewTime: "2024-05-01T10:00:00.123Z" } }));
    expect(err.status).toMatchObject({ code: 400, reason: "BadRequest" });
    expect(err.message).toBe(
      'Lease in version "v1" cannot be handled as a Lease: parsing time "2024-05-01T10:00:00.123Z" as "2006-01-02T15:04:05.000000Z07:00": cannot parse ".123Z" as ".000000"',
    );
    const ok = state.create(leases, "default", { metadata: { name: "l" }, spec: { holderIdentity: "a", leaseDurationSeconds: 10, renewTime: "2024-05-01T10:00:00.123000Z" } });
    expect(ok.object.metadata.name).toBe("l");
    expect(apiError(() => state.patch(leases, "default", "l", "application/merge-patch+json", '{"spec":{"leaseDurationSeconds":"10"}}')).code).toBe(400);
  });
});

