/**
 * Decodes the Kubernetes protobuf request bodies that `kubectl create service|namespace|configmap|secret|
 * serviceaccount|deployment|role|rolebinding|clusterrole|clusterrolebinding|pdb` sends (it never falls back to
 * JSON, and fails on a 415). The body is the magic `k8s\0` followed by a runtime.Unknown
 * {1: TypeMeta{1: apiVersion, 2: kind}, 2: raw object bytes, 3: contentEncoding, 4: contentType}; the raw bytes
 * are the gogo-protobuf encoding of the typed object (field numbers in protobuf-schema.ts).
 *
 * gogo-protobuf writes every non-pointer field, zero or not; this decoder drops zero values of non-pointer
 * fields the way `omitempty` JSON does, and keeps pointer fields that are present.
 *
 * @example
 * const obj = decodeKubeProtobuf(body); // { apiVersion: "v1", kind: "Service", metadata: { name: "web" }, spec: { ... } }
 */
import protobuf from "protobufjs/minimal.js";
import type { KubeObject } from "./resources.ts";
import { protobufKinds, protobufMessages } from "./protobuf-schema.ts";

/** Content-Type of a Kubernetes protobuf body. */
export const PROTOBUF_CONTENT_TYPE = "application/vnd.kubernetes.protobuf";

const MAGIC = [0x6b, 0x38, 0x73, 0x00]; // "k8s\0"

interface FieldSpec {
  name: string;
  type: string;
  /** Value type of a `map<...>` field; "string" for a plain `map`. */
  mapValue?: string;
  repeated: boolean;
  pointer: boolean;
  inline: boolean;
}

type Json = Record<string, unknown>;
type Reader = protobuf.Reader;

const FIELD = /^(\w+)=(\d+)(?::(\w+)(?:<(\w+)>)?)?(\[\])?(\*)?(\^)?$/;

function parseMessage(typeName: string, spec: string): Map<number, FieldSpec> {
  const fields = new Map<number, FieldSpec>();
  for (const word of spec.split(/\s+/).filter((w) => w !== "")) {
    const m = FIELD.exec(word);
    if (m === null) throw new Error(`protobuf-schema.ts: ${typeName} has a malformed field "${word}"`);
    const [, name, number, type = "string", mapValue, repeated, pointer, inline] = m;
    const field: FieldSpec = { name, type, repeated: repeated !== undefined, pointer: pointer !== undefined, inline: inline !== undefined };
    if (type === "map") field.mapValue = mapValue ?? "string";
    fields.set(Number(number), field);
  }
  return fields;
}

const messages = new Map<string, Map<number, FieldSpec>>(
  Object.entries(protobufMessages).map(([name, spec]) => [name, parseMessage(name, spec)]),
);

/** A 64-bit varint as a JS number (exact up to 2^53, which covers every Kubernetes int64 in practice). */
function toNumber(v: number | protobuf.Long): number {
  if (typeof v === "number") return v;
  return (v.unsigned ? v.high >>> 0 : v.high) * 4294967296 + (v.low >>> 0);
}

const WIRE_VARINT = 0;
const WIRE_BYTES = 2;

/** Reads one scalar of `type` from the reader (the tag already consumed). */
function readScalar(r: Reader, type: string): unknown {
  switch (type) {
    case "string":
      return r.string();
    case "int32":
      return r.int32();
    case "int64":
      return toNumber(r.int64());
    case "bool":
      return r.bool();
    case "bytes":
      return Buffer.from(r.bytes()).toString("base64");
    default:
      return decodeMessage(r.bytes(), type);
  }
}

