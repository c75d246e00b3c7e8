/**
 * Reading MetalLB's `metallb.io/v1beta1` IPAddressPool and L2Advertisement objects into a
 * {@link Pool} and an {@link Advertisement}. Pure: plain JSON in, the typed value or every problem
 * found out. The API server has checked the CRD schema, but nothing here relies on it.
 *
 * Each problem starts with its field path and ends with the fix:
 * `spec.addresses[1]: "10.0.0.300/24" is not a valid CIDR (octet 300 > 255); write it as a.b.c.d/len`.
 * Problems between objects (overlaps, duplicate or missing pool names) are found by `mergeSources`.
 */
import { formatRange } from "../ip/range.ts";
import type { Advertisement, LabelSelector, Pool, PoolRange, ServiceAllocation, WeightedNodeSelector } from "./config-types.ts";
import { findOverlappingPairs } from "./find-overlaps.ts";
import { formatSelector, readLabelSelector, readLabelSelectors } from "./label-selector.ts";
import { describeValue, isNamespaceName, isPlainObject, namespaceNameProblem, readAddressEntry } from "./parse-pool.ts";

/** One custom resource as an informer's cache holds it, reduced to what config needs. */
export interface CustomResourceInput {
  readonly name: string;
  readonly namespace: string;
  readonly uid?: string;
  readonly generation?: number;
  readonly labels?: Readonly<Record<string, string>>;
  readonly spec: unknown;
}

/** What reading one IPAddressPool found. */
export interface PoolObjectReading {
  /** `IPAddressPool <namespace>/<name>`: names the object in messages and is its key. */
  readonly source: string;
  readonly name: string;
  /** Every address entry that parsed, even when other fields are wrong (for overlap checks). */
  readonly ranges: readonly PoolRange[];
  /** Every problem, each starting with its field path; empty when `pool` is set. */
  readonly problems: readonly string[];
  readonly pool?: Pool;
}

/** What reading one L2Advertisement found. */
export interface AdvertisementObjectReading {
  /** `L2Advertisement <namespace>/<name>`. */
  readonly source: string;
  readonly name: string;
  /** The `spec.ipAddressPools` names that are usable strings, with their index (for missing-pool checks). */
  readonly poolNames: readonly { readonly name: string; readonly index: number }[];
  readonly problems: readonly string[];
  readonly advertisement?: Advertisement;
}

const POOL_FIELDS = ["addresses", "autoAssign", "avoidBuggyIPs", "serviceAllocation"];
const ALLOCATION_FIELDS = ["priority", "namespaces", "namespaceSelectors", "serviceSelectors"];
const ADVERTISEMENT_FIELDS = ["ipAddressPools", "ipAddressPoolSelectors", "nodeSelectors", "interfaces", "serviceSelectors", "preferredNodeSelectors"];
const PREFERENCE_FIELDS = ["weight", "preference"];

/**
 * Reads an IPAddressPool. `autoAssign` defaults to true, `avoidBuggyIPs` to false. A
 * `serviceAllocation`, even empty, is kept as `Pool.serviceAllocation` (MetalLB orders pools that
 * have one before those that do not), less its `namespaces`, which become `Pool.namespaces`; a
 * priority of 0 means no priority, as in MetalLB (its field is `omitempty`); any other whole number
 * is kept, negative ones too.
 *
 * @example
 * readIPAddressPool({ name: "lan", namespace: "metallb-system", spec: { addresses: ["192.168.10.0/24"] } }).pool;
 * // { name: "lan", protocol: "layer2", ranges: [...], autoAssign: true, avoidBuggyIps: false, source: "IPAddressPool metallb-system/lan", labels: {} }
 */
export function readIPAddressPool(input: CustomResourceInput): PoolObjectReading {
  const source = `IPAddressPool ${input.namespace}/${input.name}`;
  const problems: string[] = [];
  const spec = input.spec ?? {};
  if (!isPlainObject(spec)) {
    problems.push(`spec: must be an object with addresses, e.g. {addresses: [192.168.10.0/24]}; got ${describeValue(spec)}`);
    return { source, name: input.name, ranges: [], problems };
  }
  unknownFields(spec, "spec", POOL_FIELDS, "an IPAddressPool spec", problems);
  const ranges = readPoolAddresses(spec.addresses, problems);
  const autoAssign = readBoolean(spec.autoAssign, true, "spec.autoAssign", problems);
  const avoidBuggyIps = readBoolean(spec.avoidBuggyIPs, false, "spec.avoidBuggyIPs", problems);
  const allocation = readServiceAllocation(spec.serviceAllocation, problems);
  if (problems.length > 0) return { source, name: input.name, ranges, problems };
  const pool: Pool = {
    name: input.name,
    protocol: "layer2",
    ranges,
    autoAssign,
    avoidBuggyIps,
    ...(allocation.namespaces.length > 0 ? { namespaces: allocation.namespaces } : {}),
    ...(allocation.serviceAllocation ? { serviceAllocation: allocation.serviceAllocation } : {}),
    source,
    labels: { ...input.labels },
  };
  return { source, name: input.name, ranges, problems, pool };
}

