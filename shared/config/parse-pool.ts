/**
 * Validation of one `address-pools[]` entry, already turned into plain values by the YAML reader.
 * Internal to `parseConfig`, except {@link readAddressEntry}, which IPAddressPools share.
 */
import { parseIpRange } from "../ip/range.ts";
import type { Pool, PoolRange } from "./config-types.ts";

const POOL_KEYS = ["name", "protocol", "addresses", "auto-assign", "avoid-buggy-ips", "namespaces"];
const BGP_NOTE = "BGP mode is not supported; baremetal-lb implements layer2 only";
const TRUE_WORDS = new Set(["y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"]);
const FALSE_WORDS = new Set(["n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"]);
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** A pool as far as it could be read; `pool` is set only when the entry had no error. */
export interface PoolReading {
  /** `pool "name"`, or `address-pools[i]` when the name is unusable. */
  readonly label: string;
  /** The name when it is a non-empty string. */
  readonly name?: string;
  /** Every address entry that parsed, even when other parts of the pool are wrong (for overlap checks). */
  readonly ranges: PoolRange[];
  readonly errors: string[];
  readonly pool?: Pool;
}

/**
 * Reads `address-pools[index]`.
 *
 * @example
 * readPool({ name: "lan", protocol: "layer2", addresses: ["10.0.0.0/28"] }, 0).pool?.autoAssign; // true
 */
export function readPool(raw: unknown, index: number): PoolReading {
  if (!isPlainObject(raw)) {
    const label = `address-pools[${index}]`;
    return {
      label,
      ranges: [],
      errors: [`${label}: must be a mapping with name, protocol and addresses; got ${describeValue(raw)}`],
    };
  }
  const errors: string[] = [];
  const name = typeof raw.name === "string" && raw.name !== "" ? raw.name : undefined;
  const label = name === undefined ? `address-pools[${index}]` : `pool "${name}"`;

  for (const key of Object.keys(raw)) {
    if (key === "bgp-advertisements") {
      const problem = bgpAdvertisementsProblem(raw[key]);
      if (problem) errors.push(`${label}: ${problem}`);
    } else if (!POOL_KEYS.includes(key)) {
      errors.push(`${label}: unknown key "${key}"; allowed keys: ${POOL_KEYS.join(", ")}`);
    }
  }

  if (raw.name === undefined || raw.name === null || raw.name === "") {
    errors.push(`${label}: missing name; add name: <a unique pool name>`);
  } else if (typeof raw.name !== "string") {
    errors.push(`${label}: name must be a string; got ${describeValue(raw.name)}; write a plain name, quoted if it reads as true/false`);
  }

  const protocol = raw.protocol;
  if (protocol === undefined || protocol === null || protocol === "") {
    errors.push(`${label}: missing protocol; add protocol: layer2`);
  } else if (protocol === "bgp") {
    errors.push(`${label}: protocol bgp is not supported (${BGP_NOTE}); set protocol: layer2`);
  } else if (protocol !== "layer2") {
    errors.push(`${label}: unknown protocol ${quoteValue(protocol)}; set protocol: layer2`);
  }

  const ranges = readAddresses(raw.addresses, label, errors);
  const autoAssign = readBoolean(raw["auto-assign"], true, `${label}: auto-assign`, errors);
  const avoidBuggyIps = readBoolean(raw["avoid-buggy-ips"], false, `${label}: avoid-buggy-ips`, errors);
  const namespaces = readNamespaces(raw.namespaces, label, errors);

  if (errors.length > 0 || name === undefined) return { label, name, ranges, errors };
  const pool: Pool = { name, protocol: "layer2", ranges, autoAssign, avoidBuggyIps, ...(namespaces ? { namespaces } : {}) };
  return { label, name, ranges, errors, pool };
}

/**
 * Why a layer2 pool's `bgp-advertisements` is refused, or undefined when it is absent, null or an
 * empty list (MetalLB v0.12 refuses only a non-empty one).
 */
function bgpAdvertisementsProblem(raw: unknown): string | undefined {
  if (raw === undefined || raw === null || (Array.isArray(raw) && raw.length === 0)) return undefined;
  if (!Array.isArray(raw)) return `bgp-advertisements must be a list, and empty on a layer2 pool; got ${describeValue(raw)}; remove it`;
  return `bgp-advertisements belongs to BGP mode; ${BGP_NOTE}; remove it`;
}

