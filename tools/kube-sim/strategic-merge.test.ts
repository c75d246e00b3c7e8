import { describe, expect, it } from "vitest";
import { jsonClone } from "./json-value.ts";
import type { KubeObject } from "./resources.ts";
import { strategicMergeCases } from "./strategic-merge-cases.ts";
import { strategicMergePatch } from "./strategic-merge.ts";

const svc = (spec: Record<string, unknown>): KubeObject => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: { name: "web" },
  spec,
});

describe("strategicMergePatch", () => {
  for (const c of strategicMergeCases) {
    it(c.name, () => {
      expect(strategicMergePatch(c.original, c.patch, c.original.kind!)).toEqual(c.expected);
    });
  }

  it("leaves the original and the patch untouched", () => {
    const c = strategicMergeCases[0];
    const original = jsonClone(c.original);
    const patch = jsonClone(c.patch);
    strategicMergePatch(original, patch, "Service");
    expect(original).toEqual(c.original);
    expect(patch).toEqual(c.patch);
  });

  it("merges maps and replaces lists for kinds without strategic metadata", () => {
    const widget: KubeObject = { apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w", finalizers: ["a"] }, spec: { items: [1, 2], m: { a: 1, b: 2 } } };
    expect(strategicMergePatch(widget, { metadata: { finalizers: ["b"] }, spec: { items: [3], m: { b: null, c: 3 } } }, "Widget")).toEqual({
      apiVersion: "example.com/v1",
      kind: "Widget",
      metadata: { name: "w", finalizers: ["b", "a"] },
      spec: { items: [3], m: { a: 1, c: 3 } },
    });
  });

  it("replaces the PodDisruptionBudget selector instead of merging it", () => {
    const pdb: KubeObject = { apiVersion: "policy/v1", kind: "PodDisruptionBudget", metadata: { name: "p" }, spec: { selector: { matchLabels: { app: "a" } } } };
    const patched = strategicMergePatch(pdb, { spec: { selector: { matchExpressions: [{ key: "k", operator: "Exists" }] } } }, "PodDisruptionBudget");
    expect(patched.spec).toEqual({ selector: { matchExpressions: [{ key: "k", operator: "Exists" }] } });
  });

  it("ignores a null for a key the original does not have", () => {
    expect(strategicMergePatch(svc({ type: "ClusterIP" }), { spec: { externalName: null } }, "Service")).toEqual(svc({ type: "ClusterIP" }));
  });

  it("deletes a list set to null even when the patch also orders it", () => {
    const patched = strategicMergePatch(svc({ ports: [{ port: 80 }], type: "ClusterIP" }), { spec: { "$setElementOrder/ports": [{ port: 80 }], ports: null } }, "Service");
    expect(patched).toEqual(svc({ type: "ClusterIP" }));
  });

  it("replaces a value whose shape changes", () => {
    expect(strategicMergePatch(svc({ selector: { app: "web" } }), { spec: { selector: "app=web" } }, "Service")).toEqual(svc({ selector: "app=web" }));
  });

  describe("refuses malformed patches with a message naming the problem", () => {
    const cases: { name: string; patch: unknown; error: RegExp }[] = [
      { name: "a patch that is not an object", patch: [1], error: /must be a JSON object/ },
      { name: "an unknown $patch directive", patch: { spec: { selector: { $patch: "merge-ish" } } }, error: /unknown \$patch directive "merge-ish"/ },
      { name: "an unknown directive key", patch: { spec: { $oops: 1 } }, error: /unknown strategic merge patch directive "\$oops"/ },
      { name: "a list item without its merge key", patch: { spec: { ports: [{ name: "x" }] } }, error: /has no merge key "port"/ },
      { name: "a $patch: delete item without its merge key", patch: { spec: { ports: [{ $patch: "delete" }] } }, error: /\$patch: delete item .* has no merge key "port"/ },
      {
        name: "a $setElementOrder that contradicts the patch list",
        patch: { spec: { "$setElementOrder/ports": [{ port: 443 }, { port: 80 }], ports: [{ port: 80 }, { port: 443 }] } },
        error: /doesn't match \$setElementOrder list/,
      },
      { name: "a $retainKeys that omits a patched field", patch: { spec: { $retainKeys: ["type"], clusterIP: "None" } }, error: /must name every field the patch sets, but not "clusterIP"/ },
      { name: "a $deleteFromPrimitiveList that is not a list", patch: { metadata: { "$deleteFromPrimitiveList/finalizers": "a" } }, error: /must be a list of the values to delete/ },
    ];
    for (const c of cases) {
      it(c.name, () => {
        expect(() => strategicMergePatch(svc({ ports: [{ port: 80 }] }), c.patch, "Service")).toThrow(c.error);
      });
    }
  });
});
