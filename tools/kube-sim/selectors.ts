/**
 * Label and field selectors with apiserver grammar. `parseLabelSelector` accepts `=`, `==`, `!=`, `in`, `notin`,
 * `exists` (`key`), `!key`, `>` and `<`; `parseFieldSelector` accepts `=`, `==`, `!=` over the fields the real
 * apiserver supports for each kind. Parse errors are 400 BadRequest `ApiError`s.
 *
 * @example
 * const sel = parseLabelSelector("app in (web,api),tier!=db");
 * sel({ app: "web" }); // true
 */
import { badRequest } from "./api-error.ts";
import type { KubeObject } from "./resources.ts";

/** A compiled label selector: true when the labels match. */
export type LabelMatcher = (labels: Readonly<Record<string, string>> | undefined) => boolean;
/** A compiled field selector: true when the object matches. */
export type FieldMatcher = (obj: KubeObject) => boolean;

type Op = "=" | "!=" | "in" | "notin" | "exists" | "!" | ">" | "<";
interface Requirement {
  key: string;
  op: Op;
  values: string[];
}

const labelKeyRe = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const labelValueRe = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** Tokens of the label selector language. */
function tokenize(input: string): string[] {
  const tokens: string[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i];
    if (c === " " || c === "\t" || c === "\n") {
      i++;
    } else if (c === "(" || c === ")" || c === ",") {
      tokens.push(c);
      i++;
    } else if (c === "!" && input[i + 1] === "=") {
      tokens.push("!=");
      i += 2;
    } else if (c === "=" && input[i + 1] === "=") {
      tokens.push("==");
      i += 2;
    } else if (c === "=" || c === "!" || c === ">" || c === "<") {
      tokens.push(c);
      i++;
    } else {
      let j = i;
      while (j < input.length && !" \t\n(),=!<>".includes(input[j])) j++;
      tokens.push(input.slice(i, j));
      i = j;
    }
  }
  return tokens;
}

const special = new Set(["(", ")", ",", "!=", "==", "=", "!", ">", "<"]);

function parseRequirements(input: string): Requirement[] {
  const tokens = tokenize(input);
  const reqs: Requirement[] = [];
  let p = 0;
  const fail = (why: string): never => {
    throw badRequest(`unable to parse requirement: ${why} (in label selector "${input}")`);
  };
  const checkKey = (key: string): string => {
    if (!labelKeyRe.test(key) || key.length > 317) fail(`invalid label key "${key}": must be a qualified name`);
    return key;
  };
  const checkValue = (v: string): string => {
    if (v.length > 63 || !labelValueRe.test(v)) fail(`invalid label value: "${v}": must be 63 characters or less and match ${labelValueRe.source}`);
    return v;
  };
  while (p < tokens.length) {
    let tok = tokens[p];
    if (tok === "!") {
      p++;
      const key = tokens[p++];
      if (key === undefined || special.has(key)) fail("expected a label key after '!'");
      reqs.push({ key: checkKey(key), op: "!", values: [] });
    } else {
      if (special.has(tok)) fail(`found '${tok}', expected: identifier`);
      const key = checkKey(tok);
      p++;
      tok = tokens[p];
      if (tok === undefined || tok === ",") {
        reqs.push({ key, op: "exists", values: [] });
      } else if (tok === "=" || tok === "==" || tok === "!=") {
        p++;
        let value = tokens[p];
        if (value === undefined || value === ",") value = "";
        else if (special.has(value)) fail(`found '${value}', expected: identifier after '${tok}'`);
        else p++;
        reqs.push({ key, op: tok === "!=" ? "!=" : "=", values: [checkValue(value)] });
      } else if (tok === ">" || tok === "<") {
        p++;
        const value = tokens[p++];
        if (value === undefined || !/^-?\d+$/.test(value)) fail(`for '${tok}' operator, the value must be an integer`);
        reqs.push({ key, op: tok, values: [value] });
      } else if (tok === "in" || tok === "notin") {
        p++;
        if (tokens[p] !== "(") fail(`found '${tokens[p] ?? "end of string"}', expected: '('`);
        p++;
        const values: string[] = [];
        let expectValue = true;
        while (true) {
          const t = tokens[p++];
          if (t === undefined) fail("found end of string, expected: ')'");
          if (t === ")") {
            if (expectValue && values.length > 0) values.push("");
            break;
          }
          if (t === ",") {
            if (expectValue) values.push("");
            expectValue = true;
            continue;
          }
          if (special.has(t)) fail(`found '${t}', expected: ',' or ')'`);
          if (!expectValue) fail(`found '${t}', expected: ',' or ')'`);
          values.push(checkValue(t));
          expectValue = false;
        }
        if (values.length === 0) fail(`for '${tok}' operator, values set can't be empty`);
        reqs.push({ key, op: tok, values });
      } else {
        fail(`found '${tok}', expected: in, notin, =, ==, !=, gt, lt`);
      }
    }
    if (p < tokens.length) {
      if (tokens[p] !== ",") fail(`found '${tokens[p]}', expected: ','`);
      p++;
      if (p >= tokens.length) fail("found end of string after ',', expected: identifier");
    }
  }
  return reqs;
}

function matchRequirement(r: Requirement, labels: Readonly<Record<string, string>> | undefined): boolean {
  const has = labels !== undefined && Object.prototype.hasOwnProperty.call(labels, r.key);
  const v = has ? labels![r.key] : undefined;
  switch (r.op) {
    case "=":
      return has && v === r.values[0];
    case "!=":
      return !has || v !== r.values[0];
    case "in":
      return has && r.values.includes(v!);
    case "notin":
      return !has || !r.values.includes(v!);
    case "exists":
      return has;
    case "!":
      return !has;
    case ">":
    case "<": {
      if (!has || !/^-?\d+$/.test(v!)) return false;
      const n = Number(v);
      const limit = Number(r.values[0]);
      return r.op === ">" ? n > limit : n < limit;
    }
  }
}

