/**
 * Structural OpenAPI v3 schemas of CustomResourceDefinitions, applied to custom resources the way
 * apiextensions-apiserver does on every write: unknown fields are pruned (unless
 * `x-kubernetes-preserve-unknown-fields`), `null` in non-nullable fields is dropped, `default`s are filled in, then
 * the object is validated (type, required, enum, pattern, bounds, lengths, item counts) with apiserver-worded
 * field errors. The fields it prunes are also reported (`unknownFieldPaths`), for `fieldValidation=Strict` and
 * `Warn`. CEL rules (`x-kubernetes-validations`) and `format` checks are not evaluated.
 *
 * @example
 * const { object, causes } = applySchema(widget, crd.spec.versions[0].schema.openAPIV3Schema);
 */
import type { StatusCause } from "./api-error.ts";
import { notSupported, required } from "./field-errors.ts";
import { isPlainObject, jsonClone } from "./json-value.ts";
import type { KindStrategy } from "./kind-strategy.ts";
import type { KubeObject } from "./resources.ts";

/** The subset of an OpenAPI v3 schema node that structural schemas use. */
export interface SchemaNode {
  type?: string;
  properties?: Record<string, SchemaNode>;
  additionalProperties?: SchemaNode | boolean;
  items?: SchemaNode;
  required?: string[];
  enum?: unknown[];
  pattern?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  exclusiveMaximum?: boolean;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  minProperties?: number;
  maxProperties?: number;
  nullable?: boolean;
  default?: unknown;
  "x-kubernetes-preserve-unknown-fields"?: boolean;
  "x-kubernetes-int-or-string"?: boolean;
  "x-kubernetes-embedded-resource"?: boolean;
  [key: string]: unknown;
}

function show(v: unknown): string {
  return typeof v === "string" ? JSON.stringify(v) : JSON.stringify(v) ?? String(v);
}

function invalid(field: string, value: unknown, detail: string): StatusCause {
  return { reason: "FieldValueInvalid", message: `Invalid value: ${show(value)}: ${detail}`, field };
}

function typeOk(value: unknown, schema: SchemaNode): boolean {
  if (schema["x-kubernetes-int-or-string"]) return (typeof value === "number" && Number.isInteger(value)) || typeof value === "string";
  switch (schema.type) {
    case "string":
      return typeof value === "string";
    case "integer":
      return typeof value === "number" && Number.isInteger(value);
    case "number":
      return typeof value === "number";
    case "boolean":
      return typeof value === "boolean";
    case "object":
      return isPlainObject(value);
    case "array":
      return Array.isArray(value);
    default:
      return true;
  }
}

function jsonType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}

/** Prunes unknown fields, drops non-nullable nulls and applies defaults; returns the new value. */
function normalize(value: unknown, schema: SchemaNode, root: boolean): unknown {
  if (isPlainObject(value) && (schema.type === "object" || schema.properties !== undefined)) {
    const out: Record<string, unknown> = {};
    const preserve = schema["x-kubernetes-preserve-unknown-fields"] === true;
    const extra = schema.additionalProperties;
    for (const [k, v] of Object.entries(value)) {
      if (root && (k === "apiVersion" || k === "kind" || k === "metadata")) {
        out[k] = v;
        continue;
      }
      const child = schema.properties?.[k] ?? (isPlainObject(extra) ? (extra as SchemaNode) : undefined);
      if (child === undefined) {
        if (preserve || extra === true || (schema["x-kubernetes-embedded-resource"] && (k === "apiVersion" || k === "kind" || k === "metadata"))) out[k] = v;
        continue;
      }
      if (v === null && !child.nullable) {
        if (child.default !== undefined) out[k] = jsonClone(child.default);
        continue;
      }
      out[k] = normalize(v, child, false);
    }
    for (const [k, child] of Object.entries(schema.properties ?? {})) {
      if (out[k] === undefined && child.default !== undefined) out[k] = normalize(jsonClone(child.default), child, false);
    }
    return out;
  }
  if (Array.isArray(value) && schema.items) {
    const items = schema.items;
    return value.filter((v) => v !== null || items.nullable).map((v) => normalize(v, items, false));
  }
  return value;
}

