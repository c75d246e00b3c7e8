import { describe, expect, it } from "vitest";
import { ApiError } from "./api-error.ts";
import { applyPatch, mergePatch, patchTypeOf } from "./patch.ts";
import { builtinResources, type KubeObject, type ResourceType } from "./resources.ts";

const configMaps = builtinResources.find((r) => r.plural === "configmaps")!;
const widgets: ResourceType = { group: "example.com", version: "v1", kind: "Widget", plural: "widgets", singular: "widget", namespaced: true, custom: true };

describe("JSON merge patch (RFC 7386 examples)", () => {
  const cases: [unknown, unknown, unknown][] = [
    [{ a: "b" }, { a: "c" }, { a: "c" }],
    [{ a: "b" }, { b: "c" }, { a: "b", b: "c" }],
    [{ a: "b" }, { a: null }, {}],
    [{ a: "b", b: "c" }, { a: null }, { b: "c" }],
    [{ a: ["b"] }, { a: "c" }, { a: "c" }],
    [{ a: "c" }, { a: ["b"] }, { a: ["b"] }],
    [{ a: { b: "c" } }, { a: { b: "d", c: null } }, { a: { b: "d" } }],
    [{ a: [{ b: "c" }] }, { a: [1] }, { a: [1] }],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ];
  for (const [target, patch, want] of cases) {
    it(`${JSON.stringify(target)} + ${JSON.stringify(patch)} = ${JSON.stringify(want)}`, () => {
      const before = JSON.stringify(target);
      expect(mergePatch(target, patch)).toEqual(want);
      expect(JSON.stringify(target)).toBe(before);
    });
  }
});

describe("applyPatch", () => {
  const cm: KubeObject = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", labels: { a: "1" } }, data: { x: "1" } };

  it("applies JSON patches and reports a failed test operation as 422", () => {
    const out = applyPatch(cm, "application/json-patch+json", JSON.stringify([{ op: "replace", path: "/data/x", value: "2" }]), configMaps);
    expect(out.data).toEqual({ x: "2" });
    expect(cm.data).toEqual({ x: "1" });
    try {
      applyPatch(cm, "application/json-patch+json", JSON.stringify([{ op: "test", path: "/data/x", value: "9" }]), configMaps);
      throw new Error("expected the test operation to fail");
    } catch (e) {
      expect((e as ApiError).code).toBe(422);
    }
  });

  it("refuses undecodable bodies with 400", () => {
    expect(() => applyPatch(cm, "application/merge-patch+json", "{", configMaps)).toThrow(/error decoding merge patch/);
    expect(() => applyPatch(cm, "application/json-patch+json", "{}", configMaps)).toThrow(ApiError);
  });

  it("merges an applied configuration over the live object", () => {
    const out = applyPatch(cm, "application/apply-patch+yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  y: '2'\n", configMaps);
    expect(out).toMatchObject({ metadata: { labels: { a: "1" } }, data: { x: "1", y: "2" } });
  });

  it("refuses an apply body without apiVersion and kind, or of another kind", () => {
    expect(() => applyPatch(cm, "application/apply-patch+yaml", "metadata: {name: c}", configMaps)).toThrow("invalid object type: , Kind=");
    expect(() => applyPatch(cm, "application/apply-patch+yaml", "apiVersion: v1\nkind: Secret\nmetadata: {name: c}", configMaps)).toThrow(/do not match/);
  });
});

describe("patchTypeOf", () => {
  it("accepts the four patch types for built-ins and refuses strategic merge for custom resources", () => {
    expect(patchTypeOf("application/strategic-merge-patch+json", configMaps)).toBe("application/strategic-merge-patch+json");
    expect(patchTypeOf("application/merge-patch+json; charset=utf-8", widgets)).toBe("application/merge-patch+json");
    expect(() => patchTypeOf("application/strategic-merge-patch+json", widgets)).toThrow(
      "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml",
    );
    expect(() => patchTypeOf("application/json", configMaps)).toThrow(ApiError);
  });
});
