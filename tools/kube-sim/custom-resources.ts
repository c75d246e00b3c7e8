/**
 * CustomResourceDefinitions: validation and status of the CRD object itself, the resource types a stored CRD
 * serves, and the controller that keeps the registry and the custom kinds' schema strategies in step with stored
 * CRDs (a CRD's types are served as soon as it is stored; deleting it deletes its custom resources, then the CRD).
 *
 * @example
 * const types = crdResourceTypes(crd); // one ResourceType per served version, custom: true
 */
import type { StatusCause } from "./api-error.ts";
import type { ClusterState } from "./cluster-state.ts";
import { customResourceStrategy, type SchemaNode, type VersionSchemas } from "./crd-schema.ts";
import type { PrinterColumn } from "./custom-resource-printer.ts";
import { invalidValue, notSupported, required } from "./field-errors.ts";
import { isPlainObject } from "./json-value.ts";
import type { KindStrategy } from "./kind-strategy.ts";
import type { KubeObject, ResourceType } from "./resources.ts";
import { resourceKey } from "./store.ts";

/** The finalizer kube-apiserver puts on CRDs so their custom resources are removed first. */
export const CRD_CLEANUP_FINALIZER = "customresourcecleanup.apiextensions.k8s.io";

interface CrdSpec {
  group?: string;
  scope?: string;
  names?: { plural?: string; singular?: string; kind?: string; listKind?: string; shortNames?: string[]; categories?: string[] };
  versions?: {
    name?: string;
    served?: boolean;
    storage?: boolean;
    subresources?: { status?: unknown; scale?: unknown };
    additionalPrinterColumns?: { name?: string; type?: string; format?: string; description?: string; priority?: number; jsonPath?: string }[];
  }[];
}

const crdType = { group: "apiextensions.k8s.io", plural: "customresourcedefinitions" };

function specOf(crd: KubeObject): CrdSpec {
  return (isPlainObject(crd.spec) ? crd.spec : {}) as CrdSpec;
}

/** The openAPIV3Schema of each version of a CRD that has one. */
function versionSchemas(crd: KubeObject): VersionSchemas {
  const out = new Map<string, SchemaNode>();
  for (const v of specOf(crd).versions ?? []) {
    const schema = (v as { schema?: { openAPIV3Schema?: unknown } }).schema?.openAPIV3Schema;
    if (typeof v.name === "string" && isPlainObject(schema)) out.set(v.name, schema as SchemaNode);
  }
  return out;
}

/** A version's `additionalPrinterColumns` that name a column, a type and a path. */
function printerColumns(declared: NonNullable<CrdSpec["versions"]>[number]["additionalPrinterColumns"]): PrinterColumn[] {
  const out: PrinterColumn[] = [];
  for (const c of declared ?? []) {
    if (typeof c.name !== "string" || typeof c.type !== "string" || typeof c.jsonPath !== "string") continue;
    const column: PrinterColumn = { name: c.name, type: c.type, jsonPath: c.jsonPath };
    if (typeof c.format === "string") column.format = c.format;
    if (typeof c.description === "string") column.description = c.description;
    if (typeof c.priority === "number") column.priority = c.priority;
    out.push(column);
  }
  return out;
}

/** The resource types a CRD serves: one per served version, with its printer columns and schema. */
export function crdResourceTypes(crd: KubeObject): ResourceType[] {
  const spec = specOf(crd);
  const names = spec.names ?? {};
  if (!spec.group || !names.plural || !names.kind) return [];
  return (spec.versions ?? [])
    .filter((v) => v.served !== false && typeof v.name === "string")
    .map((v) => {
      // Only the status subresource is served; scale is not simulated.
      const subresources: string[] = v.subresources?.status !== undefined ? ["status"] : [];
      const type: ResourceType = {
        group: spec.group!,
        version: v.name!,
        kind: names.kind!,
        plural: names.plural!,
        singular: names.singular || names.kind!.toLowerCase(),
        namespaced: spec.scope !== "Cluster",
        custom: true,
        hasStatus: v.subresources?.status !== undefined,
      };
      if (names.shortNames?.length) type.shortNames = [...names.shortNames];
      if (names.categories?.length) type.categories = [...names.categories];
      if (subresources.length > 0) type.subresources = subresources;
      const columns = printerColumns(v.additionalPrinterColumns);
      if (columns.length > 0) type.printerColumns = columns;
      const schema = (v as { schema?: { openAPIV3Schema?: unknown } }).schema?.openAPIV3Schema;
      if (isPlainObject(schema)) type.openAPIV3Schema = schema as SchemaNode;
      return type;
    });
}

function crdStatus(crd: KubeObject, old: KubeObject | undefined): unknown {
  const spec = specOf(crd);
  const names = spec.names ?? {};
  const oldConditions = (isPlainObject(old?.status) ? (old!.status as { conditions?: { type: string; lastTransitionTime?: string }[] }).conditions : undefined) ?? [];
  const time = (t: string) => oldConditions.find((c) => c.type === t)?.lastTransitionTime ?? new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
  return {
    acceptedNames: {
      plural: names.plural,
      singular: names.singular || (names.kind ?? "").toLowerCase(),
      kind: names.kind,
      listKind: names.listKind || `${names.kind}List`,
      ...(names.shortNames?.length ? { shortNames: names.shortNames } : {}),
      ...(names.categories?.length ? { categories: names.categories } : {}),
    },
    conditions: [
      { type: "NamesAccepted", status: "True", reason: "NoConflicts", message: "no conflicts found", lastTransitionTime: time("NamesAccepted") },
      { type: "Established", status: "True", reason: "InitialNamesAccepted", message: "the initial names have been accepted", lastTransitionTime: time("Established") },
    ],
    storedVersions: (spec.versions ?? []).filter((v) => v.storage).map((v) => v.name),
  };
}

