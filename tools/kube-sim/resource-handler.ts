/**
 * Serves resource requests (/api/v1/..., /apis/<group>/<version>/...): maps the verb to a ClusterState
 * operation or a list/watch, decodes bodies (JSON, YAML, protobuf, patch types) and encodes answers (JSON
 * objects and lists, or meta.k8s.io Tables when the Accept header asks for them). Writes follow the request's
 * `fieldValidation` (default Warn, as apiserver); warnings leave as `Warning: 299 - "..."` headers.
 *
 * @example
 * await handleResourceRequest(ctx, info, req, res, url);
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { parse as parseYaml } from "yaml";
import { ApiError, badRequest, invalid, methodNotAllowed, pathNotFound, unsupportedMediaType, type StatusCause } from "./api-error.ts";
import type { ClusterState, DeleteOptions, FieldValidation, WriteOptions } from "./cluster-state.ts";
import { forbiddenField } from "./field-errors.ts";
import { isPlainObject } from "./json-value.ts";
import { listObjects, type ListPage } from "./list.ts";
import { patchTypeOf } from "./patch.ts";
import { decodeKubeProtobuf, PROTOBUF_CONTENT_TYPE } from "./protobuf.ts";
import type { ResourceRequest } from "./request-info.ts";
import { apiVersionOf, type KubeObject, type ResourceType } from "./resources.ts";
import { nameFromFieldSelector, parseFieldSelector, parseLabelSelector } from "./selectors.ts";
import type { StoredObject } from "./store.ts";
import { TABLE_CONTENT_TYPE, toTable, wantsTable } from "./table.ts";
import { startWatch, type ActiveWatch } from "./watch.ts";

/** What resource requests need from the server. */
export interface ResourceContext {
  state: ClusterState;
  bookmarkIntervalMs: number;
  /** Registers an open watch so faults can end it; returns the deregistration. */
  trackWatch(w: ActiveWatch): () => void;
}

/** Largest accepted request body, as kube-apiserver's 3 MiB limit. */
const maxBodyBytes = 3 * 1024 * 1024;

