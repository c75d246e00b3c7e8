/**
 * The URL path of a Kubernetes API request, built from a resource type, a namespace, a name and a
 * subresource: the core group ("v1") lives under /api/v1, every other group under /apis/<group>/<version>.
 */
import type { ObjectRef } from "./kube-api.ts";

/**
 * The request path of `ref`, without a query string.
 *
 * @example
 * apiPath({ apiVersion: "v1", plural: "services", namespace: "default", name: "web", subresource: "status" });
 * // "/api/v1/namespaces/default/services/web/status"
 * apiPath({ apiVersion: "coordination.k8s.io/v1", plural: "leases" }); // "/apis/coordination.k8s.io/v1/leases"
 */
export function apiPath(ref: ObjectRef): string {
  const parts = ref.apiVersion.split("/");
  if (parts.length > 2 || parts.some((p) => p === "")) {
    throw new Error(`apiVersion "${ref.apiVersion}" of ${ref.plural} is not "v1" or "<group>/<version>"`);
  }
  if (ref.plural === "" || ref.plural.includes("/")) throw new Error(`resource plural "${ref.plural}" is not a single path segment`);
  let path = parts.length === 1 ? `/api/${parts[0]}` : `/apis/${parts[0]}/${parts[1]}`;
  if (ref.namespace !== undefined && ref.namespace !== "") path += `/namespaces/${segment(ref.namespace, "namespace")}`;
  path += `/${ref.plural}`;
  if (ref.name !== undefined) path += `/${segment(ref.name, "name")}`;
  if (ref.subresource !== undefined) {
    if (ref.name === undefined) throw new Error(`${ref.plural} subresource "${ref.subresource}" needs an object name`);
    path += `/${ref.subresource}`;
  }
  return path;
}

function segment(value: string, what: string): string {
  if (value === "" || value === "." || value === "..") throw new Error(`${what} "${value}" cannot be a path segment`);
  return encodeURIComponent(value);
}

/**
 * `path` with the defined, non-empty `params` as its query string.
 *
 * @example
 * withQuery("/api/v1/services", { watch: 1, labelSelector: "app=web", continue: undefined });
 * // "/api/v1/services?watch=1&labelSelector=app%3Dweb"
 */
export function withQuery(path: string, params: Readonly<Record<string, string | number | boolean | undefined>>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== "") q.append(k, String(v));
  const text = q.toString();
  return text ? `${path}?${text}` : path;
}
