/**
 * The JSONPath dialect of Kubernetes (k8s.io/client-go/util/jsonpath), as kube-apiserver evaluates a CRD's
 * `additionalPrinterColumns[].jsonPath`: fields (`.a.b`, `['a.b']`, `.a\.b`), indexes and slices (`[0]`, `[-1]`,
 * `[1:3]`), wildcards (`[*]`, `.*`), unions (`[0,2]`, `['a','b']`), recursive descent (`..name`) and filters
 * (`[?(@.type=="Ready")]`, `[?(@.port>80)]`, `[?(@.ready)]`). Missing keys yield no result (AllowMissingKeys),
 * as the server's printer asks for.
 *
 * @example
 * const path = parseJsonPath('.status.conditions[?(@.type=="Ready")].status');
 * findResults(path, { status: { conditions: [{ type: "Ready", status: "True" }] } }); // ["True"]
 */

type Step =
  | { kind: "field"; names: string[] }
  | { kind: "wildcard" }
  | { kind: "recursive" }
  | { kind: "index"; indexes: number[] }
  | { kind: "slice"; start?: number; end?: number; step?: number }
  | { kind: "filter"; left: Step[]; op?: "==" | "!=" | "<" | ">" | "<=" | ">="; right?: Operand };

type Operand = { kind: "literal"; value: string | number | boolean | null } | { kind: "path"; steps: Step[] };

/** A parsed JSONPath; evaluate it with {@link findResults}. */
export interface JsonPath {
  readonly source: string;
  readonly steps: readonly Step[];
}

/** A JSONPath the parser refuses, with the position of the problem. */
export class JsonPathError extends Error {
  constructor(path: string, at: number, why: string) {
    super(`unrecognized JSONPath ${JSON.stringify(path)} at offset ${at}: ${why}`);
    this.name = "JsonPathError";
  }
}

class Parser {
  readonly #text: string;
  #at = 0;

  constructor(text: string) {
    this.#text = text;
  }

  parse(): Step[] {
    let text = this.#text.trim();
    // The server wraps the column path in `{...}`; accept both forms.
    if (text.startsWith("{") && text.endsWith("}")) text = text.slice(1, -1).trim();
    const steps = this.#steps(text, 0, text.length);
    return steps;
  }

  #fail(why: string): never {
    throw new JsonPathError(this.#text, this.#at, why);
  }

  #steps(text: string, from: number, to: number): Step[] {
    const steps: Step[] = [];
    let i = from;
    if (text[i] === "$") i++;
    if (text[i] === "@") i++;
    while (i < to) {
      this.#at = i;
      const c = text[i];
      if (c === "." && text[i + 1] === ".") {
        steps.push({ kind: "recursive" });
        i += 2;
        if (text[i] === "[") continue;
        i = this.#fieldName(text, i, to, steps);
      } else if (c === ".") {
        i++;
        if (i >= to) break; // "." alone is the whole object
        if (text[i] === "*") {
          steps.push({ kind: "wildcard" });
          i++;
        } else {
          i = this.#fieldName(text, i, to, steps);
        }
      } else if (c === "[") {
        const close = this.#closingBracket(text, i, to);
        steps.push(this.#bracket(text.slice(i + 1, close).trim()));
        i = close + 1;
      } else {
        this.#fail(`unexpected ${JSON.stringify(c)}`);
      }
    }
    return steps;
  }

