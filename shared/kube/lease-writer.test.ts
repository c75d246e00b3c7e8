import { describe, expect, it } from "vitest";
import { ApiError } from "./client/api-error.ts";
import type { KubeApi, NamedRef, ObjectRef } from "./client/kube-api.ts";
import { createLease, getLease, heldLeaseSpec, releasedLeaseSpec, replaceLease } from "./lease-writer.ts";

const t0 = new Date("2026-11-29T21:50:00.123Z");
const t1 = new Date("2026-11-29T21:50:02.456Z");
const ref = { namespace: "metallb-system", name: "baremetal-lb-controller" };

describe("the spec of a held Lease", () => {
  const cases: [string, Parameters<typeof heldLeaseSpec>[0], string, object][] = [
    [
      "a new Lease: acquired now, no transition yet",
      undefined,
      "a",
      { holderIdentity: "a", leaseDurationSeconds: 15, acquireTime: "2026-11-29T21:50:02.456000Z", renewTime: "2026-11-29T21:50:02.456000Z", leaseTransitions: 0 },
    ],
    [
      "renewed by its holder: acquireTime and transitions kept",
      { holderIdentity: "a", acquireTime: "2026-11-29T21:50:00.123000Z", renewTime: "2026-11-29T21:50:01.000000Z", leaseTransitions: 2, leaseDurationSeconds: 15 },
      "a",
      { holderIdentity: "a", leaseDurationSeconds: 15, acquireTime: "2026-11-29T21:50:00.123000Z", renewTime: "2026-11-29T21:50:02.456000Z", leaseTransitions: 2 },
    ],
    [
      "taken over from another holder: acquired now, one more transition",
      { holderIdentity: "b", acquireTime: "2026-11-29T21:50:00.123000Z", leaseTransitions: 2, leaseDurationSeconds: 15 },
      "a",
      { holderIdentity: "a", leaseDurationSeconds: 15, acquireTime: "2026-11-29T21:50:02.456000Z", renewTime: "2026-11-29T21:50:02.456000Z", leaseTransitions: 3 },
    ],
    [
      "taken after a release (no holder): a transition too, as client-go counts it",
      { holderIdentity: "", leaseDurationSeconds: 1 },
      "a",
      { holderIdentity: "a", leaseDurationSeconds: 15, acquireTime: "2026-11-29T21:50:02.456000Z", renewTime: "2026-11-29T21:50:02.456000Z", leaseTransitions: 1 },
    ],
  ];
  for (const [name, previous, holder, expected] of cases) {
    it(name, () => expect(heldLeaseSpec(previous, holder, 15, t1)).toEqual(expected));
  }
});

describe("the spec of a released Lease", () => {
  it("has no holder and a 1 s duration, renewed now, with acquireTime and transitions kept", () => {
    const held = { holderIdentity: "a", acquireTime: "2026-11-29T21:50:00.123000Z", renewTime: "2026-11-29T21:50:00.123000Z", leaseTransitions: 4, leaseDurationSeconds: 15 };
    expect(releasedLeaseSpec(held, t1)).toEqual({
      holderIdentity: "",
      leaseDurationSeconds: 1,
      acquireTime: "2026-11-29T21:50:00.123000Z",
      renewTime: "2026-11-29T21:50:02.456000Z",
      leaseTransitions: 4,
    });
  });
});

/** A KubeApi holding one Lease in memory, with resourceVersion checks, recording each call. */
function fakeApi(initial?: Record<string, unknown>) {
  let stored = initial ? structuredClone(initial) : undefined;
  let rv = 1;
  const calls: { verb: string; ref: ObjectRef; body?: unknown }[] = [];
  const notFound = () => new ApiError("GET", "/leases", 404, JSON.stringify({ reason: "NotFound", message: "not found" }));
  const api: Partial<KubeApi> = {
    async get(r: NamedRef) {
      calls.push({ verb: "get", ref: r });
      if (!stored) throw notFound();
      return structuredClone(stored);
    },
    async create(r: ObjectRef, body: unknown) {
      calls.push({ verb: "create", ref: r, body });
      if (stored) throw new ApiError("POST", "/leases", 409, JSON.stringify({ reason: "AlreadyExists" }));
      const o = structuredClone(body) as { metadata: Record<string, unknown> };
      o.metadata.resourceVersion = String(rv++);
      stored = o;
      return structuredClone(stored);
    },
    async replace(r: NamedRef, body: unknown) {
      calls.push({ verb: "replace", ref: r, body });
      const o = structuredClone(body) as { metadata: Record<string, unknown> };
      if (!stored) throw notFound();
      if (o.metadata.resourceVersion !== (stored.metadata as Record<string, unknown>).resourceVersion) {
        throw new ApiError("PUT", "/leases", 409, JSON.stringify({ reason: "Conflict" }));
      }
      o.metadata.resourceVersion = String(rv++);
      stored = o;
      return structuredClone(stored);
    },
  };
  return { api: api as KubeApi, calls, stored: () => stored };
}

describe("writing a Lease", () => {
  it("reads a missing Lease as undefined and creates it with the spec and metadata given", async () => {
    const { api, stored } = fakeApi();
    expect(await getLease(api, ref)).toBeUndefined();
    const created = await createLease(api, ref, heldLeaseSpec(undefined, "a", 15, t0), { labels: { app: "x" } });
    expect(created.lease.spec).toMatchObject({ holderIdentity: "a", leaseTransitions: 0 });
    expect(stored()).toEqual({
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: { name: ref.name, namespace: ref.namespace, labels: { app: "x" }, resourceVersion: "1" },
      spec: { holderIdentity: "a", leaseDurationSeconds: 15, acquireTime: "2026-11-29T21:50:00.123000Z", renewTime: "2026-11-29T21:50:00.123000Z", leaseTransitions: 0 },
    });
  });

  it("replaces as of the resourceVersion read, keeping the fields it does not write (other annotations, spec.strategy)", async () => {
    const { api, stored } = fakeApi({
      metadata: { name: ref.name, namespace: ref.namespace, resourceVersion: "7", annotations: { "example.com/x": "y", "baremetal-lb.io/a": "1" }, labels: { l: "v" } },
      spec: { holderIdentity: "b", leaseDurationSeconds: 15, strategy: "OldestEmulationVersion", leaseTransitions: 1 },
    });
    const read = (await getLease(api, ref))!;
    await replaceLease(api, read, heldLeaseSpec(read.lease.spec, "a", 15, t1), { annotations: { "baremetal-lb.io/a": "2" } });
    expect(stored()).toMatchObject({
      metadata: { resourceVersion: "1", annotations: { "example.com/x": "y", "baremetal-lb.io/a": "2" }, labels: { l: "v" } },
      spec: { holderIdentity: "a", strategy: "OldestEmulationVersion", leaseTransitions: 2 },
    });
  });

  it("fails with 409 when the Lease changed since it was read", async () => {
    const { api } = fakeApi({ metadata: { name: ref.name, namespace: ref.namespace, resourceVersion: "7" }, spec: { holderIdentity: "a" } });
    const read = (await getLease(api, ref))!;
    await replaceLease(api, read, heldLeaseSpec(read.lease.spec, "a", 15, t1));
    await expect(replaceLease(api, read, heldLeaseSpec(read.lease.spec, "a", 15, t1))).rejects.toMatchObject({ code: 409 });
  });
});
