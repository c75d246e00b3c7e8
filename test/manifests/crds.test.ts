import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { applySchema, unknownFieldPaths, type SchemaNode } from "../../tools/kube-sim/crd-schema.ts";
import type { KubeObject } from "../../tools/kube-sim/resources.ts";
import { installFiles, loadManifests, manifestsDir, type ManifestObject } from "../../tools/lab/load-manifests.ts";

interface Column {
  name: string;
  type: string;
  jsonPath: string;
  priority?: number;
}

interface Crd extends ManifestObject {
  spec: {
    group: string;
    scope: string;
    names: { kind: string; listKind: string; plural: string; singular: string; shortNames?: string[] };
    versions: {
      name: string;
      served: boolean;
      storage: boolean;
      subresources?: { status?: object; scale?: object };
      additionalPrinterColumns?: Column[];
      schema: { openAPIV3Schema: SchemaNode };
    }[];
  };
}

const crdFile = join(manifestsDir, "01-crds.yaml");

/** The printer columns of MetalLB's CRDs (config/crd/bases/metallb.io_*.yaml, v0.16). */
const metallbColumns: Record<string, Column[]> = {
  IPAddressPool: [
    { jsonPath: ".spec.autoAssign", name: "Auto Assign", type: "boolean" },
    { jsonPath: ".spec.avoidBuggyIPs", name: "Avoid Buggy IPs", type: "boolean" },
    { jsonPath: ".spec.addresses", name: "Addresses", type: "string" },
  ],
  L2Advertisement: [
    { jsonPath: ".spec.ipAddressPools", name: "IPAddressPools", type: "string" },
    { jsonPath: ".spec.ipAddressPoolSelectors", name: "IPAddressPool Selectors", type: "string" },
    { jsonPath: ".spec.interfaces", name: "Interfaces", type: "string" },
    { jsonPath: ".spec.nodeSelectors", name: "Node Selectors", priority: 10, type: "string" },
  ],
  ServiceL2Status: [
    { jsonPath: ".status.node", name: "Allocated Node", type: "string" },
    { jsonPath: ".status.serviceName", name: "Service Name", type: "string" },
    { jsonPath: ".status.serviceNamespace", name: "Service Namespace", type: "string" },
  ],
};

const selector = { matchLabels: { zone: "a" }, matchExpressions: [{ key: "rack", operator: "In", values: ["r1", "r2"] }, { key: "spare", operator: "DoesNotExist" }] };
const condition = { type: "Ready", status: "False", reason: "OverlappingPools", message: 'pool "lan" overlaps pool "dmz"', lastTransitionTime: "2026-05-01T10:00:00Z", observedGeneration: 2 };

/** One object of each kind with every field MetalLB's types have (and our status conditions) set. */
const everyField: Record<string, KubeObject> = {
  IPAddressPool: {
    apiVersion: "metallb.io/v1beta1",
    kind: "IPAddressPool",
    metadata: { name: "lan", namespace: "metallb-system" },
    spec: {
      addresses: ["192.168.10.0/24", "192.168.9.1-192.168.9.5", "fc00:f853:ccd:e799::/124"],
      autoAssign: false,
      avoidBuggyIPs: true,
      serviceAllocation: { priority: 50, namespaces: ["a", "b"], namespaceSelectors: [selector], serviceSelectors: [selector] },
    },
    status: { assignedIPv4: 1, assignedIPv6: 0, availableIPv4: 258, availableIPv6: 16, conditions: [condition] },
  },
  L2Advertisement: {
    apiVersion: "metallb.io/v1beta1",
    kind: "L2Advertisement",
    metadata: { name: "adv", namespace: "metallb-system" },
    spec: {
      ipAddressPools: ["lan"],
      ipAddressPoolSelectors: [selector],
      nodeSelectors: [selector, { matchLabels: { "kubernetes.io/hostname": "NodeA" } }],
      interfaces: ["eth0", "eth1"],
      serviceSelectors: [selector],
      preferredNodeSelectors: [
        { weight: 100, preference: { matchLabels: { zone: "primary" } } },
        { weight: 1, preference: selector },
      ],
    },
    status: { conditions: [condition] },
  },
  ServiceL2Status: {
    apiVersion: "metallb.io/v1beta1",
    kind: "ServiceL2Status",
    metadata: { generateName: "l2-", name: "l2-x7k2p", namespace: "metallb-system", labels: { "metallb.io/node": "node-1" } },
    spec: {},
    status: { node: "node-1", serviceName: "web", serviceNamespace: "default", interfaces: [{ name: "eth0" }] },
  },
};

/** Every schema node, with its path. */
function nodes(schema: SchemaNode, path = ""): [string, SchemaNode][] {
  const out: [string, SchemaNode][] = [[path || "<root>", schema]];
  for (const [k, child] of Object.entries(schema.properties ?? {})) out.push(...nodes(child, `${path}.${k}`));
  if (schema.items) out.push(...nodes(schema.items, `${path}[]`));
  if (typeof schema.additionalProperties === "object") out.push(...nodes(schema.additionalProperties, `${path}{}`));
  return out;
}

