import { describe, expect, it } from "vitest";
import { openapiGroupVersion, openapiRoot } from "./openapi.ts";
import { builtinResources, type ResourceType } from "./resources.ts";

interface PatchOperation {
  parameters: { name: string; in: string }[];
  requestBody?: unknown;
  "x-kubernetes-group-version-kind": { group: string; version: string; kind: string };
}
type Document = { openapi: string; paths: Record<string, { patch: PatchOperation }>; components?: unknown };

const widget: ResourceType = { group: "example.com", version: "v1", kind: "Widget", plural: "widgets", singular: "widget", namespaced: true, custom: true };

describe("openapiRoot", () => {
  it("lists each group-version once with its serverRelativeURL", () => {
    const root = openapiRoot([...builtinResources, widget]) as { paths: Record<string, { serverRelativeURL: string }> };
    expect(root.paths["api/v1"]).toEqual({ serverRelativeURL: "/openapi/v3/api/v1" });
    expect(root.paths["apis/apps/v1"]).toEqual({ serverRelativeURL: "/openapi/v3/apis/apps/v1" });
    expect(root.paths["apis/example.com/v1"]).toEqual({ serverRelativeURL: "/openapi/v3/apis/example.com/v1" });
    expect(Object.keys(root.paths)).toHaveLength(new Set([...builtinResources, widget].map((r) => `${r.group}/${r.version}`)).size);
  });
});

describe("openapiGroupVersion", () => {
  it("has one PATCH per kind with fieldValidation and the group-version-kind", () => {
    const doc = openapiGroupVersion(builtinResources, "api/v1") as Document;
    expect(doc.openapi).toBe("3.0.0");
    const svc = doc.paths["/api/v1/namespaces/{namespace}/services/{name}"].patch;
    expect(svc.parameters).toContainEqual(expect.objectContaining({ name: "fieldValidation", in: "query" }));
    expect(svc["x-kubernetes-group-version-kind"]).toEqual({ group: "", version: "v1", kind: "Service" });
    expect(doc.paths["/api/v1/nodes/{name}"].patch["x-kubernetes-group-version-kind"].kind).toBe("Node");
    const kinds = Object.values(doc.paths).map((p) => p.patch["x-kubernetes-group-version-kind"].kind);
    expect(kinds.sort()).toEqual(builtinResources.filter((r) => r.group === "").map((r) => r.kind).sort());
  });

  it("advertises no request body, so kubectl does not look for components.schemas", () => {
    const doc = openapiGroupVersion(builtinResources, "apis/apps/v1") as Document;
    expect(doc.components).toBeUndefined();
    for (const path of Object.values(doc.paths)) expect(path.patch.requestBody).toBeUndefined();
  });

  it("serves custom resources' group-versions", () => {
    const doc = openapiGroupVersion([widget], "/apis/example.com/v1") as Document;
    expect(Object.keys(doc.paths)).toEqual(["/apis/example.com/v1/namespaces/{namespace}/widgets/{name}"]);
  });

  it("is undefined for a group-version nothing lives in", () => {
    expect(openapiGroupVersion(builtinResources, "apis/apps/v2")).toBeUndefined();
    expect(openapiGroupVersion(builtinResources, "apis/nope/v1")).toBeUndefined();
  });

  it("carries custom resources' schemas in components.schemas, named and tagged as apiserver does", () => {
    const schema = { type: "object", properties: { spec: { type: "object" } } };
    const doc = openapiGroupVersion([{ ...widget, openAPIV3Schema: schema }], "apis/example.com/v1") as Document;
    expect(doc.components).toEqual({
      schemas: { "com.example.v1.Widget": { ...schema, "x-kubernetes-group-version-kind": [{ group: "example.com", version: "v1", kind: "Widget" }] } },
    });
  });
});
