/**
 * The object name that authorization sees on a list or watch, as kube-apiserver's RequestInfoFactory computes it:
 * a GET on a collection (list, or watch through `?watch=true`) whose field selector requires `metadata.name=X`
 * names X, so an RBAC rule with `resourceNames: [X]` can allow it. Watches through the old `/watch/` path prefix
 * and every other request keep the name from the path.
 *
 * @example
 * listRequestName(info, "/api/v1/namespaces/x/configmaps", new URLSearchParams("fieldSelector=metadata.name%3Dconfig")); // "config"
 */
import type { NonResourceRequest, ResourceRequest } from "./request-info.ts";
import { nameFromFieldSelector } from "./selectors.ts";

/** The name for authorization: the path's name, or for a list/watch the one its field selector pins. */
export function listRequestName(info: ResourceRequest | NonResourceRequest, path: string, query: URLSearchParams): string {
  if (info.kind !== "resource") return "";
  if (info.name !== "" || (info.verb !== "list" && info.verb !== "watch")) return info.name;
  const segments = path.split("/").filter((p) => p !== "");
  const watchPrefix = segments[0] === "api" ? segments[2] === "watch" : segments[3] === "watch";
  if (watchPrefix) return "";
  const name = nameFromFieldSelector(query.get("fieldSelector")) ?? "";
  // apiserver ignores names that are not valid path segments (path.IsValidPathSegmentName).
  if (name === "." || name === ".." || name.includes("/") || name.includes("%")) return "";
  return name;
}