describe("the metallb.io CRDs in manifests/01-crds.yaml", () => {
  let crds: Map<string, Crd>;
  const schemaOf = (kind: string) => crds.get(kind)!.spec.versions[0].schema.openAPIV3Schema;
  const check = (obj: KubeObject) => applySchema(structuredClone(obj), schemaOf(obj.kind!));

  beforeAll(async () => {
    crds = new Map((await loadManifests([crdFile])).map((o) => [o.kind === "CustomResourceDefinition" ? (o as Crd).spec.names.kind : o.kind, o as Crd]));
  });

  it("defines MetalLB's three layer-2 kinds in metallb.io/v1beta1, namespaced, served, stored, with the status subresource", () => {
    expect([...crds.keys()]).toEqual(["IPAddressPool", "L2Advertisement", "ServiceL2Status"]);
    for (const [kind, crd] of crds) {
      const plural = { IPAddressPool: "ipaddresspools", L2Advertisement: "l2advertisements", ServiceL2Status: "servicel2statuses" }[kind]!;
      expect(crd.metadata.name).toBe(`${plural}.metallb.io`);
      expect(crd.spec).toMatchObject({ group: "metallb.io", scope: "Namespaced", names: { kind, listKind: `${kind}List`, plural, singular: kind.toLowerCase() } });
      expect(crd.spec.names.shortNames).toBeUndefined();
      expect(crd.spec.versions).toHaveLength(1);
      expect(crd.spec.versions[0]).toMatchObject({ name: "v1beta1", served: true, storage: true, subresources: { status: {} } });
    }
  });

  it("is installed right after the namespace, before anything that could need it", async () => {
    const files = installFiles();
    expect(files.indexOf(crdFile)).toBe(1);
    const objects = await loadManifests(files);
    expect(objects.slice(1, 4).map((o) => o.metadata.name)).toEqual(["ipaddresspools.metallb.io", "l2advertisements.metallb.io", "servicel2statuses.metallb.io"]);
  });

  it("prints MetalLB's columns first and unchanged; ours (Ready, then wide ones) follow", () => {
    for (const [kind, want] of Object.entries(metallbColumns)) {
      const columns = crds.get(kind)!.spec.versions[0].additionalPrinterColumns ?? [];
      expect(columns.slice(0, want.length), kind).toEqual(want);
    }
    const extra = (kind: string) => (crds.get(kind)!.spec.versions[0].additionalPrinterColumns ?? []).slice(metallbColumns[kind].length).map((c) => `${c.name}/${c.priority ?? 0}`);
    expect(extra("IPAddressPool")).toEqual(["Ready/0", "Reason/10", "Assigned IPv4/10", "Available IPv4/10", "Assigned IPv6/10", "Available IPv6/10"]);
    expect(extra("L2Advertisement")).toEqual(["Ready/0", "Reason/10", "Service Selectors/10", "Preferred Node Selectors/10"]);
    expect(extra("ServiceL2Status")).toEqual([]);
  });

  it("has structural schemas: every node typed, nothing preserved unknown, metadata left to the API server", () => {
    for (const kind of crds.keys()) {
      for (const [path, node] of nodes(schemaOf(kind))) {
        expect(node.type, `${kind} ${path}`).toBeDefined();
        expect(node["x-kubernetes-preserve-unknown-fields"], `${kind} ${path}`).toBeUndefined();
      }
      expect(schemaOf(kind).properties!.metadata).toEqual({ type: "object" });
    }
  });

  for (const kind of Object.keys(everyField)) {
    it(`accepts a ${kind} with every field MetalLB's type has, pruning nothing`, () => {
      const obj = everyField[kind];
      expect(unknownFieldPaths(obj, schemaOf(kind))).toEqual([]);
      const { object, causes } = check(obj);
      expect(causes).toEqual([]);
      expect(object.spec).toEqual(obj.spec);
      expect(object.status).toEqual(obj.status);
    });
  }

  it("defaults autoAssign to true and avoidBuggyIPs to false, as MetalLB's schema", () => {
    const { object } = check({ apiVersion: "metallb.io/v1beta1", kind: "IPAddressPool", metadata: { name: "p" }, spec: { addresses: ["10.0.0.0/30"] } });
    expect(object.spec).toEqual({ addresses: ["10.0.0.0/30"], autoAssign: true, avoidBuggyIPs: false });
  });

  it("refuses what MetalLB's schema refuses, with the API server's field errors", () => {
    const causes = (obj: KubeObject) => check(obj).causes.map((c) => `${c.field}: ${c.message}`);
    const pool = (spec: unknown): KubeObject => ({ apiVersion: "metallb.io/v1beta1", kind: "IPAddressPool", metadata: { name: "p" }, spec });
    const adv = (spec: unknown): KubeObject => ({ apiVersion: "metallb.io/v1beta1", kind: "L2Advertisement", metadata: { name: "a" }, spec });
    expect(causes({ apiVersion: "metallb.io/v1beta1", kind: "IPAddressPool", metadata: { name: "p" } })).toEqual(["spec: Required value"]);
    expect(causes(pool({}))).toEqual(["spec.addresses: Required value"]);
    expect(causes(pool({ addresses: ["10.0.0.0/30"], autoAssign: "yes" }))).toEqual(['spec.autoAssign: Invalid value: "string": spec.autoAssign in body must be of type boolean: "string"']);
    expect(causes(pool({ addresses: ["10.0.0.0/30"], serviceAllocation: { namespaceSelectors: [{ matchExpressions: [{ key: "a" }] }] } }))).toEqual([
      "spec.serviceAllocation.namespaceSelectors[0].matchExpressions[0].operator: Required value",
    ]);
    expect(causes(adv({ preferredNodeSelectors: [{ weight: 0, preference: {} }, { weight: 101, preference: {} }, { weight: 5 }] }))).toEqual([
      "spec.preferredNodeSelectors[0].weight: Invalid value: 0: spec.preferredNodeSelectors[0].weight in body should be greater than or equal to 1",
      "spec.preferredNodeSelectors[1].weight: Invalid value: 101: spec.preferredNodeSelectors[1].weight in body should be less than or equal to 100",
      "spec.preferredNodeSelectors[2].preference: Required value",
    ]);
    const status = (s: unknown): KubeObject => ({ ...pool({ addresses: ["10.0.0.0/30"] }), status: s });
    expect(causes(status({ conditions: [{ ...condition, status: "Maybe", reason: "" }] }))).toEqual([
      'status.conditions[0].status: Unsupported value: "Maybe": supported values: "True", "False", "Unknown"',
      'status.conditions[0].reason: Invalid value: "": status.conditions[0].reason in body should match \'^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$\'',
      'status.conditions[0].reason: Invalid value: "": status.conditions[0].reason in body should be at least 1 chars long',
    ]);
  });

  it("keeps MetalLB's CEL immutability rules on ServiceL2Status's node and service", () => {
    const status = schemaOf("ServiceL2Status").properties!.status.properties!;
    for (const field of ["node", "serviceName", "serviceNamespace"]) {
      expect(status[field]["x-kubernetes-validations"], field).toEqual([{ message: "Value is immutable", rule: "self == oldSelf" }]);
    }
    expect(status.interfaces["x-kubernetes-validations"]).toBeUndefined();
  });

  it("describes status.conditions as metav1.Condition, a list keyed by type", () => {
    for (const kind of ["IPAddressPool", "L2Advertisement"]) {
      const conditions = schemaOf(kind).properties!.status.properties!.conditions;
      expect(conditions).toMatchObject({ type: "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"] });
      expect(conditions.items!.required).toEqual(["lastTransitionTime", "message", "reason", "status", "type"]);
      expect(Object.keys(conditions.items!.properties!).sort()).toEqual(["lastTransitionTime", "message", "observedGeneration", "reason", "status", "type"]);
    }
  });

  it("uses one LabelSelector schema everywhere (descriptions aside)", () => {
    const strip = (n: SchemaNode): unknown => JSON.parse(JSON.stringify(n, (k, v) => (k === "description" ? undefined : v)));
    const selectors = [...crds.keys()].flatMap((kind) => nodes(schemaOf(kind)).filter(([, n]) => n.properties?.matchLabels !== undefined));
    expect(selectors.map(([path]) => path)).toEqual([
      ".spec.serviceAllocation.namespaceSelectors[]",
      ".spec.serviceAllocation.serviceSelectors[]",
      ".spec.ipAddressPoolSelectors[]",
      ".spec.nodeSelectors[]",
      ".spec.preferredNodeSelectors[].preference",
      ".spec.serviceSelectors[]",
    ]);
    for (const [path, n] of selectors) expect(strip(n), path).toEqual(strip(selectors[0][1]));
  });

  it("accepts the examples in manifests/examples as they are", async () => {
    const examples = await loadManifests([join(manifestsDir, "examples/ipaddresspool.yaml"), join(manifestsDir, "examples/l2advertisement.yaml")]);
    expect(examples.map((o) => `${o.kind} ${o.metadata.namespace}/${o.metadata.name}`)).toEqual([
      "IPAddressPool metallb-system/default",
      "IPAddressPool metallb-system/reserved",
      "L2Advertisement metallb-system/all-pools",
    ]);
    for (const o of examples) {
      expect(unknownFieldPaths(o as KubeObject, schemaOf(o.kind)), o.metadata.name).toEqual([]);
      expect(check(o as KubeObject).causes, o.metadata.name).toEqual([]);
    }
  });
});