function validate(value: unknown, schema: SchemaNode, path: string, causes: StatusCause[]): void {
  const field = path;
  if (value === null) {
    if (!schema.nullable && schema.type !== undefined) causes.push(invalid(field, "null", `${field} in body must be of type ${schema.type}: "null"`));
    return;
  }
  if (!typeOk(value, schema)) {
    const want = schema["x-kubernetes-int-or-string"] ? "integer or string" : schema.type;
    causes.push(invalid(field, jsonType(value), `${field} in body must be of type ${want}: "${jsonType(value)}"`));
    return;
  }
  if (schema.enum !== undefined && !schema.enum.some((e) => JSON.stringify(e) === JSON.stringify(value))) {
    causes.push(notSupported(field, value, schema.enum.map((e) => (typeof e === "string" ? e : JSON.stringify(e)))));
  }
  if (typeof value === "string") {
    if (schema.pattern !== undefined && !new RegExp(schema.pattern, "u").test(value)) causes.push(invalid(field, value, `${field} in body should match '${schema.pattern}'`));
    if (schema.minLength !== undefined && [...value].length < schema.minLength) causes.push(invalid(field, value, `${field} in body should be at least ${schema.minLength} chars long`));
    if (schema.maxLength !== undefined && [...value].length > schema.maxLength) {
      causes.push({ reason: "FieldValueTooLong", message: `Too long: may not be more than ${schema.maxLength} bytes`, field });
    }
  }
  if (typeof value === "number") {
    if (schema.minimum !== undefined && (schema.exclusiveMinimum ? value <= schema.minimum : value < schema.minimum)) {
      causes.push(invalid(field, value, `${field} in body should be greater than ${schema.exclusiveMinimum ? "" : "or equal to "}${schema.minimum}`));
    }
    if (schema.maximum !== undefined && (schema.exclusiveMaximum ? value >= schema.maximum : value > schema.maximum)) {
      causes.push(invalid(field, value, `${field} in body should be less than ${schema.exclusiveMaximum ? "" : "or equal to "}${schema.maximum}`));
    }
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) causes.push(invalid(field, value.length, `${field} in body should have at least ${schema.minItems} items`));
    if (schema.maxItems !== undefined && value.length > schema.maxItems) {
      causes.push({ reason: "FieldValueTooMany", message: `Too many: ${value.length}: must have at most ${schema.maxItems} items`, field });
    }
    if (schema.items) value.forEach((v, i) => validate(v, schema.items!, `${path}[${i}]`, causes));
  }
  if (isPlainObject(value)) {
    const n = Object.keys(value).length;
    if (schema.minProperties !== undefined && n < schema.minProperties) causes.push(invalid(field, n, `${field} in body should have at least ${schema.minProperties} properties`));
    if (schema.maxProperties !== undefined && n > schema.maxProperties) causes.push(invalid(field, n, `${field} in body should have at most ${schema.maxProperties} properties`));
    for (const r of schema.required ?? []) if (value[r] === undefined) causes.push(required(path === "" ? r : `${path}.${r}`));
    for (const [k, v] of Object.entries(value)) {
      if (path === "" && (k === "apiVersion" || k === "kind" || k === "metadata")) continue;
      const child = schema.properties?.[k] ?? (isPlainObject(schema.additionalProperties) ? (schema.additionalProperties as SchemaNode) : undefined);
      if (child) validate(v, child, path === "" ? k : `${path}.${k}`, causes);
    }
  }
}

/** ObjectMeta's JSON fields: any other key under a custom resource's `metadata` is unknown. */
const objectMetaFields = new Set([
  "name",
  "generateName",
  "namespace",
  "selfLink",
  "uid",
  "resourceVersion",
  "generation",
  "creationTimestamp",
  "deletionTimestamp",
  "deletionGracePeriodSeconds",
  "labels",
  "annotations",
  "ownerReferences",
  "finalizers",
  "managedFields",
]);

/** How a path to an unknown field is spelt: by decoding (`spec.a[0].b`) or by server-side apply (`.spec.a[0].b`). */
type PathStyle = "decode" | "apply";

function listKey(item: unknown, schema: SchemaNode, index: number, style: PathStyle): string {
  const keys = schema["x-kubernetes-list-map-keys"];
  if (style === "apply" && schema["x-kubernetes-list-type"] === "map" && Array.isArray(keys) && isPlainObject(item)) {
    return `[${(keys as string[]).map((k) => `${k}=${JSON.stringify(item[k])}`).join(",")}]`;
  }
  return `[${index}]`;
}

