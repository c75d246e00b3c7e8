/**
 * Which address-pool config is in force: one pure state machine that the controller and every
 * speaker run on the same inputs, so they cannot disagree about it (they once did: a deleted
 * ConfigMap made the speakers drop VIPs that the controller kept).
 *
 * Each step takes the previous state, the config inputs (today the legacy ConfigMap; MetalLB's
 * IPAddressPool/L2Advertisement CRDs would be a second field of {@link ConfigInputs}) and the IPs
 * Services hold, and returns the next state: the config in force and a verdict.
 *
 * - `loaded`: the inputs parse and take no IP away from a Service that holds it; they are in force now.
 * - `unchanged`: the inputs are those of the previous step; nothing new to report.
 * - `kept-because-…`: the config in force stays, and the verdict's message says what is wrong,
 *   where, how to fix it and what is kept. Causes: the config is invalid, the ConfigMap lacks the
 *   `config` key, the key is empty (blank or comments only — a config without pools is written
 *   `address-pools: []`), the ConfigMap is deleted, or the config would take IPs away from Services
 *   (every Service and IP listed, under the same rule as the controller's `Allocator.setPools`).
 *
 * First load: while no config has ever been in force, a missing ConfigMap or key, an empty key or an
 * invalid config leaves nothing in force (the controller hands out and learns nothing, speakers
 * announce nothing), and the verdict says "no config is in force yet". The first good config loads
 * whatever Services hold: there is nothing to keep, so nothing is taken away (Services holding IPs
 * outside it are left alone by the controller, not announced by speakers).
 *
 * A config refused for holders is re-checked on every step, so it loads by itself once the
 * blocking Services are gone or re-IPed; it is reported again only when the list changes.
 *
 * @example
 * let state = nothingLoaded;
 * state = decideConfig(state, { configMap: configMapInput(cm, "metallb-system", "config") }, holders);
 * if (isKept(state.verdict)) log.error({ cause: state.verdict.cause, reason: state.verdict.message }, "...");
 * const pools = state.inForce?.pools ?? [];
 */
import { formatIp, parseIp } from "../ip/address.ts";
import type { IpAddress } from "../ip/address.ts";
import { rangeContains } from "../ip/range.ts";
import type { Pool } from "./config-types.ts";
import { parseConfig } from "./parse-config.ts";

const CONFIG_KEY = "config";
const POOL_ANNOTATIONS = ["metallb.universe.tf/address-pool", "metallb.io/address-pool"];

/** A namespaced object, with its uid once seen. */
export interface ObjectRef {
  readonly namespace: string;
  readonly name: string;
  readonly uid?: string;
}

/** The legacy ConfigMap as an informer's cache holds it. Build it with {@link configMapInput}. */
export type ConfigMapInput =
  | { readonly state: "absent"; readonly namespace: string; readonly name: string }
  | {
      readonly state: "present";
      readonly namespace: string;
      readonly name: string;
      readonly uid?: string;
      readonly data: Readonly<Record<string, string>> | undefined;
    };

/** Every source of address-pool config. Only the legacy ConfigMap today. */
export interface ConfigInputs {
  readonly configMap: ConfigMapInput;
}

/** The IPs one Service holds (its status). Build it with {@link heldIpsOf}. */
export interface HeldIps {
  /** `namespace/name`. */
  readonly service: string;
  readonly ips: readonly string[];
  /** The pool the Service names (`metallb.universe.tf/address-pool`), if any. */
  readonly pool?: string;
}

/** An IP a config would take away from the Service holding it, and why. */
export interface TakenIp {
  readonly service: string;
  readonly ip: string;
  readonly reason: string;
}

/** The config in force: its pools and where they came from (`ConfigMap metallb-system/config`). */
export interface ConfigInForce {
  readonly pools: readonly Pool[];
  readonly source: string;
}

/** Why the latest inputs were not put in force; the label of `baremetal_lb_config_rejections_total{cause}`. */
export type KeptCause = "invalid" | "key-missing" | "empty" | "deleted" | "would-orphan-ips";

/** Every {@link KeptCause}, e.g. to initialise a counter per cause. */
export const keptCauses: readonly KeptCause[] = ["invalid", "key-missing", "empty", "deleted", "would-orphan-ips"];

const kindOf = {
  invalid: "kept-because-invalid",
  "key-missing": "kept-because-key-missing",
  empty: "kept-because-empty",
  deleted: "kept-because-deleted",
  "would-orphan-ips": "kept-because-it-would-orphan",
} as const;

/** The latest inputs are not in force; the config in force (if any) stays. */
export interface KeptVerdict {
  readonly kind: (typeof kindOf)[KeptCause];
  readonly cause: KeptCause;
  /** What is wrong, where, how to fix it and what stays in force: for an Event, a log field. */
  readonly message: string;
  /** The parse errors, or one `service holds ip (reason)` per IP taken away; else empty. */
  readonly problems: readonly string[];
  /** For `kept-because-it-would-orphan`: every Service and IP; else empty. */
  readonly takenAway: readonly TakenIp[];
}

