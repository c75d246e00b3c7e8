/**
 * Parser for the MetalLB legacy ConfigMap text (key `config`), layer-2 pools only. Pure: text in,
 * typed pools or a list of precise errors out.
 */
import { LineCounter, parseDocument } from "yaml";
import type { YAMLError } from "yaml";
import type { Advertisement, ConfigParseResult, Pool } from "./config-types.ts";
import { findOverlaps } from "./find-overlaps.ts";
import type { LabelledRange } from "./find-overlaps.ts";
import { describeValue, isPlainObject, readPool } from "./parse-pool.ts";

const BGP_KEYS = ["peers", "bgp-communities", "bfd-profiles"];
const TOP_LEVEL_KEYS = ["address-pools", ...BGP_KEYS];

/**
 * Parses and validates the config. Strict like MetalLB's: unknown keys, duplicate keys, BGP content,
 * invalid or overlapping addresses all reject the whole config (an empty or null
 * `bgp-advertisements` on a pool is accepted, as MetalLB v0.12 does). Every problem is reported, not
 * just the first. Empty text, or an empty `address-pools`, is a valid config without pools. Each pool
 * carries `source`, and the pools get one implicit advertisement (every node, every interface).
 *
 * YAML 1.1 details are kept as Go's yaml.v2 reads them: `yes`/`no`/`on`/`off` are booleans, and
 * unquoted scalars such as `1:2:3:4:5:6:7:8` stay text.
 *
 * @example
 * parseConfig("address-pools:\n- name: default\n  protocol: layer2\n  addresses: [10.0.0.0/28]\n");
 * // { ok: true, config: { pools: [{ name: "default", protocol: "layer2", ranges: [...], autoAssign: true, avoidBuggyIps: false, source: "ConfigMap metallb-system/config" }],
 * //                       advertisements: [{ source: "ConfigMap metallb-system/config", name: "config", ipAddressPools: ["default"], ... }] } }
 */
export function parseConfig(text: string, source = "ConfigMap metallb-system/config"): ConfigParseResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, {
    version: "1.1",
    schema: "failsafe", // every scalar stays text ...
    customTags: ["null", "bool", "merge"], // ... except nulls, true/false and << merge keys
    uniqueKeys: true,
    prettyErrors: false,
    lineCounter,
  });
  if (doc.errors.length > 0) return { ok: false, errors: doc.errors.map((error) => yamlMessage(error, text, lineCounter)) };

  let root: unknown;
  try {
    root = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    return { ok: false, errors: [`config is not valid YAML: ${(error as Error).message}`] };
  }
  if (root === null || root === undefined) return { ok: true, config: { pools: [], advertisements: [] } };
  if (!isPlainObject(root)) {
    return { ok: false, errors: [`config must be a YAML mapping with the key address-pools; got ${describeValue(root)}`] };
  }

  const errors: string[] = [];
  for (const [key, value] of Object.entries(root)) {
    if (BGP_KEYS.includes(key)) {
      if (!isEmpty(value)) {
        errors.push(`${key}: BGP mode is not supported; baremetal-lb implements layer2 only. Remove ${key} and use protocol: layer2 pools`);
      }
    } else if (!TOP_LEVEL_KEYS.includes(key)) {
      errors.push(`unknown top-level key "${key}"; allowed keys: address-pools (and the BGP keys ${BGP_KEYS.join(", ")}, which must be empty)`);
    }
  }

  const rawPools = root["address-pools"];
  const pools: Pool[] = [];
  if (rawPools !== undefined && rawPools !== null && !Array.isArray(rawPools)) {
    errors.push(`address-pools must be a list of pools; got ${describeValue(rawPools)}`);
  } else if (Array.isArray(rawPools)) {
    const firstIndexOfName = new Map<string, number>();
    const labelled: LabelledRange[] = [];
    rawPools.forEach((raw: unknown, index) => {
      const reading = readPool(raw, index);
      errors.push(...reading.errors);
      if (reading.name !== undefined) {
        const first = firstIndexOfName.get(reading.name);
        if (first === undefined) {
          firstIndexOfName.set(reading.name, index);
        } else {
          errors.push(
            `address-pools[${index}]: duplicate definition of pool "${reading.name}" (already defined by address-pools[${first}]); give each pool a unique name`,
          );
        }
      }
      for (const range of reading.ranges) labelled.push({ poolLabel: reading.label, range });
      if (reading.pool) pools.push(reading.pool);
    });
    errors.push(...findOverlaps(labelled));
  }

  if (errors.length > 0) return { ok: false, errors };
  const sourced = pools.map((pool) => ({ ...pool, source }));
  return { ok: true, config: { pools: sourced, advertisements: implicitAdvertisement(sourced, source) } };
}

/**
 * The legacy ConfigMap announces every layer2 pool from every node on every interface: one implicit
 * advertisement naming its pools (never none, since naming none would mean all pools, the CRs' too).
 */
function implicitAdvertisement(pools: readonly Pool[], source: string): Advertisement[] {
  if (pools.length === 0) return [];
  const none = [] as const;
  return [
    {
      source,
      name: source.slice(source.lastIndexOf("/") + 1),
      ipAddressPools: pools.map((p) => p.name),
      ipAddressPoolSelectors: none,
      nodeSelectors: none,
      interfaces: none,
      serviceSelectors: none,
      preferredNodeSelectors: none,
    },
  ];
}

function isEmpty(value: unknown): boolean {
  if (value === null || value === undefined || value === "") return true;
  if (Array.isArray(value)) return value.length === 0;
  return isPlainObject(value) && Object.keys(value).length === 0;
}

function yamlMessage(error: YAMLError, text: string, lineCounter: LineCounter): string {
  const { line, col } = lineCounter.linePos(error.pos[0]);
  const where = `line ${line}, column ${col}`;
  if (error.code === "DUPLICATE_KEY") {
    const key = /^\s*("[^"]*"|'[^']*'|[^:\n]*?)\s*:/.exec(text.slice(error.pos[0]))?.[1] ?? "";
    return `config has a duplicate key ${key.startsWith('"') ? key : `"${key.replace(/^'|'$/g, "")}"`} at ${where}; keep only one`;
  }
  if (error.code === "MULTIPLE_DOCS") return `config holds more than one YAML document (the second starts at ${where}); keep one`;
  return `config is not valid YAML at ${where}: ${error.message}; fix the syntax`;
}
