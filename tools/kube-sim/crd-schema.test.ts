import { afterEach, describe, expect, it } from "vitest";
import { ApiError } from "./api-error.ts";
import { applySchema, undeclaredApplyFields, unknownFieldPaths, type SchemaNode } from "./crd-schema.ts";
import type { KubeObject, ResourceType } from "./resources.ts";
import { createSimulatedCluster, type SimulatedCluster } from "./simulated-cluster.ts";

const poolSchema: SchemaNode = {
  type: "object",
  properties: {
    apiVersion: { type: "string" },
    kind: { type: "string" },
    metadata: { type: "object" },
    spec: {
      type: "object",
      required: ["addresses"],
      properties: {
        addresses: { type: "array", minItems: 1, items: { type: "string", pattern: "^[0-9a-f.:/-]+$" } },
        autoAssign: { type: "boolean", default: true },
        avoidBuggyIPs: { type: "boolean", default: false },
        mode: { type: "string", enum: ["layer2", "bgp"] },
        priority: { type: "integer", minimum: 0, maximum: 100 },
        extra: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
        labels: { type: "object", additionalProperties: { type: "string" } },
      },
    },
    status: { type: "object", properties: { assignedIPv4: { type: "integer" } } },
  },
};

let cluster: SimulatedCluster | undefined;
afterEach(() => cluster?.stop());

function withPoolCrd(): { cluster: SimulatedCluster; pools: ResourceType } {
  cluster = createSimulatedCluster({ endpointsController: false });
  cluster.state.create(cluster.types.crds, "", {
    metadata: { name: "ipaddresspools.metallb.io" },
    spec: {
      group: "metallb.io",
      scope: "Namespaced",
      names: { plural: "ipaddresspools", singular: "ipaddresspool", kind: "IPAddressPool" },
      versions: [{ name: "v1beta1", served: true, storage: true, subresources: { status: {} }, schema: { openAPIV3Schema: poolSchema } }],
    },
  });
  return { cluster, pools: cluster.state.registry.find("metallb.io", "v1beta1", "ipaddresspools")! };
}

function causesOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof ApiError && e.code === 422) return e.status.details!.causes!.map((c) => `${c.field}: ${c.message}`);
    throw e;
  }
  throw new Error("expected 422 Invalid");
}

describe("custom resource schemas", () => {
  it("prunes unknown fields, keeps preserved ones and fills defaults", () => {
    const { cluster, pools } = withPoolCrd();
    const created = cluster.state.create(pools, "default", {
      apiVersion: "metallb.io/v1beta1",
      kind: "IPAddressPool",
      metadata: { name: "lan" },
      spec: { addresses: ["192.0.2.0/28"], typo: true, extra: { anything: 1 }, labels: { a: "b" } },
      unknownTop: 1,
    }).object;
    expect(created.spec).toEqual({ addresses: ["192.0.2.0/28"], autoAssign: true, avoidBuggyIPs: false, extra: { anything: 1 }, labels: { a: "b" } });
    expect(created.unknownTop).toBeUndefined();
    expect(created.metadata.name).toBe("lan");
  });

  it("refuses objects that break the schema with apiserver-worded causes", () => {
    const { cluster, pools } = withPoolCrd();
    const create = (spec: unknown) => () => cluster.state.create(pools, "default", { apiVersion: "metallb.io/v1beta1", kind: "IPAddressPool", metadata: { name: "p" }, spec });
    expect(causesOf(create({}))).toEqual(["spec.addresses: Required value"]);
    expect(causesOf(create({ addresses: [] }))).toEqual(["spec.addresses: Invalid value: 0: spec.addresses in body should have at least 1 items"]);
    expect(causesOf(create({ addresses: ["192.0.2.0/28"], priority: "high" }))).toEqual([
      'spec.priority: Invalid value: "string": spec.priority in body must be of type integer: "string"',
    ]);
    expect(causesOf(create({ addresses: ["192.0.2.0/28"], priority: 101 }))).toEqual(["spec.priority: Invalid value: 101: spec.priority in body should be less than or equal to 100"]);
    expect(causesOf(create({ addresses: ["192.0.2.0/28"], mode: "ospf" }))).toEqual(['spec.mode: Unsupported value: "ospf": supported values: "layer2", "bgp"']);
    expect(causesOf(create({ addresses: ["not an address"] }))).toEqual([
      `spec.addresses[0]: Invalid value: "not an address": spec.addresses[0] in body should match '^[0-9a-f.:/-]+$'`,
    ]);
  });

  it("applies the schema to status writes too", () => {
    const { cluster, pools } = withPoolCrd();
    const p = cluster.state.create(pools, "default", { apiVersion: "metallb.io/v1beta1", kind: "IPAddressPool", metadata: { name: "p" }, spec: { addresses: ["192.0.2.0/28"] } }).object;
    const st = cluster.state.update(pools, "default", "p", { ...p, status: { assignedIPv4: 3, bogus: "x" } }, "status").object.object;
    expect(st.status).toEqual({ assignedIPv4: 3 });
    expect(causesOf(() => cluster.state.update(pools, "default", "p", { ...st, status: { assignedIPv4: "three" } }, "status"))).toEqual([
      'status.assignedIPv4: Invalid value: "string": status.assignedIPv4 in body must be of type integer: "string"',
    ]);
  });

  it("drops null in non-nullable fields before validation", () => {
    const obj: KubeObject = { metadata: { name: "p" }, spec: { addresses: ["10.0.0.1/32"], mode: null } };
    expect(applySchema(obj, poolSchema)).toEqual({
      object: { metadata: { name: "p" }, spec: { addresses: ["10.0.0.1/32"], autoAssign: true, avoidBuggyIPs: false } },
      causes: [],
    });
  });

  it("reports the fields it prunes, sorted, in the decoder's spelling", () => {
    const obj: KubeObject = {
      apiVersion: "metallb.io/v1beta1",
      kind: "IPAddressPool",
      metadata: { name: "p", clusterName: "old", labels: { a: "b" } },
      spec: { addresses: ["10.0.0.1/32"], adresses: [], extra: { free: { form: 1 } }, labels: { any: "key" } },
      status: { assignedIPv4: 1, assigned: 2 },
      specc: {},
    };
    expect(unknownFieldPaths(obj, poolSchema)).toEqual(["metadata.clusterName", "spec.adresses", "specc", "status.assigned"]);
    expect(unknownFieldPaths({ metadata: { name: "p" }, spec: { addresses: ["10.0.0.1/32"] } }, poolSchema)).toEqual([]);
  });

  it("names list items by index for decoding, and by their map keys for server-side apply", () => {
    const schema: SchemaNode = {
      type: "object",
      properties: {
        status: {
          type: "object",
          properties: {
            conditions: {
              type: "array",
              "x-kubernetes-list-type": "map",
              "x-kubernetes-list-map-keys": ["type"],
              items: { type: "object", properties: { type: { type: "string" }, status: { type: "string" } } },
            },
          },
        },
      },
    };
    const obj: KubeObject = { metadata: { name: "p" }, status: { conditions: [{ type: "Ready", status: "True", stauts: "x" }] } };
    expect(unknownFieldPaths(obj, schema)).toEqual(["status.conditions[0].stauts"]);
    expect(undeclaredApplyFields(obj, schema)).toEqual(['.status.conditions[type="Ready"].stauts']);
  });
});
