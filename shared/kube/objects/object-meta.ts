/**
 * The metadata fields baremetal-lb reads, and the projection every kind's projection starts from.
 * Informers keep projections, not whole objects: managedFields, kubectl's last-applied annotation and
 * every field no code reads are dropped as the JSON is decoded (as controller-runtime's cache
 * transforms do), so a cached object costs a few hundred bytes instead of kilobytes.
 */
import { metallbAnnotationPrefixes } from "../../service/metallb-annotations.ts";


/** Annotation prefixes kept by projections: MetalLB's two and ours. */
const keptAnnotationPrefixes = [...metallbAnnotationPrefixes, "baremetal-lb.io/"];

export interface OwnerReference {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly uid: string;
  readonly controller?: boolean;
}

export interface ObjectMeta {
  readonly name?: string;
  readonly namespace?: string;
  readonly uid?: string;
  readonly resourceVersion?: string;
  readonly generation?: number;
  /** RFC 3339. */
  readonly creationTimestamp?: string;
  readonly deletionTimestamp?: string;
  readonly labels?: Readonly<Record<string, string>>;
  /** Only MetalLB's (`metallb.universe.tf/`, `metallb.io/`) and ours (`baremetal-lb.io/`). */
  readonly annotations?: Readonly<Record<string, string>>;
  readonly ownerReferences?: readonly OwnerReference[];
}

type Json = Record<string, unknown>;

/** `value` as a JSON object, or an empty one. */
export function asObject(value: unknown): Json {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Json) : {};
}

/** `value` when it is a string, else undefined. */
export function asString(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/** `value` when it is an array, else an empty one. */
export function asArray(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : [];
}

/** A string map (labels, data), or undefined when absent; non-string values are dropped. */
export function asStringMap(value: unknown, keep?: (key: string) => boolean): Readonly<Record<string, string>> | undefined {
  if (value === null || typeof value !== "object") return undefined;
  let out: Record<string, string> | undefined;
  for (const [k, v] of Object.entries(value as Json)) {
    if (typeof v !== "string" || (keep && !keep(k))) continue;
    (out ??= {})[k] = v;
  }
  return out;
}

function keptAnnotation(key: string): boolean {
  return keptAnnotationPrefixes.some((p) => key.startsWith(p));
}

/**
 * The fields of `metadata` that baremetal-lb reads.
 *
 * @example
 * projectMeta({ name: "web", managedFields: [...], annotations: { "kubectl.kubernetes.io/last-applied-configuration": "…" } }); // { name: "web" }
 */
export function projectMeta(raw: unknown): ObjectMeta {
  const m = asObject(raw);
  const owners = asArray(m.ownerReferences).map((o) => {
    const r = asObject(o);
    return { apiVersion: asString(r.apiVersion) ?? "", kind: asString(r.kind) ?? "", name: asString(r.name) ?? "", uid: asString(r.uid) ?? "", ...(r.controller === true ? { controller: true } : {}) };
  });
  return dropUndefined({
    name: asString(m.name),
    namespace: asString(m.namespace),
    uid: asString(m.uid),
    resourceVersion: asString(m.resourceVersion),
    generation: typeof m.generation === "number" ? m.generation : undefined,
    creationTimestamp: asString(m.creationTimestamp),
    deletionTimestamp: asString(m.deletionTimestamp),
    labels: asStringMap(m.labels),
    annotations: asStringMap(m.annotations, keptAnnotation),
    ownerReferences: owners.length > 0 ? owners : undefined,
  });
}

/**
 * `o` without its undefined fields, so a projection holds no empty slots. The defined fields are
 * copied to a new object rather than the others deleted: `delete` turns an object into a hash table
 * (V8's dictionary mode), several times larger than an object of the same shape as its siblings.
 */
export function dropUndefined<T extends object>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as T;
}