/** The column types apiextensions accepts, as its error lists them. */
const printerColumnTypes = ["boolean", "date", "integer", "number", "string"];

function validateCrd(crd: KubeObject, old: KubeObject | undefined): StatusCause[] {
  const causes: StatusCause[] = [];
  const spec = specOf(crd);
  const names = spec.names ?? {};
  if (!spec.group) causes.push(required("spec.group"));
  if (!names.plural) causes.push(required("spec.names.plural"));
  if (!names.kind) causes.push(required("spec.names.kind"));
  if (spec.group && names.plural && crd.metadata.name !== `${names.plural}.${spec.group}`) {
    causes.push(invalidValue("metadata.name", crd.metadata.name, `must be spec.names.plural+"."+spec.group`));
  }
  if (spec.scope !== "Namespaced" && spec.scope !== "Cluster") causes.push(notSupported("spec.scope", spec.scope ?? "", ["Cluster", "Namespaced"]));
  const versions = spec.versions ?? [];
  if (versions.length === 0) causes.push(required("spec.versions", "must have exactly one version marked as storage version"));
  else if (versions.filter((v) => v.storage).length !== 1) causes.push(invalidValue("spec.versions", versions.map((v) => v.name), "must have exactly one version marked as storage version"));
  versions.forEach((v, i) => {
    (v.additionalPrinterColumns ?? []).forEach((c, j) => {
      const path = `spec.versions[${i}].additionalPrinterColumns[${j}]`;
      if (!c.name) causes.push(required(`${path}.name`));
      if (!c.type) causes.push(required(`${path}.type`));
      else if (!printerColumnTypes.includes(c.type)) causes.push(notSupported(`${path}.type`, c.type, printerColumnTypes));
      if (!c.jsonPath) causes.push(required(`${path}.JSONPath`));
      else if (!c.jsonPath.startsWith(".")) causes.push(invalidValue(`${path}.JSONPath`, c.jsonPath, "must be a simple json path starting with ."));
    });
  });
  if (old !== undefined) {
    const oldSpec = specOf(old);
    if (oldSpec.group !== spec.group) causes.push(invalidValue("spec.group", spec.group, "field is immutable"));
    if (oldSpec.names?.plural !== names.plural) causes.push(invalidValue("spec.names.plural", names.plural, "field is immutable"));
    if (oldSpec.scope !== spec.scope) causes.push(invalidValue("spec.scope", spec.scope, "field is immutable"));
  }
  return causes;
}

/** The CRD kind's strategy: name = plural.group, one storage version, server-computed status, cleanup finalizer. */
export const crdStrategy: KindStrategy = {
  statusOnCreate: (crd) => crdStatus(crd, undefined),
  prepareForCreate(crd) {
    const f = crd.metadata.finalizers ?? [];
    if (!f.includes(CRD_CLEANUP_FINALIZER)) crd.metadata.finalizers = [...f, CRD_CLEANUP_FINALIZER];
  },
  prepareForUpdate(crd, old) {
    crd.status = crdStatus(crd, old);
  },
  validate: validateCrd,
};

/**
 * Keeps `state.registry` in step with stored CRDs and removes a deleted CRD's custom resources before removing
 * its cleanup finalizer. Returns the function that stops it.
 */
export function runCrdController(state: ClusterState, retryMs = 50): () => void {
  const pending = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  const crdResource = state.registry.find("apiextensions.k8s.io", "v1", "customresourcedefinitions");
  if (!crdResource) throw new Error("the CustomResourceDefinition type is missing from the built-in resources");

  const cleanup = () => {
    timer = undefined;
    for (const name of [...pending]) {
      const stored = state.find(crdResource, "", name);
      if (!stored || stored.object.metadata.deletionTimestamp === undefined) {
        pending.delete(name);
        continue;
      }
      const types = crdResourceTypes(stored.object);
      let remaining = 0;
      if (types.length > 0) {
        const t = types[0];
        for (const o of state.list(t)) {
          if (o.object.metadata.deletionTimestamp === undefined) state.delete(t, o.object.metadata.namespace ?? "", o.object.metadata.name ?? "");
        }
        remaining = state.store.count(resourceKey(t));
      }
      if (remaining === 0) {
        const finalizers = (stored.object.metadata.finalizers ?? []).filter((f) => f !== CRD_CLEANUP_FINALIZER);
        state.update(crdResource, "", name, { ...stored.object, metadata: { ...stored.object.metadata, finalizers } });
        pending.delete(name);
      }
    }
    if (pending.size > 0) timer = setTimeout(cleanup, retryMs);
  };

  const unsubscribe = state.store.subscribe(resourceKey(crdType), (e) => {
    const name = e.name;
    const before = e.previous ? crdResourceTypes(e.previous.object)[0] : undefined;
    if (before) state.setStrategy(before.group, before.kind, undefined);
    if (e.type === "DELETED") {
      state.registry.setCustom(name, []);
      return;
    }
    const types = crdResourceTypes(e.current.object);
    state.registry.setCustom(name, types);
    if (types.length > 0) state.setStrategy(types[0].group, types[0].kind, customResourceStrategy(versionSchemas(e.current.object)));
    if (e.current.object.metadata.deletionTimestamp !== undefined && !pending.has(name)) {
      pending.add(name);
      timer ??= setTimeout(cleanup, 0);
    }
  });
  return () => {
    unsubscribe();
    if (timer) clearTimeout(timer);
  };
}