/** Compiles a label selector string (empty or undefined matches everything). Throws 400 on bad syntax. */
export function parseLabelSelector(selector: string | undefined | null): LabelMatcher {
  if (!selector || selector.trim() === "") return () => true;
  const reqs = parseRequirements(selector);
  return (labels) => reqs.every((r) => matchRequirement(r, labels));
}

/** Compiles a map-style selector (Service spec.selector): every key equals. Empty map matches everything. */
export function matchLabelsSelector(selector: Readonly<Record<string, string>>): LabelMatcher {
  const entries = Object.entries(selector);
  return (labels) => entries.every(([k, v]) => labels !== undefined && labels[k] === v);
}

/** Fields selectable per kind beyond metadata.name/metadata.namespace (as registered by the real apiserver). */
const selectableFields: Record<string, readonly string[]> = {
  "/Event": [
    "involvedObject.kind",
    "involvedObject.namespace",
    "involvedObject.name",
    "involvedObject.uid",
    "involvedObject.apiVersion",
    "involvedObject.resourceVersion",
    "involvedObject.fieldPath",
    "reason",
    "reportingComponent",
    "source",
    "type",
  ],
  "events.k8s.io/Event": [
    "regarding.kind",
    "regarding.namespace",
    "regarding.name",
    "regarding.uid",
    "regarding.apiVersion",
    "regarding.resourceVersion",
    "regarding.fieldPath",
    "reason",
    "reportingController",
    "type",
  ],
  "/Pod": [
    "spec.nodeName",
    "spec.restartPolicy",
    "spec.schedulerName",
    "spec.serviceAccountName",
    "spec.hostNetwork",
    "status.phase",
    "status.podIP",
    "status.nominatedNodeName",
  ],
  "/Secret": ["type"],
  "/Node": ["spec.unschedulable"],
  "/Namespace": ["status.phase"],
  "/ReplicationController": ["status.replicas"],
};

function fieldValue(obj: KubeObject, path: string): string {
  if (path === "source") {
    const src = (obj as { source?: { component?: string } }).source;
    return src?.component ?? "";
  }
  let cur: unknown = obj;
  for (const part of path.split(".")) {
    if (cur === null || typeof cur !== "object") return "";
    cur = (cur as Record<string, unknown>)[part];
  }
  if (cur === undefined || cur === null) return path === "spec.hostNetwork" || path === "spec.unschedulable" ? "false" : "";
  return String(cur);
}

/** Splits on unescaped `sep`, keeping escapes for a later unescape. */
function splitUnescaped(s: string, sep: string): string[] {
  const parts: string[] = [];
  let cur = "";
  for (let i = 0; i < s.length; i++) {
    if (s[i] === "\\" && i + 1 < s.length) {
      cur += s[i] + s[i + 1];
      i++;
    } else if (s[i] === sep) {
      parts.push(cur);
      cur = "";
    } else cur += s[i];
  }
  parts.push(cur);
  return parts;
}

function unescapeValue(v: string, selector: string): string {
  let out = "";
  for (let i = 0; i < v.length; i++) {
    if (v[i] === "\\") {
      const n = v[i + 1];
      if (n === "\\" || n === "," || n === "=") {
        out += n;
        i++;
        continue;
      }
      throw badRequest(`invalid field selector: invalid escape sequence in "${selector}"`);
    }
    if (v[i] === "=" || v[i] === ",") throw badRequest(`invalid field selector: unescaped "${v[i]}" in "${selector}"`);
    out += v[i];
  }
  return out;
}

/**
 * Compiles a field selector for objects of `group`/`kind`. Unsupported field labels are 400
 * `field label not supported: <field>` as on a real apiserver. Custom resources of a cluster-scoped CRD support
 * only `metadata.name` (`namespaceField: false`), as apiextensions' field label conversion.
 */
export function parseFieldSelector(selector: string | undefined | null, group: string, kind: string, namespaceField = true): FieldMatcher {
  if (!selector || selector.trim() === "") return () => true;
  const allowed = new Set(["metadata.name", ...(namespaceField ? ["metadata.namespace"] : []), ...(selectableFields[`${group}/${kind}`] ?? [])]);
  const terms: { field: string; neg: boolean; value: string }[] = [];
  for (const raw of splitUnescaped(selector, ",")) {
    const term = raw.trim();
    if (term === "") continue;
    const m = /^([^=!]+?)\s*(!=|==|=)\s*(.*)$/s.exec(term);
    if (!m) throw badRequest(`invalid field selector: '${term}' is not a valid term, expected key=value, key==value or key!=value`);
    const field = m[1].trim();
    if (!allowed.has(field)) throw badRequest(`field label not supported: ${field}`);
    terms.push({ field, neg: m[2] === "!=", value: unescapeValue(m[3], selector) });
  }
  return (obj) => terms.every((t) => (fieldValue(obj, t.field) === t.value) !== t.neg);
}

/** The exact name a field selector pins (`metadata.name=x`), used to serve it without a scan. */
export function nameFromFieldSelector(selector: string | undefined | null): string | undefined {
  if (!selector) return undefined;
  for (const raw of splitUnescaped(selector, ",")) {
    const m = /^\s*metadata\.name\s*(==|=)\s*(.*?)\s*$/.exec(raw);
    if (m) return m[2].replace(/\\(.)/g, "$1");
  }
  return undefined;
}