/** What one step decided. */
export type ConfigVerdict = { readonly kind: "loaded"; readonly message: string } | { readonly kind: "unchanged" } | KeptVerdict;

/** What the previous step saw, so the same inputs are not decided twice. */
export interface LatestInputs {
  /** Identifies the inputs: `absent`, `key-missing` or `text:` and the config text. */
  readonly key: string;
  /** The pools of a config refused because it would take IPs away: re-checked on every step. */
  readonly refusedPools: readonly Pool[] | undefined;
}

export interface ConfigState {
  /** The config in force; undefined while none has ever loaded. */
  readonly inForce: ConfigInForce | undefined;
  /** What the latest step decided. */
  readonly verdict: ConfigVerdict;
  /** Why the latest inputs are not in force, carried across `unchanged` steps: the config is stale while set. */
  readonly refusal: KeptVerdict | undefined;
  /** The ConfigMap, with the uid last seen (kept after it is deleted, to name it in Events). */
  readonly configMap: ObjectRef | undefined;
  readonly latest: LatestInputs | undefined;
}

/** The state before the first step: nothing in force, nothing seen. */
export const nothingLoaded: ConfigState = {
  inForce: undefined,
  verdict: { kind: "unchanged" },
  refusal: undefined,
  configMap: undefined,
  latest: undefined,
};

/** Whether a verdict keeps the config in force instead of the latest inputs. */
export function isKept(verdict: ConfigVerdict): verdict is KeptVerdict {
  return verdict.kind !== "loaded" && verdict.kind !== "unchanged";
}

/**
 * One step: the config in force after `inputs`, given what Services hold now.
 *
 * @example
 * decideConfig(loadedState, { configMap: { state: "absent", namespace: "metallb-system", name: "config" } }, []).verdict.message;
 * // "ConfigMap metallb-system/config was deleted; recreate it with the address-pools YAML under data.config; the last good config stays in force (pools default, lan)"
 */
export function decideConfig(previous: ConfigState, inputs: ConfigInputs, holders: readonly HeldIps[]): ConfigState {
  const input = inputs.configMap;
  const configMap: ObjectRef =
    input.state === "present"
      ? { namespace: input.namespace, name: input.name, uid: input.uid }
      : { namespace: input.namespace, name: input.name, uid: previous.configMap?.uid };
  const key = keyOf(input);
  if (previous.latest?.key === key) {
    const refusedPools = previous.latest.refusedPools;
    if (refusedPools === undefined) return { ...previous, configMap, verdict: { kind: "unchanged" } };
    return tryLoad(previous, configMap, key, refusedPools, holders);
  }
  const source = `ConfigMap ${input.namespace}/${input.name}`;
  const read = readConfigMap(input, source, previous.configMap !== undefined);
  if (!read.ok) {
    const refusal = kept(read.cause, `${read.problem}; ${keptClause(previous.inForce)}`, read.errors, []);
    return { inForce: previous.inForce, verdict: refusal, refusal, configMap, latest: { key, refusedPools: undefined } };
  }
  return tryLoad(previous, configMap, key, read.pools, holders);
}

/**
 * Overrules a `loaded` step when the caller's own check refuses its pools (the controller's
 * allocator knows a holder that `holders` did not show yet): the previous config stays in force and
 * the refused config is retried on later steps, as if `decideConfig` had refused it itself.
 *
 * @example
 * const applied = allocator.setPools(next.inForce!.pools);
 * if (!applied.ok) next = refuseLoad(previous, next, applied.blocked);
 */
export function refuseLoad(previous: ConfigState, loaded: ConfigState, takenAway: readonly TakenIp[]): ConfigState {
  if (loaded.verdict.kind !== "loaded" || loaded.inForce === undefined || loaded.latest === undefined || takenAway.length === 0) {
    throw new Error(`refuseLoad needs a "loaded" step and at least one IP taken away; got verdict "${loaded.verdict.kind}" and ${takenAway.length} IP(s)`);
  }
  return refuse(previous, loaded.configMap!, loaded.latest.key, loaded.inForce.pools, takenAway);
}

/**
 * The {@link ConfigMapInput} of a ConfigMap as an informer returns it (`V1ConfigMap` fits), or of
 * its absence.
 *
 * @example
 * configMapInput(informer.get("config", "metallb-system"), "metallb-system", "config");
 */
export function configMapInput(
  cm: { readonly metadata?: { readonly uid?: string } | null; readonly data?: Readonly<Record<string, string>> | null } | undefined,
  namespace: string,
  name: string,
): ConfigMapInput {
  if (cm === undefined) return { state: "absent", namespace, name };
  return { state: "present", namespace, name, uid: cm.metadata?.uid, data: cm.data ?? undefined };
}