function collectUnknown(value: unknown, schema: SchemaNode, path: string, root: boolean, style: PathStyle, out: string[]): void {
  const join = (k: string) => (path === "" && style === "decode" ? k : `${path}.${k}`);
  if (isPlainObject(value) && (schema.type === "object" || schema.properties !== undefined)) {
    const preserve = schema["x-kubernetes-preserve-unknown-fields"] === true;
    const extra = schema.additionalProperties;
    for (const [k, v] of Object.entries(value)) {
      if (root && (k === "apiVersion" || k === "kind")) continue;
      if (root && k === "metadata") {
        if (isPlainObject(v)) for (const m of Object.keys(v)) if (!objectMetaFields.has(m)) out.push(`${join("metadata")}.${m}`);
        continue;
      }
      const child = schema.properties?.[k] ?? (isPlainObject(extra) ? (extra as SchemaNode) : undefined);
      if (child === undefined) {
        const embedded = schema["x-kubernetes-embedded-resource"] && (k === "apiVersion" || k === "kind" || k === "metadata");
        if (!(preserve || extra === true || embedded)) out.push(join(k));
        continue;
      }
      collectUnknown(v, child, join(k), false, style, out);
    }
    return;
  }
  if (Array.isArray(value) && schema.items) {
    value.forEach((item, i) => collectUnknown(item, schema.items!, `${path}${listKey(item, schema, i, style)}`, false, style, out));
  }
}

/**
 * The fields of `obj` that `schema` does not declare (and that no `x-kubernetes-preserve-unknown-fields` keeps),
 * plus unknown keys of `metadata`, sorted, in the decoder's spelling (`spec.adresses`, `spec.items[0].foo`):
 * what `fieldValidation=Strict` refuses and `Warn` reports.
 *
 * @example
 * unknownFieldPaths({ metadata: { name: "p" }, spec: { adresses: [] } }, poolSchema); // ["spec.adresses"]
 */
export function unknownFieldPaths(obj: KubeObject, schema: SchemaNode): string[] {
  const out: string[] = [];
  collectUnknown(obj, schema, "", true, "decode", out);
  return out.sort();
}

/**
 * The same fields in server-side apply's spelling (`.spec.adresses`, `.status.conditions[type="Ready"].foo`), in
 * document order: what apply refuses with "field not declared in schema" whatever the fieldValidation.
 *
 * @example
 * undeclaredApplyFields({ metadata: { name: "p" }, spec: { adresses: [] } }, poolSchema); // [".spec.adresses"]
 */
export function undeclaredApplyFields(obj: KubeObject, schema: SchemaNode): string[] {
  const out: string[] = [];
  collectUnknown(obj, schema, "", true, "apply", out);
  return out;
}

/** Prunes, defaults and validates a custom resource against its version's schema. */
export function applySchema(obj: KubeObject, schema: SchemaNode): { object: KubeObject; causes: StatusCause[] } {
  const object = normalize(obj, schema, true) as KubeObject;
  const causes: StatusCause[] = [];
  validate(object, schema, "", causes);
  return { object, causes };
}

/** The schema of each served version of a CRD, by version name. */
export type VersionSchemas = ReadonlyMap<string, SchemaNode>;

function schemaFor(obj: KubeObject, schemas: VersionSchemas): SchemaNode | undefined {
  const version = typeof obj.apiVersion === "string" ? obj.apiVersion.split("/").pop()! : "";
  return schemas.get(version);
}

function replaceContents(target: KubeObject, source: KubeObject): void {
  for (const k of Object.keys(target)) if (!(k in source)) delete target[k];
  Object.assign(target, source);
}

/** Strategy of a custom resource kind: unknown-field reports, schema pruning/defaulting on writes, then schema validation. */
export function customResourceStrategy(schemas: VersionSchemas): KindStrategy {
  const normalizeInPlace = (obj: KubeObject) => {
    const schema = schemaFor(obj, schemas);
    if (schema) replaceContents(obj, normalize(obj, schema, true) as KubeObject);
  };
  const check = (obj: KubeObject): StatusCause[] => {
    const schema = schemaFor(obj, schemas);
    if (!schema) return [];
    const causes: StatusCause[] = [];
    validate(obj, schema, "", causes);
    return causes;
  };
  return {
    nameRule: "dns1123-subdomain",
    unknownFields: (obj) => {
      const schema = schemaFor(obj, schemas);
      return schema ? unknownFieldPaths(obj, schema) : [];
    },
    undeclaredApplyFields: (obj) => {
      const schema = schemaFor(obj, schemas);
      return schema ? undeclaredApplyFields(obj, schema) : [];
    },
    prepareForCreate: normalizeInPlace,
    prepareForUpdate: normalizeInPlace,
    prepareForStatusUpdate: normalizeInPlace,
    validate: check,
    validateStatus: check,
  };
}
