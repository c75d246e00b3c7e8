/**
 * Kubernetes write semantics over the versioned store: create, update (main and status subresources), patch,
 * delete with finalizers, delete-collection and reads, each with the checks and errors kube-apiserver applies
 * (AlreadyExists, NotFound, Conflict on a stale resourceVersion, Invalid with field causes, namespace lifecycle,
 * unknown fields under fieldValidation Strict/Warn/Ignore).
 * Both the HTTP layer and the simulated controllers write through this class.
 *
 * @example
 * const state = new ClusterState(store, registry, strategies);
 * state.create(servicesType, "default", { metadata: { name: "web" }, spec: { ports: [{ port: 80 }] } });
 */
import { randomUUID } from "node:crypto";
import {
  ApiError,
  alreadyExists,
  badRequest,
  conflict,
  failureStatus,
  forbidden,
  invalid,
  notFound,
  type StatusCause,
} from "./api-error.ts";
import { forbiddenField, invalidValue, metadataProblems, nameProblems, required } from "./field-errors.ts";
import { goJson, isPlainObject, jsonEqual } from "./json-value.ts";
import type { KindStrategy } from "./kind-strategy.ts";
import { applyPatch, parseApplyBody, type PatchType } from "./patch.ts";
import type { ResourceRegistry } from "./resource-registry.ts";
import { apiVersionOf, type KubeObject, type ResourceType } from "./resources.ts";
import { resourceKey, type Store, StoredObject } from "./store.ts";

/** kube-apiserver's `fieldValidation` directive: what a write does with fields its kind does not declare. */
export type FieldValidation = "Strict" | "Warn" | "Ignore";

/** Options every write accepts. */
export interface WriteOptions {
  /** dryRun=All: run every check and return the result without storing it. */
  dryRun?: boolean;
  /**
   * Unknown fields (of kinds whose strategy reports them: custom resources): `Strict` refuses the write with
   * apiserver's strict decoding error, `Warn` adds one warning per field to `warnings`, `Ignore` (the default for
   * in-process writers) drops them silently. Server-side apply refuses them whatever this says.
   */
  fieldValidation?: FieldValidation;
  /** Receives this write's warnings (the HTTP layer sends them as `Warning` headers). */
  warnings?: string[];
}

/** Delete options (body of DELETE and query parameters). */
export interface DeleteOptions extends WriteOptions {
  preconditions?: { uid?: string; resourceVersion?: string };
}

/** Result of an update or patch: the stored object and whether it was created. */
export interface WriteResult {
  object: StoredObject;
  created: boolean;
}

/** The subresources whose writes go through `update`. */
export type WritableSubresource = "status" | "finalize";

const namespacesType = { group: "", plural: "namespaces" } as const;
const generateNameAlphabet = "bcdfghjklmnpqrstvwxz2456789";

function now(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
}

function randomSuffix(): string {
  let s = "";
  for (let i = 0; i < 5; i++) s += generateNameAlphabet[Math.floor(Math.random() * generateNameAlphabet.length)];
  return s;
}

function decodeFailure(type: ResourceType, why: string): ApiError {
  return badRequest(`${type.kind} in version "${type.version}" cannot be handled as a ${type.kind}: ${why}`);
}

/** apiserver's GroupVersionKind.String(): "metallb.io/v1beta1, Kind=IPAddressPool", "/v1, Kind=Pod". */
function gvkString(type: ResourceType): string {
  return `${type.group}/${type.version}, Kind=${type.kind}`;
}

/** Fields other than metadata (and status when the type has a status subresource) differ. */
function specChanged(a: KubeObject, b: KubeObject, type: ResourceType): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) {
    if (k === "metadata" || k === "kind" || k === "apiVersion") continue;
    if (k === "status" && type.hasStatus) continue;
    if (!jsonEqual(a[k], b[k])) return true;
  }
  return false;
}

