/**
 * Which address-pool config is in force: one pure state machine that the controller and every
 * speaker run on the same inputs, so they cannot disagree about it (they once did: a deleted
 * ConfigMap made the speakers drop VIPs that the controller kept).
 *
 * Each step takes the previous state, the config inputs (the legacy ConfigMap and, when watched,
 * MetalLB's IPAddressPool and L2Advertisement objects) and the IPs Services hold, and returns the
 * next state: the config in force, a verdict, and the readiness of every config object.
 *
 * - `loaded`: the inputs are valid and take no IP away from a Service that holds it; they are in force now.
 * - `unchanged`: the inputs are those of the previous step; nothing new to report.
 * - `kept-because-…`: the config in force stays, and the verdict's message says what is wrong,
 *   where, how to fix it and what is kept. Causes: the config is invalid (the ConfigMap's text, or
 *   any IPAddressPool or L2Advertisement, or a conflict between them), the ConfigMap lacks the
 *   `config` key, the key is empty (blank or comments only — a config without pools is written
 *   `address-pools: []`), the ConfigMap is deleted (and no IPAddressPool exists), or the config would
 *   take IPs away from Services (every Service and IP listed, under the same rule as the
 *   controller's `Allocator.setPools`).
 *
 * Both sources at once (see merge-sources.ts for the merge order and conflicts): they are merged
 * into one config, and the step is atomic: any problem in any object keeps the whole last good
 * config. Only objects in the ConfigMap's namespace count. Without a ConfigMap, the IPAddressPools
 * alone are the config (so a user migrates by creating the CRs, then deleting the ConfigMap: the
 * IPs Services hold are protected by the take-away rule); without either, nothing changes. A
 * ConfigMap that exists but lacks its key, is empty or is invalid keeps the config even with CRs.
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
 * state = decideConfig(state, { configMap: configMapInput(cm, "metallb-system", "config"), crds: { pools, advertisements } }, holders);
 * if (isKept(state.verdict)) log.error({ cause: state.verdict.cause, reason: state.verdict.message }, "...");
 * const pools = state.inForce?.pools ?? [];
 * for (const o of state.objects) writeReadyCondition(o);
 */
import { serviceKey } from "../service/service-key.ts";
import type { ConfigInForce, LbConfig } from "./config-types.ts";
import { ipsTakenAway, poolHolding, POOL_ANNOTATIONS } from "./ips-taken-away.ts";
import type { HeldIps, TakenIp } from "./ips-taken-away.ts";
import { mergeSources } from "./merge-sources.ts";
import type { LegacyPart } from "./merge-sources.ts";
import { ignoredReadiness, readinessOf, withIdentity } from "./object-readiness.ts";
import type { ConfigObject, Fault, ObjectReadiness } from "./object-readiness.ts";
import { parseConfig } from "./parse-config.ts";
import { canonicalJson, readIPAddressPool, readL2Advertisement } from "./parse-crds.ts";
import type { CustomResourceInput } from "./parse-crds.ts";

export type { ConfigInForce } from "./config-types.ts";
export type { HeldIps, TakenIp } from "./ips-taken-away.ts";
export type { ConfigObjectKind, ObjectReadiness, ReadinessReason } from "./object-readiness.ts";
export type { CustomResourceInput } from "./parse-crds.ts";

const CONFIG_KEY = "config";

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

/** MetalLB's custom resources, as informers' caches hold them. Build each with {@link customResourceInput}. */
export interface CustomResourceInputs {
  readonly pools: readonly CustomResourceInput[];
  readonly advertisements: readonly CustomResourceInput[];
}

/** Every source of address-pool config. */
export interface ConfigInputs {
  readonly configMap: ConfigMapInput;
  /**
   * The IPAddressPools and L2Advertisements, when they are watched; absent, they are not (the
   * ConfigMap alone, exactly as before the CRDs). Only those in the ConfigMap's namespace count.
   */
  readonly crds?: CustomResourceInputs;
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
  /**
   * The ConfigMap's parse errors and one `Kind namespace/name: problem` per object problem, or one
   * `service holds ip (reason)` per IP taken away; else empty.
   */
  readonly problems: readonly string[];
  /** For `kept-because-it-would-orphan`: every Service and IP; else empty. */
  readonly takenAway: readonly TakenIp[];
}

/** What one step decided. */
export type ConfigVerdict = { readonly kind: "loaded"; readonly message: string } | { readonly kind: "unchanged" } | KeptVerdict;

