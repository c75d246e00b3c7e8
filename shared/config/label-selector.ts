/**
 * Kubernetes label selectors (`metav1.LabelSelector`), as the CRs' `namespaceSelectors`,
 * `serviceSelectors`, `nodeSelectors` and `ipAddressPoolSelectors` use them: reading one from
 * untrusted JSON with a specific error per problem, and matching labels against it. Pure.
 *
 * Semantics are apimachinery's `LabelSelectorAsSelector`: every `matchLabels` pair and every
 * `matchExpressions` requirement must hold; an empty selector (`{}`) matches everything. A list of
 * selectors matches when any one does; the caller decides what an empty list means.
 */
import type { LabelSelector, LabelSelectorRequirement } from "./config-types.ts";

const OPERATORS = ["In", "NotIn", "Exists", "DoesNotExist"] as const;
/** A label key: optional DNS-subdomain prefix and `/`, then a name of up to 63 characters. */
const KEY_NAME = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$/;
const KEY_PREFIX = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** A label value: empty, or up to 63 characters, alphanumeric at both ends. */
const VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** A selector read from JSON, or every problem found, each naming the field (`where`). */
export type SelectorReading = { ok: true; selector: LabelSelector } | { ok: false; errors: string[] };

/**
 * Reads one label selector found at `where` (for messages, e.g. `spec.nodeSelectors[0]`).
 *
 * @example
 * readLabelSelector({ matchLabels: { zone: "a" } }, "spec.nodeSelectors[0]"); // { ok: true, selector: { matchLabels: { zone: "a" } } }
 * readLabelSelector({ matchExpressions: [{ key: "zone", operator: "in" }] }, "s").ok; // false: operator must be In, NotIn, Exists or DoesNotExist
 */
export function readLabelSelector(raw: unknown, where: string): SelectorReading {
  if (raw === null || raw === undefined) return { ok: true, selector: {} };
  if (!isRecord(raw)) return { ok: false, errors: [`${where}: must be a label selector ({matchLabels: {...}, matchExpressions: [...]}); got ${JSON.stringify(raw)}`] };
  const errors: string[] = [];
  const selector: { matchLabels?: Record<string, string>; matchExpressions?: LabelSelectorRequirement[] } = {};
  for (const key of Object.keys(raw)) {
    if (key !== "matchLabels" && key !== "matchExpressions") errors.push(`${where}: unknown field "${key}"; a label selector has matchLabels and matchExpressions`);
  }
  if (raw.matchLabels !== undefined && raw.matchLabels !== null) {
    if (!isRecord(raw.matchLabels)) errors.push(`${where}.matchLabels: must be a map of label keys to values`);
    else {
      const labels: Record<string, string> = {};
      for (const [key, value] of Object.entries(raw.matchLabels)) {
        const keyProblem = labelKeyProblem(key);
        if (keyProblem) errors.push(`${where}.matchLabels: ${keyProblem}`);
        if (typeof value !== "string") errors.push(`${where}.matchLabels.${key}: the value must be a string; quote it (e.g. "true")`);
        else if (!VALUE.test(value) || value.length > 63) errors.push(`${where}.matchLabels.${key}: ${labelValueProblem(value)}`);
        else labels[key] = value;
      }
      selector.matchLabels = labels;
    }
  }
  if (raw.matchExpressions !== undefined && raw.matchExpressions !== null) {
    if (!Array.isArray(raw.matchExpressions)) errors.push(`${where}.matchExpressions: must be a list of {key, operator, values}`);
    else {
      selector.matchExpressions = [];
      raw.matchExpressions.forEach((entry: unknown, i) => {
        const at = `${where}.matchExpressions[${i}]`;
        const read = readRequirement(entry, at);
        if (typeof read === "string") errors.push(read);
        else selector.matchExpressions!.push(read);
      });
    }
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, selector };
}

/**
 * Reads a list of selectors at `where` (e.g. `spec.nodeSelectors`); null or absent is an empty list.
 *
 * @example readLabelSelectors([{ matchLabels: { a: "b" } }], "spec.nodeSelectors") // { ok: true, selectors: [...] }
 */
export function readLabelSelectors(raw: unknown, where: string): { ok: true; selectors: LabelSelector[] } | { ok: false; errors: string[] } {
  if (raw === null || raw === undefined) return { ok: true, selectors: [] };
  if (!Array.isArray(raw)) return { ok: false, errors: [`${where}: must be a list of label selectors`] };
  const selectors: LabelSelector[] = [];
  const errors: string[] = [];
  raw.forEach((entry: unknown, i) => {
    const read = readLabelSelector(entry, `${where}[${i}]`);
    if (read.ok) selectors.push(read.selector);
    else errors.push(...read.errors);
  });
  return errors.length > 0 ? { ok: false, errors } : { ok: true, selectors };
}