/**
 * The IPs a Service shows in its status (`V1Service` fits), or undefined when it shows none. The
 * named pool is read under both annotation prefixes; when they disagree the Service names none.
 *
 * @example
 * heldIpsOf({ metadata: { namespace: "shop", name: "web" }, status: { loadBalancer: { ingress: [{ ip: "10.0.0.1" }] } } });
 * // { service: "shop/web", ips: ["10.0.0.1"], pool: undefined }
 */
export function heldIpsOf(svc: {
  readonly metadata?: { readonly namespace?: string; readonly name?: string; readonly annotations?: Readonly<Record<string, string>> | null } | null;
  readonly status?: { readonly loadBalancer?: { readonly ingress?: readonly { readonly ip?: string | null }[] | null } | null } | null;
}): HeldIps | undefined {
  const ips = (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip).filter((ip): ip is string => !!ip);
  if (ips.length === 0) return undefined;
  const named = [...new Set(POOL_ANNOTATIONS.map((a) => svc.metadata?.annotations?.[a]).filter((p): p is string => !!p))];
  return { service: `${svc.metadata?.namespace || "default"}/${svc.metadata?.name ?? ""}`, ips, pool: named.length === 1 ? named[0] : undefined };
}

// ---- reading the inputs ----------------------------------------------------------------------

type Reading = { ok: true; pools: readonly Pool[] } | { ok: false; cause: KeptCause; problem: string; errors: readonly string[] };

function keyOf(input: ConfigMapInput): string {
  if (input.state === "absent") return "absent";
  const text = input.data?.[CONFIG_KEY];
  return text === undefined ? "key-missing" : `text:${text}`;
}

function readConfigMap(input: ConfigMapInput, source: string, seenBefore: boolean): Reading {
  if (input.state === "absent") {
    const problem = seenBefore
      ? `${source} was deleted; recreate it with the address-pools YAML under data.${CONFIG_KEY}`
      : `${source} does not exist; create it with the address-pools YAML under data.${CONFIG_KEY} (example: manifests/examples/config.yaml)`;
    return { ok: false, cause: "deleted", problem, errors: [] };
  }
  const text = input.data?.[CONFIG_KEY];
  if (text === undefined) {
    const others = Object.keys(input.data ?? {});
    const has = others.length > 0 ? ` (its keys: ${others.join(", ")})` : "";
    return { ok: false, cause: "key-missing", problem: `${source} has no "${CONFIG_KEY}" key${has}; put the address-pools YAML under data.${CONFIG_KEY}`, errors: [] };
  }
  if (text.split("\n").every((line) => line.trim() === "" || line.trim().startsWith("#"))) {
    return {
      ok: false,
      cause: "empty",
      problem: `${source} has an empty "${CONFIG_KEY}" key; put the address-pools YAML there (a config without pools is written "address-pools: []")`,
      errors: [],
    };
  }
  const parsed = parseConfig(text);
  if (!parsed.ok) return { ok: false, cause: "invalid", problem: `${source}, key "${CONFIG_KEY}": ${parsed.errors.join("; ")}`, errors: parsed.errors };
  return { ok: true, pools: parsed.config.pools };
}

// ---- deciding --------------------------------------------------------------------------------

function tryLoad(previous: ConfigState, configMap: ObjectRef, key: string, pools: readonly Pool[], holders: readonly HeldIps[]): ConfigState {
  const takenAway = previous.inForce ? ipsTakenAway(previous.inForce.pools, pools, holders) : [];
  if (takenAway.length > 0) return refuse(previous, configMap, key, pools, takenAway);
  const wasRefusedForHolders = previous.refusal?.cause === "would-orphan-ips" && previous.latest?.key === key;
  const summary = `${pools.length} pool(s) (${pools.map((p) => p.name).join(", ") || "none"})`;
  const message = wasRefusedForHolders ? `Config applied now that no Service holds an IP it removes: ${summary}` : `Config loaded: ${summary}`;
  return {
    inForce: { pools, source: `ConfigMap ${configMap.namespace}/${configMap.name}` },
    verdict: { kind: "loaded", message },
    refusal: undefined,
    configMap,
    latest: { key, refusedPools: undefined },
  };
}

