/**
 * What the controller says when a config is kept out of force: the stale gauge, a count per cause,
 * an error line, a Warning Event on the ConfigMap, and one on each deleted IPAddressPool that stays
 * in force because Services hold its IPs. As effects, for config-state.ts. Pure.
 */
import type { KeptVerdict } from "../shared/config/config-source.ts";
import { poolHolding } from "../shared/config/ips-taken-away.ts";
import { ipAddressPools } from "../shared/kube/client/resource-types.ts";
import type { EventTarget } from "../shared/kube/event-correlator.ts";
import type { ConfigEffect, ControllerConfigState } from "./config-state-types.ts";

/**
 * The effects of a kept verdict, `state` being the state after it.
 *
 * @example
 * keptReports(state, verdict, false).map((e) => e.kind);
 * // ["gauge", "count-rejection", "log", "record-event"]
 */
export function keptReports(state: ControllerConfigState, verdict: KeptVerdict, crsExist: boolean): ConfigEffect[] {
  const effects: ConfigEffect[] = [
    { kind: "gauge", gauge: "configStale", value: 1 },
    { kind: "count-rejection", cause: verdict.cause },
    {
      kind: "log",
      level: "error",
      msg: "config (re)load failed, config marked stale",
      fields: { cause: verdict.cause, verdict: verdict.kind, reason: verdict.message, errors: verdict.problems, inForce: state.config.inForce?.source ?? null },
    },
  ];
  // With CRs only, each offending object gets its own Warning and Ready=False (config-status-sync.ts).
  if (state.config.configMap !== undefined || !crsExist) {
    effects.push({ kind: "record-event", target: configEventTarget(state), type: "Warning", reason: "InvalidConfig", message: verdict.message });
  }
  return [...effects, ...deletedPoolsKept(state, verdict)];
}

/**
 * The ConfigMap as last seen, with its uid, so a deleted one is still named in `kubectl get events`.
 *
 * @example configEventTarget(state); // { kind: "ConfigMap", apiVersion: "v1", name: "config", namespace: "metallb-system", uid: "…" }
 */
export function configEventTarget(state: ControllerConfigState): EventTarget {
  const ref = state.config.configMap ?? state.configMap;
  return { kind: "ConfigMap", apiVersion: "v1", name: ref.name, namespace: ref.namespace, uid: state.config.configMap?.uid };
}

/**
 * A deleted IPAddressPool whose IPs Services hold stays in force, and has no status left to say
 * so: a Warning Event on it (by its last uid, as `kubectl get events` lists deleted objects too).
 */
function deletedPoolsKept(state: ControllerConfigState, verdict: KeptVerdict): ConfigEffect[] {
  const inForce = state.config.inForce;
  if (verdict.cause !== "would-orphan-ips" || inForce === undefined) return [];
  const present = new Set(state.config.objects.map((o) => `${o.kind} ${o.namespace}/${o.name}`));
  const held = new Map<string, string[]>();
  for (const taken of verdict.takenAway) {
    const source = poolHolding(inForce.pools, taken.ip)?.source;
    if (source === undefined || !source.startsWith("IPAddressPool ") || present.has(source)) continue;
    held.set(source, [...(held.get(source) ?? []), `${taken.service} holds ${taken.ip}`]);
  }
  return [...held].map(([source, holders]) => {
    const [namespace, name] = source.slice("IPAddressPool ".length).split("/");
    const target: EventTarget = { kind: "IPAddressPool", apiVersion: ipAddressPools.apiVersion, name, namespace, uid: state.uids.get(source) };
    const message =
      `${source} was deleted but stays in force while Services hold its IPs: ${holders.join("; ")}; ` +
      `delete those Services or give them other IPs, and the deletion applies as soon as they are gone`;
    return { kind: "record-event", target, type: "Warning", reason: "WouldTakeIPs", message };
  });
}
