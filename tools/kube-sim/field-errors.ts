/**
 * Field errors and name/label checks worded like apimachinery's `field.Error` and `validation` packages, so a
 * 422 from the simulator reads like one from kube-apiserver (`spec.ports: Required value`).
 *
 * @example
 * const causes = [required("spec.ports"), invalidValue("spec.ports[0].port", 0, "must be between 1 and 65535, inclusive")];
 */
import type { StatusCause } from "./api-error.ts";
import type { ObjectMeta } from "./resources.ts";

function show(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : typeof value === "object" ? JSON.stringify(value) : String(value);
}

/** `<field>: Required value[: detail]` */
export function required(field: string, detail?: string): StatusCause {
  return { reason: "FieldValueRequired", message: detail ? `Required value: ${detail}` : "Required value", field };
}

/** `<field>: Invalid value: <value>: <detail>` */
export function invalidValue(field: string, value: unknown, detail: string): StatusCause {
  return { reason: "FieldValueInvalid", message: `Invalid value: ${show(value)}: ${detail}`, field };
}

/** `<field>: Duplicate value: <value>` */
export function duplicate(field: string, value: unknown): StatusCause {
  return { reason: "FieldValueDuplicate", message: `Duplicate value: ${show(value)}`, field };
}

/** `<field>: Forbidden: <detail>` */
export function forbiddenField(field: string, detail: string): StatusCause {
  return { reason: "FieldValueForbidden", message: `Forbidden: ${detail}`, field };
}

/** `<field>: Unsupported value: <value>: supported values: "a", "b"` */
export function notSupported(field: string, value: unknown, supported: readonly string[]): StatusCause {
  return {
    reason: "FieldValueNotSupported",
    message: `Unsupported value: ${show(value)}: supported values: ${supported.map((s) => `"${s}"`).join(", ")}`,
    field,
  };
}

const dns1123LabelRe = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dns1123SubdomainRe = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const dns1035LabelRe = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const qualifiedNameRe = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const labelValueRe = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** How a resource's names are validated. */
export type NameRule = "dns1123-subdomain" | "dns1123-label" | "dns1035-label" | "path-segment";

/** Problems with `name` under `rule`, as apimachinery words them (empty when valid). */
export function nameProblems(name: string, rule: NameRule): string[] {
  const out: string[] = [];
  if (name === "." || name === "..") out.push(`may not be '${name}'`);
  if (name.includes("/")) out.push("may not contain '/'");
  if (name.includes("%")) out.push("may not contain '%'");
  if (rule === "path-segment") return out;
  if (rule === "dns1123-label") {
    if (name.length > 63) out.push("must be no more than 63 characters");
    if (!dns1123LabelRe.test(name))
      out.push(
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
      );
  } else if (rule === "dns1035-label") {
    if (name.length > 63) out.push("must be no more than 63 characters");
    if (!dns1035LabelRe.test(name))
      out.push(
        "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
      );
  } else {
    if (name.length > 253) out.push("must be no more than 253 characters");
    if (!dns1123SubdomainRe.test(name))
      out.push(
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
      );
  }
  return out;
}

/** Problems with a label/annotation key (a qualified name with optional DNS subdomain prefix). */
export function qualifiedNameProblems(key: string): string[] {
  const slash = key.indexOf("/");
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  const out: string[] = [];
  if (prefix !== undefined) {
    if (prefix.length === 0) out.push("prefix part must be non-empty");
    else if (prefix.length > 253 || !dns1123SubdomainRe.test(prefix))
      out.push("prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character");
  }
  if (name.length === 0) out.push("name part must be non-empty");
  else if (name.length > 63) out.push("name part must be no more than 63 characters");
  else if (!qualifiedNameRe.test(name) || name.includes("/"))
    out.push(
      "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
    );
  return out;
}

/** Field errors in labels, annotations and finalizers of `meta` (name is checked separately). */
export function metadataProblems(meta: ObjectMeta): StatusCause[] {
  const causes: StatusCause[] = [];
  for (const [k, v] of Object.entries(meta.labels ?? {})) {
    for (const p of qualifiedNameProblems(k)) causes.push(invalidValue("metadata.labels", k, p));
    if (typeof v !== "string") causes.push(invalidValue(`metadata.labels`, v, "label values must be strings"));
    else if (v.length > 63) causes.push(invalidValue("metadata.labels", v, "must be no more than 63 characters"));
    else if (!labelValueRe.test(v))
      causes.push(
        invalidValue(
          "metadata.labels",
          v,
          "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
        ),
      );
  }
  let annotationBytes = 0;
  for (const [k, v] of Object.entries(meta.annotations ?? {})) {
    for (const p of qualifiedNameProblems(k.toLowerCase())) causes.push(invalidValue("metadata.annotations", k, p));
    if (typeof v !== "string") causes.push(invalidValue("metadata.annotations", v, "annotation values must be strings"));
    annotationBytes += k.length + (typeof v === "string" ? Buffer.byteLength(v) : 0);
  }
  if (annotationBytes > 256 * 1024) causes.push({ reason: "FieldValueTooLong", message: "Too long: must have at most 262144 bytes", field: "metadata.annotations" });
  (meta.finalizers ?? []).forEach((f, i) => {
    if (typeof f !== "string") causes.push(invalidValue(`metadata.finalizers[${i}]`, f, "must be a string"));
    else for (const p of qualifiedNameProblems(f)) causes.push(invalidValue(`metadata.finalizers[${i}]`, f, p));
  });
  return causes;
}