/**
 * Reads one address entry (`addresses[index]` of a ConfigMap pool, `spec.addresses[index]` of an
 * IPAddressPool): a CIDR, an `A-B` range or a single IP, IPv4 or IPv6. The one rule both sources use.
 * The problem starts with the entry as written and ends with how to fix it; callers prefix where.
 *
 * @example
 * readAddressEntry("10.0.0.0/30", 0); // { ok: true, range: { family: 4, first: 167772160n, last: 167772163n, text: "10.0.0.0/30", index: 0 } }
 * readAddressEntry(7, 1); // { ok: false, problem: "must be a CIDR, range or IP written as text; got 7" }
 */
export function readAddressEntry(entry: unknown, index: number): { ok: true; range: PoolRange } | { ok: false; problem: string } {
  if (typeof entry !== "string") return { ok: false, problem: `must be a CIDR, range or IP written as text; got ${describeValue(entry)}` };
  const parsed = parseIpRange(entry);
  if (!parsed.ok) return { ok: false, problem: parsed.message };
  return { ok: true, range: { ...parsed.range, text: entry.trim(), index } };
}

function readAddresses(raw: unknown, label: string, errors: string[]): PoolRange[] {
  if (raw === undefined || raw === null) {
    errors.push(`${label}: missing addresses; add a list of CIDRs, ranges or IPs, e.g. addresses: [192.168.1.240/28]`);
    return [];
  }
  if (!Array.isArray(raw)) {
    errors.push(`${label}: addresses must be a list; write each CIDR, range or IP on its own "- " line`);
    return [];
  }
  if (raw.length === 0) {
    errors.push(`${label}: addresses is empty (the pool has no addresses); add at least one CIDR, range or IP`);
    return [];
  }
  const ranges: PoolRange[] = [];
  raw.forEach((entry: unknown, index) => {
    const read = readAddressEntry(entry, index);
    if (read.ok) ranges.push(read.range);
    else errors.push(`${label}, addresses[${index}]: ${read.problem}`);
  });
  return ranges;
}

function readBoolean(raw: unknown, fallback: boolean, where: string, errors: string[]): boolean {
  if (raw === undefined || raw === null) return fallback;
  if (typeof raw === "boolean") return raw;
  if (typeof raw === "string" && TRUE_WORDS.has(raw)) return true;
  if (typeof raw === "string" && FALSE_WORDS.has(raw)) return false;
  errors.push(`${where} must be true or false; got ${describeValue(raw)}`);
  return fallback;
}

function readNamespaces(raw: unknown, label: string, errors: string[]): string[] | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!Array.isArray(raw)) {
    errors.push(`${label}: namespaces must be a list of namespace names, e.g. namespaces: [team-a, team-b]`);
    return undefined;
  }
  if (raw.length === 0) {
    errors.push(`${label}: namespaces is empty, so no Service could use the pool; list at least one namespace or remove the key to allow all`);
    return undefined;
  }
  const seen = new Set<string>();
  raw.forEach((entry: unknown, index) => {
    const where = `${label}, namespaces[${index}]`;
    if (typeof entry !== "string") {
      errors.push(`${where}: must be a namespace name; got ${describeValue(entry)}`);
    } else if (!isNamespaceName(entry)) {
      errors.push(`${where}: ${namespaceNameProblem(entry)}`);
    } else if (seen.has(entry)) {
      errors.push(`${where}: "${entry}" is listed twice; remove one`);
    }
    if (typeof entry === "string") seen.add(entry);
  });
  return [...seen];
}

/**
 * Whether `name` is a valid namespace name (a DNS-1123 label).
 *
 * @example isNamespaceName("team-a"); // true
 */
export function isNamespaceName(name: string): boolean {
  return name.length <= 63 && DNS1123_LABEL.test(name);
}

/**
 * Why `name` is not a namespace name, with the fix, for messages.
 *
 * @example namespaceNameProblem("Team_A"); // '"Team_A" is not a valid namespace name; use at most 63 lowercase letters, …'
 */
export function namespaceNameProblem(name: string): string {
  return `"${name}" is not a valid namespace name; use at most 63 lowercase letters, digits and "-", starting and ending with a letter or digit`;
}

/** Whether a value is a YAML mapping turned into a plain object. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Short description of an unexpected value, for messages: `a list`, `a mapping`, `"maybe"`. */
export function describeValue(value: unknown): string {
  if (Array.isArray(value)) return "a list";
  if (isPlainObject(value)) return "a mapping";
  if (value === null || value === undefined) return "nothing";
  return quoteValue(value);
}

function quoteValue(value: unknown): string {
  return typeof value === "string" ? `"${value}"` : String(value);
}
