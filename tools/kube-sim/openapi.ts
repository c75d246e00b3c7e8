/**
 * The smallest OpenAPI v3 documents that let kubectl's default `--validate=strict` pass: a root listing every
 * group-version, and per group-version one PATCH operation per kind that carries the `fieldValidation` query
 * parameter and `x-kubernetes-group-version-kind`. kubectl then leaves field validation to the server.
 *
 * No `requestBody` is advertised: kubectl would then want `components.schemas` and print
 * "error calculating patch from openapi v3 spec" on every apply. Custom resources' group-versions also carry
 * their CRD schemas in `components.schemas` (named as apiserver does, `io.metallb.v1beta1.IPAddressPool`), which
 * is what `kubectl explain` reads.
 *
 * @example
 * openapiRoot(builtinResources).paths["apis/apps/v1"]; // { serverRelativeURL: "/openapi/v3/apis/apps/v1" }
 * openapiGroupVersion(builtinResources, "apis/apps/v1"); // { openapi: "3.0.0", paths: { ... } }
 */
import type { ResourceType } from "./resources.ts";

/** "api/v1" for core, "apis/<group>/<version>" otherwise. */
function gvPathOf(r: ResourceType): string {
  return r.group === "" ? `api/${r.version}` : `apis/${r.group}/${r.version}`;
}

/**
 * The `/openapi/v3` root: `{ paths: { "<gvPath>": { serverRelativeURL: "/openapi/v3/<gvPath>" } } }`.
 *
 * @example
 * openapiRoot(builtinResources).paths["api/v1"]; // { serverRelativeURL: "/openapi/v3/api/v1" }
 */
export function openapiRoot(resources: readonly ResourceType[]): object {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const r of resources) {
    const gvPath = gvPathOf(r);
    paths[gvPath] ??= { serverRelativeURL: `/openapi/v3/${gvPath}` };
  }
  return { paths };
}

/**
 * The document for one group-version path ("api/v1", "apis/apps/v1"), or undefined when no resource lives there.
 *
 * @example
 * openapiGroupVersion(builtinResources, "api/v1").paths["/api/v1/namespaces/{namespace}/services/{name}"].patch;
 * // { parameters: [{ name: "fieldValidation", in: "query", ... }], "x-kubernetes-group-version-kind": { kind: "Service", ... } }
 */
export function openapiGroupVersion(resources: readonly ResourceType[], gvPath: string): object | undefined {
  const wanted = gvPath.replace(/^\/+|\/+$/g, "");
  const paths: Record<string, object> = {};
  for (const r of resources) {
    if (gvPathOf(r) !== wanted) continue;
    const item = r.namespaced ? `/${wanted}/namespaces/{namespace}/${r.plural}/{name}` : `/${wanted}/${r.plural}/{name}`;
    paths[item] = {
      patch: {
        description: `partially update the specified ${r.kind}`,
        operationId: `patch${r.kind}`,
        parameters: [
          {
            name: "fieldValidation",
            in: "query",
            description: "Ignore, Warn or Strict: how the server treats unknown and duplicate fields.",
            schema: { type: "string", uniqueItems: true },
          },
        ],
        responses: { "200": { description: "OK" } },
        "x-kubernetes-action": "patch",
        "x-kubernetes-group-version-kind": { group: r.group, version: r.version, kind: r.kind },
      },
    };
  }
  if (Object.keys(paths).length === 0) return undefined;
  const schemas: Record<string, object> = {};
  for (const r of resources) {
    if (gvPathOf(r) !== wanted || r.openAPIV3Schema === undefined) continue;
    const name = `${r.group.split(".").reverse().join(".")}.${r.version}.${r.kind}`;
    schemas[name] = { ...r.openAPIV3Schema, "x-kubernetes-group-version-kind": [{ group: r.group, version: r.version, kind: r.kind }] };
  }
  const doc: Record<string, unknown> = { openapi: "3.0.0", info: { title: "Kubernetes", version: "v1.32.4" }, paths };
  if (Object.keys(schemas).length > 0) doc.components = { schemas };
  return doc;
}