/**
 * Reads an L2Advertisement. An absent spec is an advertisement of every pool from every node.
 *
 * @example
 * readL2Advertisement({ name: "l2", namespace: "metallb-system", spec: { ipAddressPools: ["lan"], interfaces: ["eth0"] } }).advertisement?.interfaces;
 * // ["eth0"]
 */
export function readL2Advertisement(input: CustomResourceInput): AdvertisementObjectReading {
  const source = `L2Advertisement ${input.namespace}/${input.name}`;
  const problems: string[] = [];
  const spec = input.spec ?? {};
  if (!isPlainObject(spec)) {
    problems.push(`spec: must be an object (ipAddressPools, nodeSelectors, interfaces, …) or absent; got ${describeValue(spec)}`);
    return { source, name: input.name, poolNames: [], problems };
  }
  unknownFields(spec, "spec", ADVERTISEMENT_FIELDS, "an L2Advertisement spec", problems);
  const poolNames = readNames(spec.ipAddressPools, "spec.ipAddressPools", "pool", problems, true);
  const ipAddressPoolSelectors = readSelectorList(spec.ipAddressPoolSelectors, "spec.ipAddressPoolSelectors", problems);
  const nodeSelectors = readSelectorList(spec.nodeSelectors, "spec.nodeSelectors", problems);
  const interfaces = readNames(spec.interfaces, "spec.interfaces", "interface", problems, false);
  const serviceSelectors = readSelectorList(spec.serviceSelectors, "spec.serviceSelectors", problems);
  const preferredNodeSelectors = readPreferences(spec.preferredNodeSelectors, problems);
  if (problems.length > 0) return { source, name: input.name, poolNames, problems };
  const advertisement: Advertisement = {
    source,
    name: input.name,
    ipAddressPools: poolNames.map((p) => p.name),
    ipAddressPoolSelectors,
    nodeSelectors,
    interfaces: [...new Set(interfaces.map((i) => i.name))],
    serviceSelectors,
    preferredNodeSelectors,
  };
  return { source, name: input.name, poolNames, problems, advertisement };
}

// ---- IPAddressPool fields -----------------------------------------------------------------------

function readPoolAddresses(raw: unknown, problems: string[]): PoolRange[] {
  if (raw === undefined || raw === null) {
    problems.push("spec.addresses: missing; list the pool's CIDRs or ranges, e.g. addresses: [192.168.10.0/24]");
    return [];
  }
  if (!Array.isArray(raw)) {
    problems.push(`spec.addresses: must be a list of CIDRs or ranges, e.g. [192.168.10.0/24]; got ${describeValue(raw)}`);
    return [];
  }
  if (raw.length === 0) {
    problems.push("spec.addresses: is empty, so the pool has no addresses; list at least one CIDR or range, e.g. 192.168.10.0/24");
    return [];
  }
  const ranges: PoolRange[] = [];
  raw.forEach((entry: unknown, index) => {
    const read = readAddressEntry(entry, index);
    if (read.ok) ranges.push(read.range);
    else problems.push(`spec.addresses[${index}]: ${read.problem}`);
  });
  for (const { earlier, later, shared } of findOverlappingPairs(ranges)) {
    const [a, b] = [ranges[later], ranges[earlier]];
    problems.push(`spec.addresses[${a.index}] ${a.text} overlaps spec.addresses[${b.index}] ${b.text} (they share ${formatRange(shared)}); remove the overlap`);
  }
  return ranges;
}

function readServiceAllocation(raw: unknown, problems: string[]): { namespaces: string[]; serviceAllocation?: ServiceAllocation } {
  if (raw === undefined || raw === null) return { namespaces: [] };
  const at = "spec.serviceAllocation";
  if (!isPlainObject(raw)) {
    problems.push(`${at}: must be an object with ${ALLOCATION_FIELDS.join(", ")}; got ${describeValue(raw)}`);
    return { namespaces: [] };
  }
  unknownFields(raw, at, ALLOCATION_FIELDS, "serviceAllocation", problems);
  const priority = readPriority(raw.priority, `${at}.priority`, problems);
  const namespaces = readNamespaces(raw.namespaces, `${at}.namespaces`, problems);
  const namespaceSelectors = readSelectorList(raw.namespaceSelectors, `${at}.namespaceSelectors`, problems);
  const serviceSelectors = readSelectorList(raw.serviceSelectors, `${at}.serviceSelectors`, problems);
  const allocation: ServiceAllocation = {
    ...(priority !== undefined ? { priority } : {}),
    ...(namespaceSelectors.length > 0 ? { namespaceSelectors } : {}),
    ...(serviceSelectors.length > 0 ? { serviceSelectors } : {}),
  };
  return { namespaces, serviceAllocation: allocation };
}

function readPriority(raw: unknown, at: string, problems: string[]): number | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== "number" || !Number.isSafeInteger(raw)) {
    problems.push(`${at}: must be a whole number (lower is preferred); got ${describeValue(raw)}`);
    return undefined;
  }
  return raw === 0 ? undefined : raw;
}

