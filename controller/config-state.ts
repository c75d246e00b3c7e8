/**
 * The controller's config handling as a pure state machine: {@link stepConfigState} takes the state
 * and one event and returns the next state and the effects, as data, that the controller applies
 * (learn these Services' IPs, reconcile these keys, record this Kubernetes Event, set this gauge).
 * No client, queue, logger or clock in here.
 *
 * Which config is in force is decided by shared/config/config-source.ts (the speakers run the same
 * rule); this module keeps what the controller does around it. Availability comes first: a config
 * that is invalid, emptied, deleted or would take a held IP away is kept out of force, the last good
 * one stays, and nothing here ever takes an IP away.
 *
 * - The first loaded config learns every IP the Services show, once (`learned`); later loads learn
 *   only the orphans again, since a new config may cover them.
 * - An orphan is a Service showing IPs no pool in force covers: it is left untouched, and the config
 *   is stale while one remains, until it is deleted or shows other IPs.
 * - A Service waiting for an IP is `pending`, with its creation time in milliseconds: when IPs are
 *   freed, the waiting Services are retried oldest first ({@link oldestFirst}).
 * - When IPs are freed, a config refused because Services held its IPs is tried again.
 *
 * @example
 * let state = initialConfigState({ namespace: "metallb-system", name: "config" });
 * const { state: next, effects } = stepConfigState(state, { kind: "config-decided", config, crsExist: false });
 * // effects: [{ kind: "write-status" }, { kind: "gauge", gauge: "configLoaded", value: 1 }, { kind: "learn", services: "all" }]
 */
import { isKept, nothingLoaded, type ConfigState } from "../shared/config/config-source.ts";
import { poolHolding } from "../shared/config/ips-taken-away.ts";
import { configEventTarget, keptReports } from "./config-reports.ts";
import { oldestFirst } from "./oldest-first.ts";
import { SortedMap } from "./sorted-map.ts";
import { announcesEveryIp } from "./unannounced.ts";
import type { ConfigEffect, ConfigMapRef, ConfigStateEvent, ConfigStep, ControllerConfigState, LearnedAssignment } from "./config-state-types.ts";

export type { ConfigEffect, ConfigMapRef, ConfigStateEvent, ConfigStep, ControllerConfigState, LearnedAssignment } from "./config-state-types.ts";

/**
 * Nothing loaded, learned or waiting.
 *
 * @example initialConfigState({ namespace: "metallb-system", name: "config" }).learned; // false
 */
export function initialConfigState(configMap: ConfigMapRef): ControllerConfigState {
  return { config: nothingLoaded, configMap, learned: false, orphans: new SortedMap(), pending: new SortedMap(), uids: new Map(), announcesAll: false };
}

/**
 * One step.
 *
 * @example
 * stepConfigState(state, { kind: "service-waiting", service: "shop/web", createdAt: 1714564618000 }).effects;
 * // [{ kind: "gauge", gauge: "pendingServices", value: 1 }]
 */
export function stepConfigState(state: ControllerConfigState, event: ConfigStateEvent): ConfigStep {
  switch (event.kind) {
    case "config-decided":
      return configDecided(state, event.config, event.crsExist);
    case "assignments-learned":
      return assignmentsLearned(state, event.assignments, event.crsExist);
    case "service-waiting":
      if (state.pending.get(event.service) === event.createdAt) return { state, effects: [] };
      return withPending(state, state.pending.with(event.service, event.createdAt, true));
    case "service-allocated":
      return state.pending.has(event.service) ? withPending(state, state.pending.without(event.service)) : { state, effects: [] };
    case "service-gone": {
      const waited = state.pending.has(event.service) ? withPending(state, state.pending.without(event.service)) : { state, effects: [] };
      if (!state.orphans.has(event.service)) return waited;
      const released = afterRelease({ ...waited.state, orphans: state.orphans.without(event.service) }, []);
      return { state: released.state, effects: [...waited.effects, ...released.effects] };
    }
    case "orphan-changed":
      return state.orphans.has(event.service) ? afterRelease({ ...state, orphans: state.orphans.without(event.service) }, []) : { state, effects: [] };
    case "ips-freed":
      return afterRelease(state, event.ips);
    case "namespaces-changed":
      return { state, effects: state.learned ? reconcilePending(state) : [] };
  }
}

/**
 * The Services waiting for an IP, oldest first.
 *
 * @example pendingOldestFirst(state); // ["default/first", "default/second"]
 */
export function pendingOldestFirst(state: ControllerConfigState): string[] {
  return [...state.pending.entries()]
    .map(([service, createdAt]) => ({ service, createdAt }))
    .sort(oldestFirst)
    .map((s) => s.service);
}

/**
 * Whether the Service is an orphan still showing the IPs no pool covered: the controller leaves it alone.
 *
 * @example leavesOrphanUntouched(state, "default/old", ["192.168.126.40"]); // true
 */