/** What the previous step saw, so the same inputs are not decided twice. */
export interface LatestInputs {
  /**
   * Identifies the inputs: `absent`, `key-missing` or `text:` and the config text; when CRs are
   * watched, with each in-namespace object's name and content (IPAddressPools' labels included).
   */
  readonly key: string;
  /** A config refused because it would take IPs away: re-checked on every step. */
  readonly refused: ConfigInForce | undefined;
}

export interface ConfigState {
  /** The config in force; undefined while none has ever loaded. */
  readonly inForce: ConfigInForce | undefined;
  /** What the latest step decided. */
  readonly verdict: ConfigVerdict;
  /** Why the latest inputs are not in force, carried across `unchanged` steps: the config is stale while set. */
  readonly refusal: KeptVerdict | undefined;
  /** The ConfigMap, with the uid last seen (kept after it is deleted, to name it in Events); undefined until first seen. */
  readonly configMap: ObjectRef | undefined;
  readonly latest: LatestInputs | undefined;
  /**
   * The readiness of every config object in the inputs: the ConfigMap when it exists, then the
   * IPAddressPools and L2Advertisements by name, then those outside the namespace (`WrongNamespace`).
   */
  readonly objects: readonly ObjectReadiness[];
}

/** The state before the first step: nothing in force, nothing seen. */
export const nothingLoaded: ConfigState = {
  inForce: undefined,
  verdict: { kind: "unchanged" },
  refusal: undefined,
  configMap: undefined,
  latest: undefined,
  objects: [],
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
  const configMap: ObjectRef | undefined =
    input.state === "present"
      ? { namespace: input.namespace, name: input.name, uid: input.uid }
      : previous.configMap && { namespace: input.namespace, name: input.name, uid: previous.configMap.uid };
  const scope = scopeOf(inputs);
  const key = keyOf(input, scope);
  if (previous.latest?.key === key) {
    const refused = previous.latest.refused;
    if (refused === undefined) {
      const objects = [...withIdentity(previous.objects, scope.objects, "not applied"), ...scope.ignored];
      return { ...previous, configMap, verdict: { kind: "unchanged" }, objects };
    }
    return tryLoad(previous, configMap, key, refused, scope, holders);
  }
  const evaluation = evaluate(previous, input, scope);
  if (!evaluation.ok) {
    const clause = keptClause(previous.inForce);
    const refusal = kept(evaluation.cause, `${evaluation.problem}; ${clause}`, evaluation.errors, []);
    const notApplied = notAppliedMessage(evaluation.faults, evaluation.blocker, clause);
    const objects = [...readinessOf(scope.objects, previous.inForce, evaluation.faults, notApplied), ...scope.ignored];
    return { inForce: previous.inForce, verdict: refusal, refusal, configMap, latest: { key, refused: undefined }, objects };
  }
  return tryLoad(previous, configMap, key, evaluation.candidate, scope, holders);
}

/**
 * Overrules a `loaded` step when the caller's own check refuses its pools (the controller's
 * allocator knows a holder that `holders` did not show yet, or a label a selector excludes): the
 * previous config stays in force and the refused config is retried on later steps, as if
 * `decideConfig` had refused it itself.
 *
 * @example
 * const applied = allocator.setPools(next.inForce!.pools);
 * if (!applied.ok) next = refuseLoad(previous, next, applied.blocked);
 */