/** True when a namespace may be removed from storage: deleting and no finalizers of either kind left. */
function namespaceFinalized(obj: KubeObject): boolean {
  const specFinalizers = (obj.spec as { finalizers?: unknown[] } | undefined)?.finalizers ?? [];
  return specFinalizers.length === 0 && (obj.metadata.finalizers ?? []).length === 0;
}

/** Typed, validated reads and writes of the simulated cluster. */
export class ClusterState {
  readonly store: Store;
  readonly registry: ResourceRegistry;
  readonly #strategies: Map<string, KindStrategy>;

  /** `strategies` maps "<group>/<Kind>" (core group ""), e.g. "/Service", to that kind's hooks. */
  constructor(store: Store, registry: ResourceRegistry, strategies: ReadonlyMap<string, KindStrategy>) {
    this.store = store;
    this.registry = registry;
    this.#strategies = new Map(strategies);
  }

  /** Sets (or with undefined, removes) the hooks of `group`/`kind`; used for custom resource kinds. */
  setStrategy(group: string, kind: string, strategy: KindStrategy | undefined): void {
    if (strategy === undefined) this.#strategies.delete(`${group}/${kind}`);
    else this.#strategies.set(`${group}/${kind}`, strategy);
  }

  #strategy(type: ResourceType): KindStrategy {
    return this.#strategies.get(`${type.group}/${type.kind}`) ?? {};
  }

  /** The stored object or 404. */
  get(type: ResourceType, namespace: string, name: string): StoredObject {
    const found = this.store.get(resourceKey(type), type.namespaced ? namespace : "", name);
    if (!found) throw notFound(type, name);
    return found;
  }

  /** The stored object or undefined. */
  find(type: ResourceType, namespace: string, name: string): StoredObject | undefined {
    return this.store.get(resourceKey(type), type.namespaced ? namespace : "", name);
  }

  /** Current objects of `type` (all namespaces when `namespace` is undefined or the type is cluster-scoped). */
  list(type: ResourceType, namespace?: string): StoredObject[] {
    return [...this.store.list(resourceKey(type), type.namespaced ? namespace : undefined)];
  }

  /** Checks the body's apiVersion/kind against the URL's type and fills them in. */
  #checkTypeMeta(type: ResourceType, body: KubeObject): void {
    const want = apiVersionOf(type);
    if (body.apiVersion !== undefined && body.apiVersion !== "" && body.apiVersion !== want) {
      // Multi-version custom resources share storage; any served version of the same group is accepted.
      const sameGroup = type.custom && typeof body.apiVersion === "string" && body.apiVersion.startsWith(`${type.group}/`);
      if (!sameGroup) {
        throw badRequest(`the API version in the data (${String(body.apiVersion)}) does not match the expected API version (${want})`);
      }
    }
    if (body.kind !== undefined && body.kind !== "" && body.kind !== type.kind) {
      throw badRequest(`the kind in the data (${String(body.kind)}) does not match the expected kind (${type.kind})`);
    }
    body.apiVersion = want;
    body.kind = type.kind;
  }

  #checkDecodable(type: ResourceType, obj: KubeObject): void {
    const problem = this.#strategy(type).decodeProblem?.(obj);
    if (problem !== undefined) throw decodeFailure(type, problem);
  }

  #checkBodyShape(type: ResourceType, body: unknown): KubeObject {
    if (!isPlainObject(body)) throw decodeFailure(type, "the request body must be a JSON object");
    if (body.metadata === undefined || body.metadata === null) body.metadata = {};
    if (!isPlainObject(body.metadata)) throw decodeFailure(type, "metadata must be an object");
    const meta = body.metadata as Record<string, unknown>;
    for (const f of ["name", "generateName", "namespace", "resourceVersion", "uid"]) {
      if (meta[f] !== undefined && meta[f] !== null && typeof meta[f] !== "string") {
        throw decodeFailure(type, `json: cannot unmarshal ${typeof meta[f]} into Go struct field ObjectMeta.metadata.${f} of type string`);
      }
    }
    for (const f of ["labels", "annotations"]) {
      if (meta[f] !== undefined && meta[f] !== null && !isPlainObject(meta[f])) {
        throw decodeFailure(type, `json: cannot unmarshal ${Array.isArray(meta[f]) ? "array" : typeof meta[f]} into Go struct field ObjectMeta.metadata.${f} of type map[string]string`);
      }
    }
    if (meta.finalizers !== undefined && meta.finalizers !== null && !Array.isArray(meta.finalizers)) {
      throw decodeFailure(type, "json: cannot unmarshal into Go struct field ObjectMeta.metadata.finalizers of type []string");
    }
    for (const [k, v] of Object.entries(meta)) if (v === null) delete meta[k];
    this.#checkDecodable(type, body as KubeObject);
    return body as KubeObject;
  }

  /**
   * Applies the fieldValidation directive to a decoded body (`from: "body"`, POST/PUT: 400 "<Kind> in version ...
   * cannot be handled as a <Kind>: strict decoding error: ...") or to a patched object (`from: "patch"`: 422 on the
   * field "patch", whose value is the patched object, as apiserver's patch handler words it).
   */
  #checkUnknownFields(type: ResourceType, obj: KubeObject, opts: WriteOptions, from: "body" | "patch"): void {
    const mode = opts.fieldValidation ?? "Ignore";
    if (mode === "Ignore") return;
    const paths = this.#strategy(type).unknownFields?.(obj) ?? [];
    if (paths.length === 0) return;
    const problems = paths.map((p) => `unknown field "${p}"`);
    if (mode === "Warn") {
      opts.warnings?.push(...problems);
      return;
    }
    const strict = `strict decoding error: ${problems.join(", ")}`;
    if (from === "body") throw badRequest(`${type.kind} in version "${type.version}" cannot be handled as a ${type.kind}: ${strict}`);
    const cause = { reason: "FieldValueInvalid", message: `Invalid value: ${JSON.stringify(goJson(obj))}: ${strict}`, field: "patch" };
    throw new ApiError(failureStatus(422, "Invalid", ` "" is invalid: patch: ${cause.message}`, { causes: [cause] }));
  }

  /**
   * Server-side apply refuses fields the schema does not declare, whatever the fieldValidation, with
   * structured-merge-diff's message (500, as apiserver answers errors that are not API statuses).
   */
  #checkApplyFields(type: ResourceType, applied: KubeObject, namespace: string, name: string): void {
    const paths = this.#strategy(type).undeclaredApplyFields?.(applied) ?? [];
    if (paths.length === 0) return;
    const errors = paths.map((p) => `${p}: field not declared in schema`);
    const detail = errors.length === 1 ? errors[0] : ["errors:", ...errors.map((e) => `  ${e}`)].join("\n");
    const ns = type.namespaced ? (applied.metadata.namespace ?? namespace) : "";
    throw new ApiError(failureStatus(500, "", `failed to create typed patch object (${ns}/${applied.metadata.name ?? name}; ${gvkString(type)}): ${detail}`));
  }

  /** 404 when the namespace is missing, 403 when it is terminating. */
  #checkNamespaceWritable(type: ResourceType, namespace: string, name: string): void {
    if (!type.namespaced) return;
    const ns = this.store.get(resourceKey(namespacesType), "", namespace);
    if (!ns) throw notFound(namespacesType, namespace);
    if (ns.object.metadata.deletionTimestamp !== undefined) {
      throw forbidden(
        type,
        name,
        `${type.group === "" ? type.plural : `${type.plural}.${type.group}`} "${name}" is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`,
      );
    }
  }

  #validate(type: ResourceType, obj: KubeObject, old: KubeObject | undefined, subresource?: WritableSubresource): void {
    const strategy = this.#strategy(type);
    const causes: StatusCause[] = [];
    const name = obj.metadata.name ?? "";
    if (old === undefined) {
      for (const p of nameProblems(name, strategy.nameRule ?? "dns1123-subdomain")) causes.push(invalidValue("metadata.name", name, p));
    }
    causes.push(...metadataProblems(obj.metadata));
    if (old !== undefined && old.metadata.deletionTimestamp !== undefined) {
      const before = new Set(old.metadata.finalizers ?? []);
      for (const f of obj.metadata.finalizers ?? []) {
        if (!before.has(f)) {
          causes.push(forbiddenField("metadata.finalizers", `no new finalizers can be added if the object is being deleted, found new finalizers []string{${JSON.stringify(f)}}`));
          break;
        }
      }
    }
    if (subresource === "status") {
      if (strategy.validateStatus) causes.push(...strategy.validateStatus(obj, old!));
    } else if (strategy.validate) {
      causes.push(...strategy.validate(obj, old));
    }
    if (causes.length > 0) throw invalid(type, name, causes);
  }

  /**
   * POST: creates `body` in `namespace`. Fills uid, creationTimestamp, generation 1 and resourceVersion; applies
   * generateName; resets status for kinds whose status is server-owned.
   */
  create(type: ResourceType, namespace: string, body: unknown, opts: WriteOptions = {}): StoredObject {
    const obj = this.#checkBodyShape(type, body);
    this.#checkTypeMeta(type, obj);
    this.#checkUnknownFields(type, obj, opts, "body");
    const meta = obj.metadata;
    if (type.namespaced) {
      if (meta.namespace !== undefined && meta.namespace !== "" && meta.namespace !== namespace) {
        throw badRequest("the namespace of the provided object does not match the namespace sent on the request");
      }
      meta.namespace = namespace;
    } else {
      delete meta.namespace;
    }
    if (meta.resourceVersion !== undefined && meta.resourceVersion !== "") {
      throw new ApiError(failureStatus(500, "InternalError", "Internal error occurred: resourceVersion should not be set on objects to be created"));
    }
    const generated = (meta.name === undefined || meta.name === "") && typeof meta.generateName === "string" && meta.generateName !== "";
    if (!generated && (meta.name === undefined || meta.name === "")) {
      throw invalid(type, "", [required("metadata.name", "name or generateName is required")]);
    }
    this.#checkNamespaceWritable(type, namespace, meta.name ?? meta.generateName ?? "");
    const strategy = this.#strategy(type);
    const key = resourceKey(type);
    const ns = type.namespaced ? namespace : "";
    if (generated) {
      for (let attempt = 0; ; attempt++) {
        meta.name = `${meta.generateName}${randomSuffix()}`;
        if (!this.store.get(key, ns, meta.name)) break;
        if (attempt >= 7) throw alreadyExists(type, meta.name);
      }
    }
    meta.uid = randomUUID();
    meta.creationTimestamp = now();
    meta.generation = 1;
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    delete meta.managedFields;
    delete meta.selfLink;
    // Custom resources with a status subresource cannot set status on create (apiextensions-apiserver).
    if (type.custom && type.hasStatus) delete obj.status;
    if (strategy.statusOnCreate) {
      const status = strategy.statusOnCreate(obj);
      if (status === undefined) delete obj.status;
      else obj.status = status;
    }
    strategy.prepareForCreate?.(obj);
    this.#validate(type, obj, undefined);
    if (this.store.get(key, ns, meta.name!)) throw alreadyExists(type, meta.name!);
    if (opts.dryRun) return this.#uncommitted(obj);
    const rv = this.store.nextResourceVersion();
    meta.resourceVersion = String(rv);
    return this.store.commit("ADDED", key, obj, rv).current;
  }

  #uncommitted(obj: KubeObject): StoredObject {
    obj.metadata.resourceVersion = String(this.store.resourceVersion);
    return new StoredObject(obj, this.store.resourceVersion);
  }

  /**
   * PUT (main resource or a subresource): replaces the object with `body`. A non-empty
   * `metadata.resourceVersion` must equal the stored one (else 409). Status is taken only through `status`.
   */
  update(
    type: ResourceType,
    namespace: string,
    name: string,
    body: unknown,
    subresource?: WritableSubresource,
    opts: WriteOptions = {},
  ): WriteResult {
    const incoming = this.#checkBodyShape(type, body);
    this.#checkTypeMeta(type, incoming);
    this.#checkUnknownFields(type, incoming, opts, "body");
    const existing = this.find(type, namespace, name);
    if (!existing) {
      if (subresource === undefined && this.#strategy(type).allowCreateOnUpdate) {
        if (incoming.metadata.name !== name) {
          throw badRequest(`the name of the object (${incoming.metadata.name ?? ""}) does not match the name on the URL (${name})`);
        }
        delete incoming.metadata.resourceVersion;
        return { object: this.create(type, namespace, incoming, { ...opts, fieldValidation: "Ignore" }), created: true };
      }
      throw notFound(type, name);
    }
    return { object: this.#replace(type, existing, incoming, subresource, opts), created: false };
  }

  /**
   * PATCH: applies a patch of `patchType` to the stored object (server-side apply creates a missing object and
   * answers `created: true`).
   */
  patch(
    type: ResourceType,
    namespace: string,
    name: string,
    patchType: PatchType,
    body: string,
    subresource?: WritableSubresource,
    opts: WriteOptions = {},
  ): WriteResult {
    const existing = this.find(type, namespace, name);
    if (patchType === "application/apply-patch+yaml") this.#checkApplyFields(type, parseApplyBody(body, type), namespace, name);
    if (!existing) {
      if (patchType === "application/apply-patch+yaml" && subresource === undefined) {
        const applied = parseApplyBody(body, type);
        if (applied.metadata.name !== undefined && applied.metadata.name !== name) {
          throw badRequest(`the name of the object (${applied.metadata.name}) does not match the name on the URL (${name})`);
        }
        applied.metadata.name = name;
        delete applied.metadata.resourceVersion;
        return { object: this.create(type, namespace, applied, { ...opts, fieldValidation: "Ignore" }), created: true };
      }
      throw notFound(type, name);
    }
    const patched = this.#checkBodyShape(type, applyPatch(existing.object, patchType, body, type));
    if (patchType !== "application/apply-patch+yaml") this.#checkUnknownFields(type, patched, opts, "patch");
    // A patch that leaves resourceVersion untouched carries the stored one; one that sets it is a precondition.
    return { object: this.#replace(type, existing, patched, subresource, opts), created: false };
  }

  #replace(
    type: ResourceType,
    existing: StoredObject,
    incoming: KubeObject,
    subresource: WritableSubresource | undefined,
    opts: WriteOptions,
  ): StoredObject {
    const old = existing.object;
    const name = old.metadata.name!;
    const meta = incoming.metadata;
    if (meta.name !== name) {
      throw badRequest(`the name of the object (${meta.name ?? ""}) does not match the name on the URL (${name})`);
    }
    if (type.namespaced) {
      if (meta.namespace !== undefined && meta.namespace !== "" && meta.namespace !== old.metadata.namespace) {
        throw badRequest("the namespace of the provided object does not match the namespace sent on the request");
      }
    }
    if (meta.resourceVersion !== undefined && meta.resourceVersion !== "" && meta.resourceVersion !== old.metadata.resourceVersion) {
      throw conflict(type, name);
    }
    if (meta.uid !== undefined && meta.uid !== "" && meta.uid !== old.metadata.uid) {
      throw conflict(type, name, `Precondition failed: UID in precondition: ${meta.uid}, UID in object meta: ${old.metadata.uid}`);
    }
    const strategy = this.#strategy(type);
    let next: KubeObject;
    if (subresource === "status") {
      next = { ...old, metadata: { ...old.metadata } };
      if (incoming.status === undefined) delete next.status;
      else next.status = incoming.status;
      strategy.prepareForStatusUpdate?.(next, old);
    } else if (subresource === "finalize") {
      const spec = isPlainObject(old.spec) ? { ...old.spec } : {};
      const finalizers = (incoming.spec as { finalizers?: unknown } | undefined)?.finalizers;
      if (finalizers === undefined) delete spec.finalizers;
      else spec.finalizers = finalizers;
      next = { ...old, metadata: { ...old.metadata }, spec };
    } else {
      next = incoming;
      const keep = ["uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation"] as const;
      const nextMeta = next.metadata as Record<string, unknown>;
      for (const f of keep) {
        if (old.metadata[f] === undefined) delete nextMeta[f];
        else nextMeta[f] = old.metadata[f];
      }
      if (type.namespaced) next.metadata.namespace = old.metadata.namespace;
      else delete next.metadata.namespace;
      delete next.metadata.managedFields;
      delete next.metadata.selfLink;
      if (type.hasStatus) {
        if (old.status === undefined) delete next.status;
        else next.status = old.status;
      }
      strategy.prepareForUpdate?.(next, old);
      if (specChanged(next, old, type)) next.metadata.generation = (old.metadata.generation ?? 0) + 1;
    }
    next.apiVersion = old.apiVersion;
    next.kind = old.kind;
    next.metadata.resourceVersion = old.metadata.resourceVersion;
    this.#validate(type, next, old, subresource);
    const key = resourceKey(type);
    const deletable =
      next.metadata.deletionTimestamp !== undefined &&
      (next.metadata.finalizers ?? []).length === 0 &&
      (type.group !== "" || type.plural !== "namespaces" || namespaceFinalized(next));
    if (!deletable && jsonEqual(next, old)) return existing;
    if (opts.dryRun) return this.#uncommitted(next);
    const rv = this.store.nextResourceVersion();
    next.metadata.resourceVersion = String(rv);
    return this.store.commit(deletable ? "DELETED" : "MODIFIED", key, next, rv).current;
  }

  /**
   * DELETE: removes the object, or — when it has finalizers (or is a namespace with spec.finalizers) — marks it
   * with deletionTimestamp (generation + 1) and keeps it until they are gone. Returns the object's last state.
   */
  delete(type: ResourceType, namespace: string, name: string, opts: DeleteOptions = {}): StoredObject {
    const existing = this.get(type, namespace, name);
    const old = existing.object;
    const pre = opts.preconditions;
    if (pre?.uid !== undefined && pre.uid !== old.metadata.uid) {
      throw conflict(type, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${old.metadata.uid}`);
    }
    if (pre?.resourceVersion !== undefined && pre.resourceVersion !== old.metadata.resourceVersion) {
      throw conflict(type, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${old.metadata.resourceVersion}`);
    }
    const key = resourceKey(type);
    const isNamespace = type.group === "" && type.plural === "namespaces";
    const pending = (old.metadata.finalizers ?? []).length > 0 || (isNamespace && !namespaceFinalized(old));
    if (pending) {
      if (old.metadata.deletionTimestamp !== undefined) return existing;
      const next: KubeObject = {
        ...old,
        metadata: {
          ...old.metadata,
          deletionTimestamp: now(),
          deletionGracePeriodSeconds: 0,
          generation: (old.metadata.generation ?? 0) + 1,
        },
      };
      if (isNamespace) next.status = { ...(isPlainObject(old.status) ? old.status : {}), phase: "Terminating" };
      if (opts.dryRun) return this.#uncommitted(next);
      const rv = this.store.nextResourceVersion();
      next.metadata.resourceVersion = String(rv);
      return this.store.commit("MODIFIED", key, next, rv).current;
    }
    if (opts.dryRun) return existing;
    const rv = this.store.nextResourceVersion();
    const last: KubeObject = { ...old, metadata: { ...old.metadata, resourceVersion: String(rv) } };
    return this.store.commit("DELETED", key, last, rv).current;
  }

  /** DELETE on a collection: deletes every listed object (those with finalizers are only marked). */
  deleteCollection(type: ResourceType, objects: readonly StoredObject[], opts: DeleteOptions = {}): StoredObject[] {
    const out: StoredObject[] = [];
    for (const o of objects) {
      const ns = o.object.metadata.namespace ?? "";
      const name = o.object.metadata.name ?? "";
      if (!this.find(type, ns, name)) continue;
      out.push(this.delete(type, ns, name, { dryRun: opts.dryRun }));
    }
    return out;
  }
}