/** meta/v1 Time {1: seconds, 2: nanos} as RFC 3339; undefined for the zero time (Go encodes it as null). */
function decodeTime(bytes: Uint8Array): string | undefined {
  const r = protobuf.Reader.create(bytes);
  let seconds = 0;
  while (r.pos < r.len) {
    const tag = r.uint32();
    if (tag >>> 3 === 1 && (tag & 7) === WIRE_VARINT) seconds = toNumber(r.int64());
    else r.skipType(tag & 7);
  }
  if (seconds === 0) return undefined;
  return new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** intstr.IntOrString {1: type (0 int, 1 string), 2: intVal, 3: strVal}. */
function decodeIntOrString(bytes: Uint8Array): number | string {
  const r = protobuf.Reader.create(bytes);
  let type = 0;
  let intVal = 0;
  let strVal = "";
  while (r.pos < r.len) {
    const tag = r.uint32();
    const field = tag >>> 3;
    if (field === 1) type = toNumber(r.int64());
    else if (field === 2) intVal = r.int32();
    else if (field === 3) strVal = r.string();
    else r.skipType(tag & 7);
  }
  return type === 1 ? strVal : intVal;
}

/** resource.Quantity {1: string}. */
function decodeQuantity(bytes: Uint8Array): string {
  const r = protobuf.Reader.create(bytes);
  let value = "";
  while (r.pos < r.len) {
    const tag = r.uint32();
    if (tag >>> 3 === 1) value = r.string();
    else r.skipType(tag & 7);
  }
  return value;
}

function decodeValue(r: Reader, type: string): unknown {
  switch (type) {
    case "Time":
      return decodeTime(r.bytes());
    case "IntOrString":
      return decodeIntOrString(r.bytes());
    case "Quantity":
      return decodeQuantity(r.bytes());
    default:
      return readScalar(r, type);
  }
}

/** A map entry message {1: key, 2: value}. */
function decodeMapEntry(bytes: Uint8Array, valueType: string): [string, unknown] {
  const r = protobuf.Reader.create(bytes);
  let key = "";
  let value: unknown = valueType === "string" || valueType === "bytes" ? "" : undefined;
  while (r.pos < r.len) {
    const tag = r.uint32();
    const field = tag >>> 3;
    if (field === 1) key = r.string();
    else if (field === 2) value = decodeValue(r, valueType);
    else r.skipType(tag & 7);
  }
  return [key, value ?? null];
}

function isZero(value: unknown): boolean {
  if (value === undefined || value === "" || value === 0 || value === false) return true;
  return typeof value === "object" && value !== null && !Array.isArray(value) && Object.keys(value).length === 0;
}

/** Skips a field the schema does not know, but only when it carries nothing; otherwise refuses precisely. */
function skipUnknown(r: Reader, typeName: string, field: number, wireType: number): void {
  if (wireType === WIRE_BYTES) {
    const length = r.uint32();
    if (length === 0) return;
    r.skip(length);
    throw new Error(
      `protobuf body: field ${field} of ${typeName} (${length} bytes) is not decoded by the kube simulator; ` +
        `add it to tools/kube-sim/protobuf-schema.ts, or send the object as JSON (kubectl create -f <file>)`,
    );
  }
  if (wireType === WIRE_VARINT) {
    if (toNumber(r.uint64()) === 0) return;
    throw new Error(
      `protobuf body: field ${field} of ${typeName} (a non-zero number) is not decoded by the kube simulator; ` +
        `add it to tools/kube-sim/protobuf-schema.ts, or send the object as JSON (kubectl create -f <file>)`,
    );
  }
  throw new Error(`protobuf body: field ${field} of ${typeName} has wire type ${wireType}, which no Kubernetes message uses here`);
}

function decodeMessage(bytes: Uint8Array, typeName: string): Json {
  const fields = messages.get(typeName);
  if (fields === undefined) throw new Error(`protobuf-schema.ts: message ${typeName} is referenced but not defined`);
  const r = protobuf.Reader.create(bytes);
  const seen = new Map<FieldSpec, unknown>();
  while (r.pos < r.len) {
    const tag = r.uint32();
    const number = tag >>> 3;
    const wireType = tag & 7;
    const spec = fields.get(number);
    if (spec === undefined) {
      skipUnknown(r, typeName, number, wireType);
      continue;
    }
    if (spec.mapValue !== undefined) {
      const map = (seen.get(spec) as Json | undefined) ?? {};
      const [key, value] = decodeMapEntry(r.bytes(), spec.mapValue);
      map[key] = value;
      seen.set(spec, map);
    } else if (spec.repeated) {
      const items = (seen.get(spec) as unknown[] | undefined) ?? [];
      if (wireType === WIRE_BYTES && (spec.type === "int32" || spec.type === "int64" || spec.type === "bool")) {
        const end = r.uint32() + r.pos;
        while (r.pos < end) items.push(readScalar(r, spec.type));
      } else {
        items.push(decodeValue(r, spec.type));
      }
      seen.set(spec, items);
    } else {
      seen.set(spec, decodeValue(r, spec.type));
    }
  }
  const out: Json = {};
  for (const [spec, value] of seen) {
    if (spec.inline) {
      Object.assign(out, value);
    } else if (value === undefined) {
      continue;
    } else if (spec.pointer || spec.repeated || spec.mapValue !== undefined || !isZero(value)) {
      out[spec.name] = value;
    }
  }
  return out;
}

/**
 * Decodes a `application/vnd.kubernetes.protobuf` request body into the JSON object kubectl meant.
 * Throws an Error naming the problem for a body without the `k8s\0` magic, a compressed or unknown kind,
 * or a populated field the simulator does not model.
 *
 * @example
 * decodeKubeProtobuf(body).spec; // { ports: [{ name: "80-8080", protocol: "TCP", port: 80, targetPort: 8080 }], type: "LoadBalancer", ... }
 */
export function decodeKubeProtobuf(body: Uint8Array): KubeObject {
  if (body.length < MAGIC.length || MAGIC.some((b, i) => body[i] !== b)) {
    throw new Error(`protobuf body does not start with the Kubernetes magic "k8s\\0" (${body.length} bytes)`);
  }
  const r = protobuf.Reader.create(body.subarray(MAGIC.length));
  let apiVersion = "";
  let kind = "";
  let raw: Uint8Array = new Uint8Array();
  let contentEncoding = "";
  while (r.pos < r.len) {
    const tag = r.uint32();
    switch (tag >>> 3) {
      case 1: {
        const typeMeta = protobuf.Reader.create(r.bytes());
        while (typeMeta.pos < typeMeta.len) {
          const t = typeMeta.uint32();
          if (t >>> 3 === 1) apiVersion = typeMeta.string();
          else if (t >>> 3 === 2) kind = typeMeta.string();
          else typeMeta.skipType(t & 7);
        }
        break;
      }
      case 2:
        raw = r.bytes();
        break;
      case 3:
        contentEncoding = r.string();
        break;
      default:
        r.skipType(tag & 7);
    }
  }
  if (contentEncoding !== "") {
    throw new Error(`protobuf body uses contentEncoding "${contentEncoding}"; the kube simulator reads only unencoded bodies`);
  }
  const typeName = protobufKinds[`${apiVersion}/${kind}`];
  if (typeName === undefined) {
    throw new Error(
      `protobuf body of kind "${kind}" (apiVersion "${apiVersion}") is not supported by the kube simulator ` +
        `(supported: ${Object.keys(protobufKinds).join(", ")}); send it as JSON instead (kubectl create -f <file>)`,
    );
  }
  const { metadata, ...rest } = decodeMessage(raw, typeName);
  return { apiVersion, kind, metadata: (metadata as KubeObject["metadata"] | undefined) ?? {}, ...rest };
}
