import { describe, expect, it } from "vitest";
import { findResults, JsonPathError, parseJsonPath } from "./jsonpath.ts";

const pool = {
  metadata: { name: "lan", labels: { "kubernetes.io/hostname": "node-1", app: "web" } },
  spec: { addresses: ["192.0.2.0/28", "192.0.2.32-192.0.2.40"], autoAssign: false, serviceAllocation: { priority: 0 } },
  status: {
    assignedIPv4: 3,
    conditions: [
      { type: "Available", status: "False", reason: "Full" },
      { type: "Ready", status: "True", reason: "Accepted" },
    ],
    nothing: null,
  },
};

const find = (path: string, value: unknown = pool) => findResults(parseJsonPath(path), value);

describe("Kubernetes JSONPath", () => {
  const cases: [string, unknown[]][] = [
    [".spec.addresses", [pool.spec.addresses]],
    ["{.spec.addresses}", [pool.spec.addresses]],
    [".spec.addresses[0]", ["192.0.2.0/28"]],
    [".spec.addresses[-1]", ["192.0.2.32-192.0.2.40"]],
    [".spec.addresses[*]", pool.spec.addresses],
    [".spec.addresses[0:1]", ["192.0.2.0/28"]],
    [".spec.autoAssign", [false]],
    [".spec.serviceAllocation.priority", [0]],
    [".status.assignedIPv4", [3]],
    ['.status.conditions[?(@.type=="Ready")].status', ["True"]],
    [".status.conditions[?(@.type=='Ready')].reason", ["Accepted"]],
    ['.status.conditions[?(@.type!="Ready")].type', ["Available"]],
    [".status.conditions[?(@.reason)].type", ["Available", "Ready"]],
    [".status.conditions[*].type", ["Available", "Ready"]],
    [".metadata.labels.kubernetes\\.io/hostname", ["node-1"]],
    [".metadata.labels['kubernetes.io/hostname']", ["node-1"]],
    [".metadata.labels['app','kubernetes.io/hostname']", ["web", "node-1"]],
    ["..reason", ["Full", "Accepted"]],
    [".metadata.labels.*", ["web", "node-1"]],
    [".status.nothing", [null]],
  ];
  for (const [path, want] of cases) {
    it(`${path} selects ${JSON.stringify(want)}`, () => {
      expect(find(path)).toEqual(want);
    });
  }

  it("selects nothing for missing keys, indexes out of range and filters on non-lists", () => {
    expect(find(".spec.missing")).toEqual([]);
    expect(find(".status.nothing.deeper")).toEqual([]);
    expect(find(".spec.addresses[5]")).toEqual([]);
    expect(find('.spec.autoAssign[?(@.type=="Ready")]')).toEqual([]);
    expect(find('.status.conditions[?(@.type=="Gone")].status')).toEqual([]);
  });

  it("compares numbers in filters", () => {
    const ports = { spec: { ports: [{ port: 80 }, { port: 443 }, { port: 8443 }] } };
    expect(find(".spec.ports[?(@.port>80)].port", ports)).toEqual([443, 8443]);
    expect(find(".spec.ports[?(@.port<=443)].port", ports)).toEqual([80, 443]);
    expect(find(".spec.ports[?(@.port==443)].port", ports)).toEqual([443]);
  });

  it("refuses text that is not a path, saying where", () => {
    expect(() => parseJsonPath(".spec[")).toThrow(JsonPathError);
    expect(() => parseJsonPath("spec")).toThrow(/at offset 0: unexpected "s"/);
    expect(() => parseJsonPath(".spec[?(type)]")).toThrow(/a filter compares @-paths/);
  });
});
