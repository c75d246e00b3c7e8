import { describe, expect, it } from "vitest";
import { customResourcePrinter, type PrinterColumn } from "./custom-resource-printer.ts";
import { goJson } from "./json-value.ts";
import type { KubeObject } from "./resources.ts";

const NOW = Date.parse("2024-05-01T12:00:00Z");

/** MetalLB's IPAddressPool columns, then ours. */
const poolColumns: PrinterColumn[] = [
  { name: "Auto Assign", type: "boolean", jsonPath: ".spec.autoAssign" },
  { name: "Avoid Buggy IPs", type: "boolean", jsonPath: ".spec.avoidBuggyIPs" },
  { name: "Addresses", type: "string", jsonPath: ".spec.addresses" },
  { name: "Ready", type: "string", jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
  { name: "Assigned IPv4", type: "integer", jsonPath: ".status.assignedIPv4", priority: 10 },
];

const pool: KubeObject = {
  apiVersion: "metallb.io/v1beta1",
  kind: "IPAddressPool",
  metadata: { name: "first-pool", namespace: "metallb-system", creationTimestamp: "2024-05-01T11:56:58Z" },
  spec: { addresses: ["192.168.10.0/24", "192.168.9.1-192.168.9.5"], autoAssign: true, avoidBuggyIPs: false },
  status: { assignedIPv4: 2, conditions: [{ type: "Ready", status: "True", reason: "Accepted", message: "", lastTransitionTime: "2024-05-01T11:57:00Z" }] },
};

describe("custom resource Table columns", () => {
  it("puts Name first, then the CRD's columns with their type, priority and a generated description", () => {
    const { columns } = customResourcePrinter(poolColumns);
    expect(columns.map((c) => [c.name, c.type, c.priority])).toEqual([
      ["Name", "string", 0],
      ["Auto Assign", "boolean", 0],
      ["Avoid Buggy IPs", "boolean", 0],
      ["Addresses", "string", 0],
      ["Ready", "string", 0],
      ["Assigned IPv4", "integer", 10],
    ]);
    expect(columns[0].format).toBe("name");
    expect(columns[3].description).toBe("Custom resource definition column (in JSONPath format): .spec.addresses");
  });

  it("fills booleans, lists as compact JSON, a filtered condition and integers", () => {
    expect(customResourcePrinter(poolColumns).cells(pool, NOW)).toEqual([
      "first-pool",
      true,
      false,
      '["192.168.10.0/24","192.168.9.1-192.168.9.5"]',
      "True",
      2,
    ]);
  });

  it("leaves a cell null (printed empty by kubectl) when the path selects nothing or a value of another type", () => {
    const bare: KubeObject = { metadata: { name: "p" }, spec: { addresses: ["10.0.0.0/30"], autoAssign: "yes" } };
    expect(customResourcePrinter(poolColumns).cells(bare, NOW)).toEqual(["p", null, null, '["10.0.0.0/30"]', null, null]);
  });

  it("prints label selectors as Go's encoding/json would: sorted keys, no spaces", () => {
    const adv: KubeObject = {
      metadata: { name: "example" },
      spec: { nodeSelectors: [{ matchLabels: { "kubernetes.io/hostname": "NodeA" } }, { matchExpressions: [{ values: ["a"], operator: "In", key: "zone" }] }] },
    };
    const printer = customResourcePrinter([{ name: "Node Selectors", type: "string", jsonPath: ".spec.nodeSelectors", priority: 10 }]);
    expect(printer.cells(adv, NOW)[1]).toBe('[{"matchLabels":{"kubernetes.io/hostname":"NodeA"}},{"matchExpressions":[{"key":"zone","operator":"In","values":["a"]}]}]');
  });

  it("turns date columns into ages and numbers into numbers", () => {
    const printer = customResourcePrinter([
      { name: "Since", type: "date", jsonPath: ".status.conditions[0].lastTransitionTime" },
      { name: "Ratio", type: "number", jsonPath: ".status.assignedIPv4" },
      { name: "Count", type: "string", jsonPath: ".status.assignedIPv4" },
    ]);
    expect(printer.cells(pool, NOW)).toEqual(["first-pool", "3m", 2, "2"]);
  });

  it("serves Name and Age when the CRD declares no columns", () => {
    const printer = customResourcePrinter(undefined);
    expect(printer.columns.map((c) => [c.name, c.type])).toEqual([
      ["Name", "string"],
      ["Age", "date"],
    ]);
    expect(printer.cells(pool, NOW)).toEqual(["first-pool", "3m2s"]);
  });
});

describe("goJson", () => {
  it("sorts keys bytewise and escapes <, > and & as Go does", () => {
    expect(goJson({ b: 1, a: "<x&y>", "10": [true, null], "9": {} })).toBe('{"10":[true,null],"9":{},"a":"\\u003cx\\u0026y\\u003e","b":1}');
  });
});