/**
 * Whether `labels` satisfy `selector`: all of `matchLabels` and every expression. `{}` matches anything.
 *
 * @example
 * matchesSelector({ matchExpressions: [{ key: "zone", operator: "In", values: ["a", "b"] }] }, { zone: "b" }); // true
 * matchesSelector({ matchExpressions: [{ key: "zone", operator: "NotIn", values: ["a"] }] }, {}); // true (as in Kubernetes)
 */
export function matchesSelector(selector: LabelSelector, labels: Readonly<Record<string, string>> | undefined): boolean {
  const have = labels ?? {};
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) if (have[key] !== value) return false;
  for (const req of selector.matchExpressions ?? []) {
    const present = Object.hasOwn(have, req.key);
    switch (req.operator) {
      case "In":
        if (!present || !(req.values ?? []).includes(have[req.key])) return false;
        break;
      case "NotIn":
        if (present && (req.values ?? []).includes(have[req.key])) return false;
        break;
      case "Exists":
        if (!present) return false;
        break;
      case "DoesNotExist":
        if (present) return false;
        break;
    }
  }
  return true;
}

/**
 * Whether any selector in the list matches. An empty list matches nothing here: callers treat an
 * empty list as "no restriction" before asking.
 *
 * @example matchesAny([{ matchLabels: { a: "1" } }, { matchLabels: { b: "2" } }], { b: "2" }) // true
 */
export function matchesAny(selectors: readonly LabelSelector[], labels: Readonly<Record<string, string>> | undefined): boolean {
  return selectors.some((s) => matchesSelector(s, labels));
}

/**
 * A selector in kubectl's text form, for messages: `zone=a,tier in (gold,silver),!legacy`; `{}` is `<everything>`.
 *
 * @example formatSelector({ matchLabels: { zone: "a" } }) // "zone=a"
 */
export function formatSelector(selector: LabelSelector): string {
  const parts = Object.entries(selector.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const req of selector.matchExpressions ?? []) {
    const values = (req.values ?? []).join(",");
    if (req.operator === "In") parts.push(`${req.key} in (${values})`);
    else if (req.operator === "NotIn") parts.push(`${req.key} notin (${values})`);
    else if (req.operator === "Exists") parts.push(req.key);
    else parts.push(`!${req.key}`);
  }
  return parts.length > 0 ? parts.join(",") : "<everything>";
}

function readRequirement(raw: unknown, at: string): LabelSelectorRequirement | string {
  if (!isRecord(raw)) return `${at}: must be {key, operator, values}`;
  const problems: string[] = [];
  const key = raw.key;
  if (typeof key !== "string" || key === "") problems.push("key is required");
  else {
    const keyProblem = labelKeyProblem(key);
    if (keyProblem) problems.push(keyProblem);
  }
  const operator = raw.operator;
  if (!OPERATORS.includes(operator as (typeof OPERATORS)[number])) {
    problems.push(`operator ${JSON.stringify(operator ?? null)} is not supported; use one of ${OPERATORS.join(", ")} (case matters)`);
  }
  const values = raw.values ?? [];
  if (!Array.isArray(values) || values.some((v) => typeof v !== "string")) problems.push("values must be a list of strings");
  else if ((operator === "In" || operator === "NotIn") && values.length === 0) problems.push(`operator ${operator} needs at least one value`);
  else if ((operator === "Exists" || operator === "DoesNotExist") && values.length > 0) problems.push(`operator ${operator} takes no values; remove them`);
  else for (const v of values as string[]) if (!VALUE.test(v) || v.length > 63) problems.push(`values: ${labelValueProblem(v)}`);
  if (problems.length > 0) return `${at}: ${problems.join("; ")}`;
  const req: LabelSelectorRequirement = { key: key as string, operator: operator as LabelSelectorRequirement["operator"] };
  return (values as string[]).length > 0 ? { ...req, values: [...(values as string[])] } : req;
}

function labelKeyProblem(key: string): string | undefined {
  const slash = key.indexOf("/");
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && (prefix.length === 0 || prefix.length > 253 || !KEY_PREFIX.test(prefix))) {
    return `label key ${JSON.stringify(key)} has an invalid prefix; the prefix must be a lowercase DNS subdomain such as example.com`;
  }
  if (name.length === 0 || name.length > 63 || !KEY_NAME.test(name)) {
    return `label key ${JSON.stringify(key)} is invalid; a name is at most 63 characters of letters, digits, '-', '_' and '.', starting and ending with a letter or digit`;
  }
  return undefined;
}

function labelValueProblem(value: string): string {
  return `label value ${JSON.stringify(value)} is invalid; a value is empty or at most 63 characters of letters, digits, '-', '_' and '.', starting and ending with a letter or digit`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