export function leavesOrphanUntouched(state: ControllerConfigState, service: string, shows: readonly string[]): boolean {
  const ips = state.orphans.get(service);
  return ips !== undefined && ips.length === shows.length && ips.every((ip, i) => ip === shows[i]);
}

/** The config is stale while the latest one is refused or a Service holds IPs no pool covers. */
export function isStale(state: ControllerConfigState): boolean {
  return state.config.refusal !== undefined || state.orphans.size > 0;
}

function configDecided(state: ControllerConfigState, config: ConfigState, crsExist: boolean): ConfigStep {
  const inForce = config.inForce;
  const announcesAll = inForce === state.config.inForce ? state.announcesAll : inForce !== undefined && announcesEveryIp(inForce);
  const next: ControllerConfigState = { ...state, config, uids: withUids(state.uids, config), announcesAll };
  const verdict = config.verdict;
  const effects: ConfigEffect[] = [{ kind: "write-status" }];
  if (verdict.kind === "unchanged") return { state: next, effects };
  if (isKept(verdict)) return { state: next, effects: [...effects, ...keptReports(next, verdict, crsExist)] };
  // Learn before anything can await: no Service may be reconciled against an allocator that does
  // not yet know the IPs Services already show. Later configs may cover orphans' IPs again.
  effects.push({ kind: "gauge", gauge: "configLoaded", value: 1 }, { kind: "learn", services: state.learned ? [...state.orphans.keys()] : "all" });
  return { state: next, effects };
}

function assignmentsLearned(state: ControllerConfigState, assignments: readonly LearnedAssignment[], crsExist: boolean): ConfigStep {
  const { verdict, inForce } = state.config;
  if (verdict.kind !== "loaded" || inForce === undefined) {
    throw new Error(`assignments-learned completes a loaded config; the config state's verdict is "${verdict.kind}"`);
  }
  let orphans = state.orphans;
  const effects: ConfigEffect[] = [];
  for (const { service, ips, refused } of assignments) {
    if (orphans.has(service)) orphans = orphans.without(service);
    if (refused === undefined) continue;
    const fields = { service, ips, reason: refused };
    if (ips.some((ip) => poolHolding(inForce.pools, ip) !== undefined)) {
      effects.push({ kind: "log", level: "warn", msg: "existing assignment not valid; will reassign", fields });
      continue;
    }
    // The config changed while no controller ran: keep the Service's IPs, report the config stale.
    orphans = orphans.with(service, ips, true);
    effects.push({ kind: "log", level: "error", msg: "service holds IPs that no pool covers; leaving it untouched", fields });
  }
  const next: ControllerConfigState = { ...state, orphans, learned: true };
  effects.push(
    { kind: "gauge", gauge: "configStale", value: isStale(next) ? 1 : 0 },
    { kind: "write-status" },
    { kind: "log", level: "info", msg: "config loaded", fields: { pools: inForce.pools.map((p) => p.name), source: inForce.source } },
  );
  if (next.config.configMap !== undefined || !crsExist) {
    effects.push({ kind: "record-event", target: configEventTarget(next), type: "Normal", reason: "ConfigLoaded", message: verdict.message });
  }
  // New pools may satisfy Services that were waiting, or change what others should hold.
  effects.push({ kind: "reconcile", services: "all" });
  return { state: next, effects };
}

/** After IPs were freed (or an orphan let go): retry a config refused for its holders, then the waiting Services oldest first. */
function afterRelease(state: ControllerConfigState, freed: readonly string[]): ConfigStep {
  const effects: ConfigEffect[] = [{ kind: "write-status" }, { kind: "gauge", gauge: "configStale", value: isStale(state) ? 1 : 0 }];
  const refusedForHolders = state.config.refusal?.cause === "would-orphan-ips";
  if (refusedForHolders) effects.push({ kind: "reconcile-config" });
  if (freed.length > 0 || refusedForHolders) effects.push(...reconcilePending(state));
  return { state, effects };
}

function reconcilePending(state: ControllerConfigState): ConfigEffect[] {
  return state.pending.size > 0 ? [{ kind: "reconcile", services: pendingOldestFirst(state) }] : [];
}

function withPending(state: ControllerConfigState, pending: SortedMap<string, number>): ConfigStep {
  return { state: { ...state, pending }, effects: [{ kind: "gauge", gauge: "pendingServices", value: pending.size }] };
}

function withUids(uids: ReadonlyMap<string, string>, config: ConfigState): ReadonlyMap<string, string> {
  const seen = config.objects.filter((o) => o.uid !== undefined && uids.get(`${o.kind} ${o.namespace}/${o.name}`) !== o.uid);
  if (seen.length === 0) return uids;
  const next = new Map(uids);
  for (const o of seen) next.set(`${o.kind} ${o.namespace}/${o.name}`, o.uid!);
  return next;
}