function readNamespaces(raw: unknown, at: string, problems: string[]): string[] {
  const names = readNames(raw, at, "namespace", problems, true);
  const valid: string[] = [];
  for (const { name, index } of names) {
    if (isNamespaceName(name)) valid.push(name);
    else problems.push(`${at}[${index}]: ${namespaceNameProblem(name)}`);
  }
  return valid;
}

// ---- L2Advertisement fields ---------------------------------------------------------------------

function readPreferences(raw: unknown, problems: string[]): WeightedNodeSelector[] {
  const at = "spec.preferredNodeSelectors";
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) {
    problems.push(`${at}: must be a list of {weight, preference}; got ${describeValue(raw)}`);
    return [];
  }
  const preferences: WeightedNodeSelector[] = [];
  raw.forEach((entry: unknown, index) => {
    const where = `${at}[${index}]`;
    if (!isPlainObject(entry)) {
      problems.push(`${where}: must be {weight: 1-100, preference: <label selector>}; got ${describeValue(entry)}`);
      return;
    }
    const before = problems.length;
    unknownFields(entry, where, PREFERENCE_FIELDS, "a preferred node selector", problems);
    const weight = entry.weight;
    if (weight === undefined || weight === null) problems.push(`${where}.weight: missing; set a weight from 1 to 100 (weights of matching entries add up)`);
    else if (typeof weight !== "number" || !Number.isInteger(weight) || weight < 1 || weight > 100) {
      problems.push(`${where}.weight: must be a whole number from 1 to 100; got ${describeValue(weight)}`);
    }
    let preference: LabelSelector = {};
    if (entry.preference === undefined || entry.preference === null) {
      problems.push(`${where}.preference: missing; set the label selector of the preferred nodes, e.g. {matchLabels: {zone: a}}`);
    } else {
      const read = readLabelSelector(entry.preference, `${where}.preference`);
      if (read.ok) preference = read.selector;
      else problems.push(...read.errors);
    }
    if (problems.length === before) preferences.push({ weight: weight as number, preference });
  });
  return preferences;
}

// ---- shared field readers -----------------------------------------------------------------------

function readSelectorList(raw: unknown, at: string, problems: string[]): LabelSelector[] {
  const read = readLabelSelectors(raw, at);
  if (!read.ok) {
    problems.push(...read.errors);
    return [];
  }
  const seen = new Map<string, number>();
  read.selectors.forEach((selector, index) => {
    const key = canonicalJson(selector);
    const first = seen.get(key);
    if (first === undefined) seen.set(key, index);
    else problems.push(`${at}[${index}]: the same selector as ${at}[${first}] (${formatSelector(selector)}); remove one`);
  });
  return read.selectors;
}

/** A list of non-empty strings; duplicates are refused when `unique`, else kept for the caller to fold. */
function readNames(raw: unknown, at: string, what: string, problems: string[], unique: boolean): { name: string; index: number }[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) {
    problems.push(`${at}: must be a list of ${what} names; got ${describeValue(raw)}`);
    return [];
  }
  const names: { name: string; index: number }[] = [];
  const seen = new Set<string>();
  raw.forEach((entry: unknown, index) => {
    if (typeof entry !== "string" || entry === "") {
      const article = /^[aeiou]/.test(what) ? "an" : "a";
      problems.push(`${at}[${index}]: must be ${article} ${what} name; got ${entry === "" ? "an empty string" : describeValue(entry)}`);
    } else if (unique && seen.has(entry)) {
      problems.push(`${at}[${index}]: "${entry}" is listed twice; remove one`);
    } else {
      seen.add(entry);
      names.push({ name: entry, index });
    }
  });
  return names;
}

function readBoolean(raw: unknown, fallback: boolean, at: string, problems: string[]): boolean {
  if (raw === undefined || raw === null) return fallback;
  if (typeof raw === "boolean") return raw;
  problems.push(`${at}: must be true or false; got ${describeValue(raw)}`);
  return fallback;
}

function unknownFields(raw: Record<string, unknown>, at: string, allowed: readonly string[], what: string, problems: string[]): void {
  for (const key of Object.keys(raw)) {
    if (!allowed.includes(key)) {
      const near = allowed.find((a) => a.toLowerCase() === key.toLowerCase());
      const hint = near ? `; did you mean ${near}? (field names are case-sensitive)` : "";
      problems.push(`${at}: unknown field "${key}"; ${what} has ${allowed.join(", ")}${hint}`);
    }
  }
}

/**
 * JSON with object keys sorted, so equal values give equal text whatever their key order: the
 * fingerprint of an object's content.
 *
 * @example canonicalJson({ b: 1, a: [{ d: 2, c: 3 }] }); // '{"a":[{"c":3,"d":2}],"b":1}'
 */
export function canonicalJson(value: unknown): string {
  const text: string | undefined = JSON.stringify(value, (_key, v: unknown) =>
    isPlainObject(v) ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, v[k]])) : v,
  );
  return text ?? "null";
}