export function refuseLoad(previous: ConfigState, loaded: ConfigState, takenAway: readonly TakenIp[]): ConfigState {
  if (loaded.verdict.kind !== "loaded" || loaded.inForce === undefined || loaded.latest === undefined || takenAway.length === 0) {
    throw new Error(`refuseLoad needs a "loaded" step and at least one IP taken away; got verdict "${loaded.verdict.kind}" and ${takenAway.length} IP(s)`);
  }
  const fingerprints = loaded.inForce.fingerprints;
  const scope: Scope = {
    watched: true,
    namespace: "",
    objects: loaded.objects
      .filter((o) => o.reason !== "WrongNamespace")
      .map((o) => {
        const source = `${o.kind} ${o.namespace}/${o.name}`;
        return { kind: o.kind, namespace: o.namespace, name: o.name, uid: o.uid, generation: o.generation, source, fingerprint: fingerprints[source] ?? "" };
      }),
    ignored: loaded.objects.filter((o) => o.reason === "WrongNamespace"),
    pools: [],
    advertisements: [],
  };
  return refuse(previous, loaded.configMap, loaded.latest.key, loaded.inForce, scope, takenAway);
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
 * The {@link CustomResourceInput} of an IPAddressPool or L2Advertisement as an informer returns it.
 *
 * @example
 * customResourceInput({ metadata: { name: "lan", namespace: "metallb-system", uid: "u", generation: 2 }, spec: { addresses: ["10.0.0.0/24"] } });
 * // { name: "lan", namespace: "metallb-system", uid: "u", generation: 2, labels: undefined, spec: { addresses: ["10.0.0.0/24"] } }
 */
export function customResourceInput(object: {
  readonly metadata?: {
    readonly name?: string;
    readonly namespace?: string;
    readonly uid?: string;
    readonly generation?: number;
    readonly labels?: Readonly<Record<string, string>> | null;
  } | null;
  readonly spec?: unknown;
}): CustomResourceInput {
  const m = object.metadata;
  return { name: m?.name ?? "", namespace: m?.namespace ?? "", uid: m?.uid, generation: m?.generation, labels: m?.labels ?? undefined, spec: object.spec };
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
  return { service: serviceKey(svc), ips, pool: named.length === 1 ? named[0] : undefined };
}

// ---- the inputs ------------------------------------------------------------------------------

/** The inputs that count, as config objects, and those outside the namespace. */
interface Scope {
  readonly watched: boolean;
  readonly namespace: string;
  /** The ConfigMap when present, then the IPAddressPools and L2Advertisements by name. */
  readonly objects: readonly ConfigObject[];
  readonly ignored: readonly ObjectReadiness[];
  readonly pools: readonly CustomResourceInput[];
  readonly advertisements: readonly CustomResourceInput[];
}

function scopeOf(inputs: ConfigInputs): Scope {
  const input = inputs.configMap;
  const namespace = input.namespace;
  const byName = (a: CustomResourceInput, b: CustomResourceInput) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  const pools = (inputs.crds?.pools ?? []).filter((o) => o.namespace === namespace).sort(byName);
  const advertisements = (inputs.crds?.advertisements ?? []).filter((o) => o.namespace === namespace).sort(byName);
  const object = (kind: ConfigObject["kind"], o: CustomResourceInput, fingerprint: string): ConfigObject => ({
    kind,
    namespace: o.namespace,
    name: o.name,
    uid: o.uid,
    generation: o.generation,
    source: `${kind} ${o.namespace}/${o.name}`,
    fingerprint,
  });
  const objects: ConfigObject[] = [
    ...(input.state === "present"
      ? [{ kind: "ConfigMap" as const, namespace, name: input.name, uid: input.uid, source: `ConfigMap ${namespace}/${input.name}`, fingerprint: configMapKey(input) }]
      : []),
    ...pools.map((o) => object("IPAddressPool", o, canonicalJson({ labels: o.labels ?? {}, spec: o.spec ?? null }))),
    ...advertisements.map((o) => object("L2Advertisement", o, canonicalJson({ spec: o.spec ?? null }))),
  ];
  const ignored = [
    ...(inputs.crds?.pools ?? []).filter((o) => o.namespace !== namespace).map((o) => ({ ...o, kind: "IPAddressPool" as const })),
    ...(inputs.crds?.advertisements ?? []).filter((o) => o.namespace !== namespace).map((o) => ({ ...o, kind: "L2Advertisement" as const })),
  ].map((o) => ignoredReadiness(o, namespace));
  return { watched: inputs.crds !== undefined, namespace, objects, ignored, pools, advertisements };
}

/** Today's ConfigMap key when CRs are not watched; with them, every in-namespace object's content too. */
function keyOf(input: ConfigMapInput, scope: Scope): string {
  if (!scope.watched) return configMapKey(input);
  return JSON.stringify([configMapKey(input), ...scope.objects.filter((o) => o.kind !== "ConfigMap").map((o) => `${o.source} ${o.fingerprint}`)]);
}

function configMapKey(input: ConfigMapInput): string {
  if (input.state === "absent") return "absent";
  const text = input.data?.[CONFIG_KEY];
  return text === undefined ? "key-missing" : `text:${text}`;
}

// ---- reading and merging the inputs ----------------------------------------------------------

type Evaluation =
  | { ok: true; candidate: ConfigInForce }
  | {
      ok: false;
      cause: KeptCause;
      problem: string;
      errors: readonly string[];
      faults: ReadonlyMap<string, readonly Fault[]>;
      /** Why objects without faults are not applied, when no object is at fault (no source at all). */
      blocker?: string;
    };

type Reading = { ok: true; config: LbConfig } | { ok: false; cause: KeptCause; problem: string; errors: readonly string[] };

function evaluate(previous: ConfigState, input: ConfigMapInput, scope: Scope): Evaluation {
  const cmSource = `ConfigMap ${input.namespace}/${input.name}`;
  // A missing ConfigMap is no problem when IPAddressPools exist: they are the config then.
  const cm = input.state === "absent" && scope.pools.length > 0 ? undefined : readConfigMap(input, cmSource, previous.configMap !== undefined, scope);
  const legacy: LegacyPart | undefined =
    cm === undefined || (!cm.ok && input.state === "absent") ? undefined : cm.ok ? { source: cmSource, config: cm.config } : { source: cmSource, unreadable: true };
  const inForce = new Set(scope.objects.filter((o) => previous.inForce?.fingerprints[o.source] === o.fingerprint).map((o) => o.source));
  const merged = mergeSources({ legacy, pools: scope.pools.map(readIPAddressPool), advertisements: scope.advertisements.map(readL2Advertisement), inForce });

  const faults = new Map<string, Fault[]>();
  const fault = (source: string, f: Fault) => faults.set(source, [...(faults.get(source) ?? []), f]);
  if (cm !== undefined && !cm.ok && input.state === "present") fault(cmSource, { reason: "InvalidSpec", message: cm.problem });
  for (const p of merged.problems) fault(p.source, { reason: p.reason, message: p.message });
  const grouped = [...new Set(merged.problems.map((p) => p.source))].map(
    (source) => `${source}: ${merged.problems.filter((p) => p.source === source).map((p) => p.message).join("; ")}`,
  );
  const errors = merged.problems.map((p) => `${p.source}: ${p.message}`);

  if (cm !== undefined && !cm.ok) {
    const blocker = input.state === "absent" ? cm.problem : undefined;
    return { ok: false, cause: cm.cause, problem: [cm.problem, ...grouped].join("; "), errors: [...cm.errors, ...errors], faults, blocker };
  }
  if (merged.problems.length > 0) return { ok: false, cause: "invalid", problem: grouped.join("; "), errors, faults };
  const fingerprints = Object.fromEntries(scope.objects.map((o) => [o.source, o.fingerprint]));
  return { ok: true, candidate: { ...merged.config, source: describeSources(legacy !== undefined ? cmSource : undefined, scope), fingerprints } };
}

function readConfigMap(input: ConfigMapInput, source: string, seenBefore: boolean, scope: Scope): Reading {
  if (input.state === "absent") {
    const cr = `an IPAddressPool and an L2Advertisement in ${input.namespace}`;
    let problem: string;
    if (!scope.watched) {
      problem = seenBefore
        ? `${source} was deleted; recreate it with the address-pools YAML under data.${CONFIG_KEY}`
        : `${source} does not exist; create it with the address-pools YAML under data.${CONFIG_KEY} (example: manifests/examples/config.yaml)`;
    } else {
      problem = seenBefore
        ? `${source} was deleted and no IPAddressPool exists in ${input.namespace}; create ${cr}, or recreate the ConfigMap with the address-pools YAML under data.${CONFIG_KEY}`
        : `no IPAddressPool exists in ${input.namespace} and ${source} does not exist; create ${cr}, or the ConfigMap with the address-pools YAML under data.${CONFIG_KEY} (example: manifests/examples/config.yaml)`;
    }
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
  const parsed = parseConfig(text, source);
  if (!parsed.ok) return { ok: false, cause: "invalid", problem: `${source}, key "${CONFIG_KEY}": ${parsed.errors.join("; ")}`, errors: parsed.errors };
  return { ok: true, config: parsed.config };
}

/** `ConfigMap metallb-system/config`, `ConfigMap metallb-system/config + 2 IPAddressPools, 1 L2Advertisement`, or `2 IPAddressPools, 0 L2Advertisements in metallb-system`. */
function describeSources(configMap: string | undefined, scope: Scope): string {
  const count = (n: number, kind: string) => `${n} ${kind}${n === 1 ? "" : "s"}`;
  const crs = scope.pools.length + scope.advertisements.length > 0 ? `${count(scope.pools.length, "IPAddressPool")}, ${count(scope.advertisements.length, "L2Advertisement")}` : "";
  if (configMap === undefined) return `${crs} in ${scope.namespace}`;
  return crs === "" ? configMap : `${configMap} + ${crs}`;
}

// ---- deciding --------------------------------------------------------------------------------

function tryLoad(previous: ConfigState, configMap: ObjectRef | undefined, key: string, candidate: ConfigInForce, scope: Scope, holders: readonly HeldIps[]): ConfigState {
  const takenAway = previous.inForce ? ipsTakenAway(previous.inForce.pools, candidate.pools, holders) : [];
  if (takenAway.length > 0) return refuse(previous, configMap, key, candidate, scope, takenAway);
  const wasRefusedForHolders = previous.refusal?.cause === "would-orphan-ips" && previous.latest?.key === key;
  const fromCrs = scope.objects.some((o) => o.kind !== "ConfigMap");
  const summary = `${candidate.pools.length} pool(s) (${candidate.pools.map((p) => p.name).join(", ") || "none"})${fromCrs ? ` from ${candidate.source}` : ""}`;
  const message = wasRefusedForHolders ? `Config applied now that no Service holds an IP it removes: ${summary}` : `Config loaded: ${summary}`;
  return {
    inForce: candidate,
    verdict: { kind: "loaded", message },
    refusal: undefined,
    configMap,
    latest: { key, refused: undefined },
    objects: [...readinessOf(scope.objects, candidate, new Map(), "not applied"), ...scope.ignored],
  };
}

function refuse(
  previous: ConfigState,
  configMap: ObjectRef | undefined,
  key: string,
  candidate: ConfigInForce,
  scope: Scope,
  takenAway: readonly TakenIp[],
): ConfigState {
  const latest = { key, refused: candidate };
  const standing = previous.refusal;
  if (standing?.cause === "would-orphan-ips" && previous.latest?.key === key && sameTaken(standing.takenAway, takenAway)) {
    return { ...previous, configMap, verdict: { kind: "unchanged" }, latest, objects: [...withIdentity(previous.objects, scope.objects, "not applied"), ...scope.ignored] };
  }
  const clause = keptClause(previous.inForce);
  const problems = takenAway.map((t) => `${t.service} holds ${t.ip} (${t.reason})`);
  const message =
    `${candidate.source}: the new config would take IPs away from Services: ${problems.join("; ")}. ` +
    `Delete those Services or give them other IPs first; the new config is applied as soon as they are gone; ${clause}`;
  const refusal = kept("would-orphan-ips", message, problems, takenAway);
  const objects = readinessOf(scope.objects, previous.inForce, takersOf(previous.inForce, candidate, scope.objects, takenAway, clause), `not applied: ${message}`);
  return { inForce: previous.inForce, verdict: refusal, refusal, configMap, latest, objects: [...objects, ...scope.ignored] };
}

/**
 * The objects whose change takes each IP away, among those whose content changed: the pool object
 * that holds the IP in the config in force, the one that would hold it in the new config, and the
 * new config's pool of the same name as the holding one (its replacement, e.g. an IPAddressPool
 * replacing a ConfigMap pool).
 */
function takersOf(
  inForce: ConfigInForce | undefined,
  candidate: ConfigInForce,
  objects: readonly ConfigObject[],
  takenAway: readonly TakenIp[],
  clause: string,
): Map<string, Fault[]> {
  const changed = new Set(objects.filter((o) => inForce?.fingerprints[o.source] !== o.fingerprint).map((o) => o.source));
  const byObject = new Map<string, string[]>();
  for (const t of takenAway) {
    const holding = poolHolding(inForce?.pools ?? [], t.ip);
    const replacement = holding && candidate.pools.find((p) => p.name === holding.name);
    const sources = new Set([holding?.source, poolHolding(candidate.pools, t.ip)?.source, replacement?.source]);
    for (const source of sources) {
      if (source === undefined || !changed.has(source)) continue;
      byObject.set(source, [...(byObject.get(source) ?? []), `${t.service} holds ${t.ip} (${t.reason})`]);
    }
  }
  const faults = new Map<string, Fault[]>();
  for (const [source, held] of byObject) {
    const keep = source.startsWith("IPAddressPool ") ? "keep those addresses in spec.addresses" : "keep those addresses in their pool";
    faults.set(source, [
      {
        reason: "WouldTakeIPs",
        message:
          `this change would take IPs away from Services: ${held.join("; ")}. ` +
          `Delete those Services or give them other IPs first, or ${keep}; the change is applied as soon as they are gone; ${clause}`,
      },
    ]);
  }
  return faults;
}

/**
 * The message of an object that is fine but not in force: the objects at fault and their reasons,
 * or, when none is (no ConfigMap and no IPAddressPool), what is missing.
 */
function notAppliedMessage(faults: ReadonlyMap<string, readonly Fault[]>, blocker: string | undefined, clause: string): string {
  if (blocker !== undefined) return `not applied: ${blocker}; ${clause}`;
  const named = [...faults].map(([source, f]) => `${source} (${[...new Set(f.map((x) => x.reason))].join(", ")})`);
  return `not applied because other config objects have problems: ${named.join(", ")}; fix them; ${clause}`;
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