/** Reads the whole request body. */
export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBodyBytes) {
      throw new ApiError({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: "Request entity too large: limit is 3145728", reason: "RequestEntityTooLarge", code: 413 });
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Decodes a POST/PUT body by its Content-Type (JSON, YAML or Kubernetes protobuf). */
function decodeObjectBody(body: Buffer, contentType: string | undefined): unknown {
  const media = (contentType ?? "application/json").split(";")[0].trim().toLowerCase();
  if (media === PROTOBUF_CONTENT_TYPE) {
    try {
      return decodeKubeProtobuf(body);
    } catch (e) {
      throw unsupportedMediaType(`the protobuf body could not be decoded: ${(e as Error).message}; send application/json instead`);
    }
  }
  const text = body.toString("utf8");
  if (media === "application/yaml") {
    try {
      return parseYaml(text);
    } catch (e) {
      throw badRequest(`error decoding YAML: ${(e as Error).message}`);
    }
  }
  if (media === "application/json" || media === "" || media === "*/*") {
    if (text.trim() === "") throw badRequest("the request body is empty; send the object as JSON");
    try {
      return JSON.parse(text);
    } catch (e) {
      throw badRequest(`couldn't get version/kind; json parse error: ${(e as Error).message}`);
    }
  }
  throw unsupportedMediaType(
    `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, ${PROTOBUF_CONTENT_TYPE}`,
  );
}

function dryRunOf(q: URLSearchParams): boolean {
  const values = q.getAll("dryRun");
  for (const v of values) if (v !== "All") throw badRequest(`dryRun: Unsupported value: "${v}": supported values: "All"`);
  return values.length > 0;
}

/** The request's fieldValidation directive; apiserver's default when none is sent is Warn. */
function fieldValidationOf(q: URLSearchParams): FieldValidation {
  const v = q.get("fieldValidation");
  if (v === null || v === "") return "Warn";
  if (v !== "Strict" && v !== "Warn" && v !== "Ignore") {
    throw badRequest(`fieldValidation: Unsupported value: "${v}": supported values: "Ignore", "Strict", "Warn"`);
  }
  return v;
}

/** The write options of a create, update or patch request; its warnings are collected in `warnings`. */
function writeOptions(q: URLSearchParams, warnings: string[]): WriteOptions {
  return { dryRun: dryRunOf(q), fieldValidation: fieldValidationOf(q), warnings };
}

/** A `Warning` header value as apiserver writes it: `299 - "<text with \" and \\ escaped>"`. */
function warningHeader(text: string): string {
  return `299 - "${text.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

/** The ListOptions rules of a watch-list request (sendInitialEvents=true), worded as apiserver's validation. */
function checkWatchList(q: URLSearchParams): void {
  const causes: StatusCause[] = [];
  if (q.get("resourceVersionMatch") !== "NotOlderThan") {
    causes.push(forbiddenField("resourceVersionMatch", "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan"));
  }
  if (q.get("allowWatchBookmarks") !== "true") {
    causes.push(forbiddenField("allowWatchBookmarks", "allowWatchBookmarks must be set to true when sendInitialEvents is true"));
  }
  if (causes.length > 0) throw invalid({ group: "meta.k8s.io", kind: "ListOptions" }, "", causes);
}

function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === "") return undefined;
  if (!/^-?\d+$/.test(v)) throw badRequest(`${name}: Invalid value: "${v}": must be an integer`);
  return Number(v);
}

function send(res: ServerResponse, code: number, body: string, contentType = "application/json", warnings: readonly string[] = []): void {
  const headers: Record<string, string | number | string[]> = { "Content-Type": contentType, "Content-Length": Buffer.byteLength(body), "Cache-Control": "no-cache, private" };
  if (warnings.length > 0) headers.Warning = warnings.map(warningHeader);
  res.writeHead(code, headers);
  res.end(body);
}

function objectJson(type: ResourceType, o: StoredObject): string {
  return o.object.apiVersion === apiVersionOf(type) ? o.json : JSON.stringify({ ...o.object, apiVersion: apiVersionOf(type) });
}

function sendObject(res: ServerResponse, code: number, type: ResourceType, o: StoredObject, accept: string | undefined, warnings: readonly string[] = []): void {
  if (wantsTable(accept)) {
    send(res, code, JSON.stringify(toTable(type, [o.object], String(o.resourceVersion))), TABLE_CONTENT_TYPE, warnings);
  } else {
    send(res, code, objectJson(type, o), "application/json", warnings);
  }
}

function sendList(res: ServerResponse, type: ResourceType, page: ListPage, accept: string | undefined): void {
  if (wantsTable(accept)) {
    const table = toTable(type, page.items.map((o) => o.object), String(page.resourceVersion)) as { metadata?: Record<string, unknown> };
    if (page.continue !== undefined) table.metadata = { ...(table.metadata ?? {}), continue: page.continue };
    if (page.remainingItemCount !== undefined) table.metadata = { ...(table.metadata ?? {}), remainingItemCount: page.remainingItemCount };
    send(res, 200, JSON.stringify(table), TABLE_CONTENT_TYPE);
    return;
  }
  const meta: Record<string, unknown> = { resourceVersion: String(page.resourceVersion) };
  if (page.continue !== undefined) meta.continue = page.continue;
  if (page.remainingItemCount !== undefined) meta.remainingItemCount = page.remainingItemCount;
  const head = `{"kind":"${type.kind}List","apiVersion":"${apiVersionOf(type)}","metadata":${JSON.stringify(meta)},"items":[`;
  send(res, 200, head + page.items.map((o) => objectJson(type, o)).join(",") + "]}");
}

function deleteOptions(body: Buffer, q: URLSearchParams): DeleteOptions {
  const opts: DeleteOptions = { dryRun: dryRunOf(q) };
  intParam(q, "gracePeriodSeconds"); // accepted and checked, not simulated: deletion is immediate

  const text = body.toString("utf8").trim();
  if (text === "") return opts;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw badRequest(`error decoding DeleteOptions: ${(e as Error).message}`);
  }
  if (!isPlainObject(parsed)) throw badRequest("DeleteOptions must be a JSON object");
  const policy = parsed.propagationPolicy;
  if (policy !== undefined && policy !== null && policy !== "Orphan" && policy !== "Background" && policy !== "Foreground") {
    throw badRequest(`propagationPolicy: Unsupported value: "${String(policy)}": supported values: "Foreground", "Background", "Orphan"`);
  }
  if (Array.isArray(parsed.dryRun) && parsed.dryRun.includes("All")) opts.dryRun = true;
  if (isPlainObject(parsed.preconditions)) {
    const pre = parsed.preconditions;
    opts.preconditions = {};
    if (typeof pre.uid === "string") opts.preconditions.uid = pre.uid;
    if (typeof pre.resourceVersion === "string") opts.preconditions.resourceVersion = pre.resourceVersion;
  }
  return opts;
}

/** Whether field selectors may name metadata.namespace: not for custom resources of a cluster-scoped CRD. */
function namespaceField(type: ResourceType): boolean {
  return type.namespaced || !type.custom;
}

/** Serves one resource request. Throws ApiError for the caller to answer. */
export async function handleResourceRequest(
  ctx: ResourceContext,
  info: ResourceRequest,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<void> {
  const { state } = ctx;
  const type = state.registry.find(info.group, info.version, info.resource);
  if (!type) throw pathNotFound();
  if (!type.namespaced && info.namespace !== "" && !(info.group === "" && info.resource === "namespaces")) throw pathNotFound();
  if (type.namespaced && info.namespace === "" && info.name !== "") throw pathNotFound();
  const q = url.searchParams;
  const accept = req.headers.accept;
  const sub = info.subresource;
  if (sub !== "" && !(type.subresources ?? []).includes(sub)) throw pathNotFound();
  const ns = type.namespaced ? info.namespace : "";

  switch (info.verb) {
    case "get": {
      if (sub !== "" && sub !== "status") throw methodNotAllowed(`GET is not supported on ${info.resource}/${sub}`);
      sendObject(res, 200, type, state.get(type, ns, info.name), accept);
      return;
    }
    case "list":
    case "deletecollection": {
      const fieldSelector = q.get("fieldSelector");
      const labelSelector = q.get("labelSelector");
      const page = listObjects(state.store, type, type.namespaced && info.namespace !== "" ? info.namespace : undefined, {
        labels: parseLabelSelector(labelSelector),
        fields: parseFieldSelector(fieldSelector, type.group, type.kind, namespaceField(type)),
        pinnedName: nameFromFieldSelector(fieldSelector),
        filtered: Boolean(fieldSelector) || Boolean(labelSelector),
        limit: info.verb === "list" ? intParam(q, "limit") : undefined,
        continue: info.verb === "list" ? (q.get("continue") ?? undefined) : undefined,
        resourceVersion: q.get("resourceVersion") ?? undefined,
        resourceVersionMatch: q.get("resourceVersionMatch") ?? undefined,
      });
      if (info.verb === "list") {
        sendList(res, type, page, accept);
        return;
      }
      const opts = deleteOptions(await readBody(req), q);
      const deleted = state.deleteCollection(type, page.items, opts);
      sendList(res, type, { items: deleted, resourceVersion: state.store.resourceVersion }, undefined);
      return;
    }
    case "watch": {
      const fieldSelector = q.get("fieldSelector");
      let fields = parseFieldSelector(fieldSelector, type.group, type.kind, namespaceField(type));
      if (info.name !== "") {
        const name = info.name;
        const base = fields;
        fields = (o) => o.metadata.name === name && base(o);
      }
      const encode = wantsTable(accept)
        ? (obj: KubeObject, rv: number) => JSON.stringify(toTable(type, [obj], String(rv)))
        : undefined;
      const timeoutSeconds = intParam(q, "timeoutSeconds");
      const sendInitialEvents = q.get("sendInitialEvents") === "true";
      if (sendInitialEvents) checkWatchList(q);
      let untrack: (() => void) | undefined;
      const w = startWatch(
        res,
        {
          store: state.store,
          type,
          namespace: type.namespaced && info.namespace !== "" ? info.namespace : undefined,
          labels: parseLabelSelector(q.get("labelSelector")),
          fields,
          resourceVersion: q.get("resourceVersion") ?? undefined,
          sendInitialEvents,
          allowBookmarks: q.get("allowWatchBookmarks") === "true",
          bookmarkIntervalMs: ctx.bookmarkIntervalMs,
          timeoutSeconds,
          encode,
        },
        () => untrack?.(),
      );
      if (!w.ended) untrack = ctx.trackWatch(w);
      return;
    }
    case "create": {
      if (sub !== "" || info.name !== "") throw methodNotAllowed(`POST is not supported on ${url.pathname}`);
      if (type.namespaced && info.namespace === "") throw pathNotFound();
      const warnings: string[] = [];
      const opts = writeOptions(q, warnings);
      const body = decodeObjectBody(await readBody(req), req.headers["content-type"]);
      const created = state.create(type, ns, body, opts);
      sendObject(res, 201, type, created, accept, warnings);
      return;
    }
    case "update": {
      if (info.name === "") throw methodNotAllowed(`PUT is not supported on a collection (${url.pathname})`);
      if (sub === "finalize" && !(type.group === "" && type.plural === "namespaces")) throw pathNotFound();
      const warnings: string[] = [];
      const opts = writeOptions(q, warnings);
      const body = decodeObjectBody(await readBody(req), req.headers["content-type"]);
      const result = state.update(type, ns, info.name, body, sub === "" ? undefined : (sub as "status" | "finalize"), opts);
      sendObject(res, result.created ? 201 : 200, type, result.object, accept, warnings);
      return;
    }
    case "patch": {
      if (info.name === "") throw methodNotAllowed(`PATCH is not supported on a collection (${url.pathname})`);
      if (sub !== "" && sub !== "status") throw methodNotAllowed(`PATCH is not supported on ${info.resource}/${sub}`);
      const warnings: string[] = [];
      const opts = writeOptions(q, warnings);
      const patchType = patchTypeOf(req.headers["content-type"], type);
      if (patchType === "application/apply-patch+yaml" && !q.get("fieldManager")) {
        throw badRequest("fieldManager: Required value: is required for apply patch");
      }
      const body = (await readBody(req)).toString("utf8");
      const result = state.patch(type, ns, info.name, patchType, body, sub === "" ? undefined : "status", opts);
      sendObject(res, result.created ? 201 : 200, type, result.object, accept, warnings);
      return;
    }
    case "delete": {
      if (sub !== "") throw methodNotAllowed(`DELETE is not supported on ${info.resource}/${sub}`);
      const opts = deleteOptions(await readBody(req), q);
      sendObject(res, 200, type, state.delete(type, ns, info.name, opts), accept);
      return;
    }
    default:
      throw methodNotAllowed(`${req.method} is not supported on ${url.pathname}`);
  }
}