  #fieldName(text: string, from: number, to: number, steps: Step[]): number {
    let name = "";
    let i = from;
    while (i < to && text[i] !== "." && text[i] !== "[") {
      if (text[i] === "\\" && i + 1 < to) {
        name += text[i + 1];
        i += 2;
        continue;
      }
      name += text[i];
      i++;
    }
    if (name === "") this.#fail("empty field name");
    if (name === "*") steps.push({ kind: "wildcard" });
    else steps.push({ kind: "field", names: [name] });
    return i;
  }

  #closingBracket(text: string, open: number, to: number): number {
    let depth = 0;
    let quote: string | undefined;
    for (let i = open; i < to; i++) {
      const c = text[i];
      if (quote) {
        if (c === "\\") i++;
        else if (c === quote) quote = undefined;
      } else if (c === "'" || c === '"') quote = c;
      else if (c === "[" || c === "(") depth++;
      else if (c === "]" || c === ")") {
        depth--;
        if (depth === 0 && c === "]") return i;
      }
    }
    this.#fail("unclosed [");
  }

  #bracket(inner: string): Step {
    if (inner === "*") return { kind: "wildcard" };
    if (inner.startsWith("?")) return this.#filter(inner.slice(1).trim());
    const parts = splitTopLevel(inner, ",").map((p) => p.trim());
    if (parts.every((p) => /^(['"]).*\1$/s.test(p))) return { kind: "field", names: parts.map(unquote) };
    if (parts.length === 1 && parts[0].includes(":")) {
      const [a, b, c] = parts[0].split(":").map((s) => s.trim());
      const num = (s: string | undefined) => (s === undefined || s === "" ? undefined : this.#int(s));
      return { kind: "slice", start: num(a), end: num(b), step: num(c) };
    }
    return { kind: "index", indexes: parts.map((p) => this.#int(p)) };
  }

  #int(s: string): number {
    if (!/^-?\d+$/.test(s)) this.#fail(`${JSON.stringify(s)} is not an index`);
    return Number(s);
  }

  #filter(expr: string): Step {
    if (!expr.startsWith("(") || !expr.endsWith(")")) this.#fail("a filter is written [?(...)]");
    const body = expr.slice(1, -1).trim();
    const m = /^(.*?)\s*(==|!=|<=|>=|<|>)\s*(.*)$/s.exec(body);
    if (!m) return { kind: "filter", left: this.#operandPath(body) };
    return { kind: "filter", left: this.#operandPath(m[1].trim()), op: m[2] as NonNullable<Extract<Step, { kind: "filter" }>["op"]>, right: this.#operand(m[3].trim()) };
  }

  #operandPath(text: string): Step[] {
    if (!text.startsWith("@")) this.#fail(`a filter compares @-paths, not ${JSON.stringify(text)}`);
    return this.#steps(text, 0, text.length);
  }

  #operand(text: string): Operand {
    if (/^(['"]).*\1$/s.test(text)) return { kind: "literal", value: unquote(text) };
    if (/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(text)) return { kind: "literal", value: Number(text) };
    if (text === "true" || text === "false") return { kind: "literal", value: text === "true" };
    if (text === "nil" || text === "null") return { kind: "literal", value: null };
    return { kind: "path", steps: this.#operandPath(text) };
  }
}

function splitTopLevel(s: string, sep: string): string[] {
  const out: string[] = [];
  let cur = "";
  let quote: string | undefined;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quote) {
      cur += c;
      if (c === "\\" && i + 1 < s.length) cur += s[++i];
      else if (c === quote) quote = undefined;
    } else if (c === "'" || c === '"') {
      quote = c;
      cur += c;
    } else if (c === sep) {
      out.push(cur);
      cur = "";
    } else cur += c;
  }
  out.push(cur);
  return out;
}

function unquote(s: string): string {
  return s.slice(1, -1).replace(/\\(.)/g, "$1");
}

/**
 * Parses a JSONPath (with or without the surrounding `{}`); throws {@link JsonPathError}.
 *
 * @example
 * parseJsonPath(".spec.addresses").steps.length; // 2
 */
export function parseJsonPath(path: string): JsonPath {
  return { source: path, steps: new Parser(path).parse() };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function descendants(v: unknown, out: unknown[]): void {
  out.push(v);
  if (Array.isArray(v)) for (const x of v) descendants(x, out);
  else if (isObject(v)) for (const k of Object.keys(v).sort()) descendants(v[k], out);
}

function compare(left: unknown, op: string, right: unknown): boolean {
  switch (op) {
    case "==":
      return left === right;
    case "!=":
      return left !== right;
  }
  if (typeof left === "number" && typeof right === "number") {
    if (op === "<") return left < right;
    if (op === ">") return left > right;
    if (op === "<=") return left <= right;
    return left >= right;
  }
  if (typeof left === "string" && typeof right === "string") {
    if (op === "<") return left < right;
    if (op === ">") return left > right;
    if (op === "<=") return left <= right;
    return left >= right;
  }
  return false;
}

function evaluate(steps: readonly Step[], input: unknown[]): unknown[] {
  let current = input;
  for (const step of steps) {
    const next: unknown[] = [];
    for (const v of current) {
      if (v === null || v === undefined) continue;
      switch (step.kind) {
        case "field":
          if (isObject(v)) for (const n of step.names) if (Object.hasOwn(v, n)) next.push(v[n]);
          break;
        case "wildcard":
          if (Array.isArray(v)) next.push(...v);
          else if (isObject(v)) for (const k of Object.keys(v).sort()) next.push(v[k]);
          break;
        case "recursive":
          descendants(v, next);
          break;
        case "index":
          if (Array.isArray(v)) {
            for (const i of step.indexes) {
              const at = i < 0 ? v.length + i : i;
              if (at >= 0 && at < v.length) next.push(v[at]);
            }
          }
          break;
        case "slice":
          if (Array.isArray(v)) {
            const len = v.length;
            const norm = (i: number | undefined, dflt: number) => (i === undefined ? dflt : i < 0 ? Math.max(0, len + i) : Math.min(i, len));
            const stride = step.step && step.step > 0 ? step.step : 1;
            for (let i = norm(step.start, 0); i < norm(step.end, len); i += stride) next.push(v[i]);
          }
          break;
        case "filter":
          if (Array.isArray(v)) {
            for (const item of v) {
              const left = evaluate(step.left, [item]);
              if (step.op === undefined) {
                if (left.some((x) => x !== null && x !== undefined)) next.push(item);
                continue;
              }
              const right = step.right!.kind === "literal" ? [step.right!.value] : evaluate(step.right!.steps, [item]);
              if (left.length > 0 && right.length > 0 && compare(left[0], step.op, right[0])) next.push(item);
            }
          }
          break;
      }
    }
    current = next;
  }
  return current;
}

/**
 * Every value `path` selects in `value`, in document order; empty when a key is missing.
 *
 * @example
 * findResults(parseJsonPath(".spec.ports[*].port"), { spec: { ports: [{ port: 80 }, { port: 443 }] } }); // [80, 443]
 */
export function findResults(path: JsonPath, value: unknown): unknown[] {
  return evaluate(path.steps, [value]);
}