function refuse(previous: ConfigState, configMap: ObjectRef, key: string, pools: readonly Pool[], takenAway: readonly TakenIp[]): ConfigState {
  const latest = { key, refusedPools: pools };
  const standing = previous.refusal;
  if (standing?.cause === "would-orphan-ips" && previous.latest?.key === key && sameTaken(standing.takenAway, takenAway)) {
    return { ...previous, configMap, verdict: { kind: "unchanged" }, latest };
  }
  const problems = takenAway.map((t) => `${t.service} holds ${t.ip} (${t.reason})`);
  const message =
    `ConfigMap ${configMap.namespace}/${configMap.name}: the new config would take IPs away from Services: ${problems.join("; ")}. ` +
    `Delete those Services or give them other IPs first; the new config is applied as soon as they are gone; ${keptClause(previous.inForce)}`;
  const refusal = kept("would-orphan-ips", message, problems, takenAway);
  return { inForce: previous.inForce, verdict: refusal, refusal, configMap, latest };
}

function kept(cause: KeptCause, message: string, problems: readonly string[], takenAway: readonly TakenIp[]): KeptVerdict {
  return { kind: kindOf[cause], cause, message, problems, takenAway };
}

function keptClause(inForce: ConfigInForce | undefined): string {
  if (inForce === undefined) return "no config is in force yet, so no Service gets an IP and none is announced";
  const names = inForce.pools.map((p) => p.name);
  return `the last good config stays in force (${names.length > 0 ? `pools ${names.join(", ")}` : "no pools"})`;
}

function sameTaken(a: readonly TakenIp[], b: readonly TakenIp[]): boolean {
  return a.length === b.length && a.every((t, i) => t.service === b[i].service && t.ip === b[i].ip && t.reason === b[i].reason);
}

// ---- what a config would take away -------------------------------------------------------------

/** Where an IP may be held under some pools: its pool, or why it may not be held there. */
type Placement = { pool: Pool } | { reason: string };

/**
 * Every IP that is validly held under `current` and would not be under `next`, in Service order.
 * The same rule as the controller's `Allocator.setPools`: the IP must lie in a pool that the
 * Service's namespace may use and that does not exclude it by avoid-buggy-ips, stay in the pool
 * the Service names, and all of a Service's IPs must stay in one pool. An IP that is not valid
 * under `current` (a Service the controller leaves alone) is not taken away by any config.
 */
function ipsTakenAway(current: readonly Pool[], next: readonly Pool[], holders: readonly HeldIps[]): TakenIp[] {
  const taken: TakenIp[] = [];
  const sorted = [...holders].sort((a, b) => (a.service < b.service ? -1 : a.service > b.service ? 1 : 0));
  for (const holder of sorted) {
    const namespace = holder.service.slice(0, holder.service.indexOf("/"));
    const ips = holder.ips.map((text) => parseIp(text)).flatMap((r) => (r.ok ? [r.ip] : []));
    const now = ips.map((ip) => place(current, ip, namespace));
    const later = ips.map((ip) => place(next, ip, namespace));
    const before = taken.length;
    ips.forEach((ip, i) => {
      const held = now[i];
      const placed = later[i];
      if (!("pool" in held)) return;
      const text = formatIp(ip);
      if (!("pool" in placed)) taken.push({ service: holder.service, ip: text, reason: placed.reason });
      else if (holder.pool && holder.pool === held.pool.name && placed.pool.name !== holder.pool) {
        taken.push({
          service: holder.service,
          ip: text,
          reason: `the Service requests pool "${holder.pool}" (${POOL_ANNOTATIONS[0]}) and the new config puts ${text} in pool "${placed.pool.name}"`,
        });
      }
    });
    if (taken.length > before || ips.length < 2) continue;
    const poolsNow = new Set(now.map((p) => ("pool" in p ? p.pool.name : undefined)));
    const poolsLater = new Set(later.map((p) => ("pool" in p ? p.pool.name : undefined)));
    if (poolsNow.size === 1 && !poolsNow.has(undefined) && poolsLater.size > 1) {
      const where = ips.map((ip, i) => `${formatIp(ip)} in pool "${(later[i] as { pool: Pool }).pool.name}"`).join(", ");
      for (const ip of ips) taken.push({ service: holder.service, ip: formatIp(ip), reason: `the new config splits the Service's IPs across pools (${where})` });
    }
  }
  return taken;
}

function place(pools: readonly Pool[], ip: IpAddress, namespace: string): Placement {
  const pool = pools.find((p) => p.ranges.some((r) => rangeContains(r, ip)));
  const text = formatIp(ip);
  if (pool === undefined) return { reason: `${text} is in no pool of the new config` };
  if (pool.namespaces !== undefined && !pool.namespaces.includes(namespace)) {
    return { reason: `under the new config pool "${pool.name}" is restricted to namespaces [${pool.namespaces.join(", ")}] and the Service is in "${namespace}"` };
  }
  const last = ip.value & 255n;
  if (pool.avoidBuggyIps && ip.family === 4 && (last === 0n || last === 255n)) {
    return { reason: `under the new config ${text} ends in .${last} and pool "${pool.name}" has avoid-buggy-ips: true; use another address or set avoid-buggy-ips: false` };
  }
  return { pool };
}
