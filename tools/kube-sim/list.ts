/**
 * LIST semantics of kube-apiserver: label and field selectors, `limit`/`continue` pages served from one
 * consistent snapshot, and the `resourceVersion`/`resourceVersionMatch` rules of "API Concepts" (most recent,
 * not older than, exact; 410 Expired when the snapshot is compacted away).
 *
 * @example
 * const page = listObjects(store, servicesType, "default", { limit: 500 });
 * page.items.length; page.continue; page.resourceVersion;
 */
import { ApiError, badRequest, expired, failureStatus } from "./api-error.ts";
import type { FieldMatcher, LabelMatcher } from "./selectors.ts";
import type { ResourceType } from "./resources.ts";
import { resourceKey, type Store, type StoredObject } from "./store.ts";

/** Query parameters of a list request. */
export interface ListQuery {
  labels?: LabelMatcher;
  fields?: FieldMatcher;
  /** Exact name pinned by the field selector (lets the list skip a scan). */
  pinnedName?: string;
  /** True when a label or field selector was given (remainingItemCount is then omitted, as apiserver does). */
  filtered?: boolean;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
  resourceVersionMatch?: string;
}

/** One page of a list. */
export interface ListPage {
  items: StoredObject[];
  resourceVersion: number;
  continue?: string;
  remainingItemCount?: number;
}

interface ContinueToken {
  v: string;
  rv: number;
  start: string;
}

function encodeContinue(rv: number, start: string): string {
  return Buffer.from(JSON.stringify({ v: "meta.k8s.io/v1", rv, start } satisfies ContinueToken)).toString("base64");
}

function decodeContinue(token: string): ContinueToken {
  try {
    const t = JSON.parse(Buffer.from(token, "base64").toString("utf8")) as ContinueToken;
    if (t.v !== "meta.k8s.io/v1" || !Number.isInteger(t.rv) || t.rv <= 0 || typeof t.start !== "string") throw new Error("bad fields");
    return t;
  } catch {
    throw badRequest(`continue key is not valid: the continue token "${token}" was not issued by this server`);
  }
}

/** Parses a resourceVersion parameter: undefined for ""/absent, else a non-negative integer or 400. */
export function parseResourceVersion(rv: string | undefined | null): number | undefined {
  if (rv === undefined || rv === null || rv === "") return undefined;
  if (!/^\d+$/.test(rv)) throw badRequest(`resourceVersion: Invalid value: "${rv}": must be a non-negative integer`);
  return Number(rv);
}

function tooLarge(rv: number, current: number): ApiError {
  return new ApiError(
    failureStatus(504, "Timeout", `Too large resource version: ${rv}, current: ${current}`, {
      causes: [{ reason: "ResourceVersionTooLarge", message: "Too large resource version" }],
      retryAfterSeconds: 1,
    }),
  );
}

function sortKey(o: StoredObject): string {
  const ns = o.object.metadata.namespace;
  return ns ? `${ns}/${o.object.metadata.name}` : `${o.object.metadata.name}`;
}

/** Lists `type` in `namespace` (undefined: all namespaces) following apiserver's resourceVersion and paging rules. */
export function listObjects(store: Store, type: ResourceType, namespace: string | undefined, q: ListQuery): ListPage {
  const key = resourceKey(type);
  const current = store.resourceVersion;
  const ns = type.namespaced ? namespace : undefined;
  const rv = parseResourceVersion(q.resourceVersion);
  const match = q.resourceVersionMatch ?? "";
  if (match !== "" && match !== "Exact" && match !== "NotOlderThan") {
    throw badRequest(`resourceVersionMatch: Unsupported value: "${match}": supported values: "Exact", "NotOlderThan"`);
  }
  let at: number;
  let start = "";
  if (q.continue) {
    if (rv !== undefined && rv !== 0) throw badRequest("specifying resource version is not allowed when using continue");
    if (match !== "") throw badRequest("resourceVersionMatch is forbidden when continue is provided");
    const token = decodeContinue(q.continue);
    at = token.rv;
    start = token.start;
    if (at < store.compactedResourceVersion) {
      throw expired(
        "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.",
      );
    }
  } else if (match === "Exact") {
    if (rv === undefined || rv === 0) throw badRequest(`resourceVersionMatch: Forbidden: resourceVersionMatch "Exact" is forbidden for resourceVersion "${rv ?? ""}"`);
    at = rv;
  } else if (match === "NotOlderThan") {
    if (rv === undefined) throw badRequest('resourceVersionMatch: Forbidden: resourceVersionMatch "NotOlderThan" is forbidden when resourceVersion is not provided');
    if (rv > current) throw tooLarge(rv, current);
    at = current;
  } else if (rv !== undefined && rv !== 0 && q.limit !== undefined && q.limit > 0) {
    at = rv; // limit with a non-zero resourceVersion and no match: Exact
  } else {
    if (rv !== undefined && rv > current) throw tooLarge(rv, current);
    at = current;
  }
  if (at > current) throw tooLarge(at, current);

  let source: Iterable<StoredObject>;
  if (at === current) {
    // A name pinned by the field selector within one namespace (or cluster-scoped) needs no scan.
    const direct = q.pinnedName !== undefined && (ns !== undefined || !type.namespaced);
    if (direct) {
      const found = store.get(key, ns ?? "", q.pinnedName!);
      source = found ? [found] : [];
    } else {
      source = store.list(key, ns);
    }
  } else {
    const snap = store.snapshotAt(key, at, ns);
    if (snap === undefined) throw expired(`The resourceVersion for the provided list is too old. (requested ${at}, history starts after ${store.compactedResourceVersion})`);
    source = snap;
  }
  const selected: { k: string; o: StoredObject }[] = [];
  for (const o of source) {
    if (q.labels && !q.labels(o.object.metadata.labels)) continue;
    if (q.fields && !q.fields(o.object)) continue;
    const k = sortKey(o);
    if (start !== "" && k <= start) continue;
    selected.push({ k, o });
  }
  selected.sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0));
  const limit = q.limit !== undefined && q.limit > 0 ? q.limit : undefined;
  if (limit === undefined || selected.length <= limit) {
    return { items: selected.map((s) => s.o), resourceVersion: at };
  }
  const page = selected.slice(0, limit);
  const result: ListPage = {
    items: page.map((s) => s.o),
    resourceVersion: at,
    continue: encodeContinue(at, page[page.length - 1].k),
  };
  if (!q.filtered) result.remainingItemCount = selected.length - limit;
  return result;
}
