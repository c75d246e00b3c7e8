/**
 * Parses a request path the way kube-apiserver's RequestInfoFactory does: resource requests under /api/v1 and
 * /apis/<group>/<version> (namespace, resource, name, subresource, verb) versus everything else (discovery,
 * OpenAPI, /version, health).
 *
 * @example
 * requestInfo("GET", "/api/v1/namespaces/x/services/web/status", new URLSearchParams());
 * // { kind: "resource", group: "", version: "v1", namespace: "x", resource: "services", name: "web", subresource: "status", verb: "get" }
 */

/** A request for an API resource. */
export interface ResourceRequest {
  kind: "resource";
  group: string;
  version: string;
  /** Namespace from the path ("" when none). */
  namespace: string;
  resource: string;
  name: string;
  subresource: string;
  /** Kubernetes verb: get, list, watch, create, update, patch, delete, deletecollection. */
  verb: string;
}

/** Any other request (discovery, OpenAPI, version, health). */
export interface NonResourceRequest {
  kind: "nonresource";
  path: string;
  verb: string;
}

/** Subresources of namespaces that are not namespaced resources themselves. */
const namespaceSubresources = new Set(["status", "finalize"]);

const methodVerbs: Record<string, string> = {
  POST: "create",
  PUT: "update",
  PATCH: "patch",
  DELETE: "delete",
  GET: "get",
  HEAD: "get",
};

/** Classifies a request. `query` supplies `watch` for list/watch disambiguation. */
export function requestInfo(method: string, pathname: string, query: URLSearchParams): ResourceRequest | NonResourceRequest {
  const parts = pathname.split("/").filter((p) => p !== "").map((p) => decodeURIComponent(p));
  const nonResource: NonResourceRequest = { kind: "nonresource", path: pathname, verb: (method === "HEAD" ? "get" : method.toLowerCase()) };
  let rest: string[];
  let group: string;
  let version: string;
  if (parts[0] === "api" && parts.length >= 3) {
    group = "";
    version = parts[1];
    rest = parts.slice(2);
  } else if (parts[0] === "apis" && parts.length >= 4) {
    group = parts[1];
    version = parts[2];
    rest = parts.slice(3);
  } else {
    return nonResource;
  }
  let namespace = "";
  let watchPath = false;
  if (rest[0] === "watch") {
    watchPath = true;
    rest = rest.slice(1);
  }
  if (rest[0] === "namespaces" && rest.length > 1) {
    namespace = rest[1];
    if (rest.length > 2 && !namespaceSubresources.has(rest[2])) rest = rest.slice(2);
  }
  const resource = rest[0] ?? "";
  const name = rest[1] ?? "";
  const subresource = rest.slice(2).join("/");
  // As in apiserver, a request for the namespace object itself carries its name as the namespace (RBAC uses it).
  let verb = methodVerbs[method] ?? method.toLowerCase();
  const watching = watchPath || query.get("watch") === "true" || query.get("watch") === "1";
  if (method === "GET" || method === "HEAD") {
    if (watching) verb = "watch";
    else if (name === "") verb = "list";
  } else if (method === "DELETE" && name === "") {
    verb = "deletecollection";
  }
  return { kind: "resource", group, version, namespace, resource, name, subresource, verb };
}
