/**
 * The values of the controller's config state machine (config-state.ts): its state, the events it takes and the
 * effects it asks for. Types only, so config-reports.ts builds effects without importing the machine.
 */
import type { ConfigState, KeptCause } from "../shared/config/config-source.ts";
import type { EventRequest } from "../shared/kube/event-correlator.ts";
import type { SortedMap } from "./sorted-map.ts";

/** A ConfigMap's namespace and name. */
export interface ConfigMapRef {
  readonly namespace: string;
  readonly name: string;
}

/** Everything the controller keeps about its config. Never mutated: each step returns a new one (the trees share structure). */
export interface ControllerConfigState {
  /** The config in force and why the latest one is not, if it is not. */
  readonly config: ConfigState;
  /** The ConfigMap the controller watches, which config-wide Events name until it has been seen. */
  readonly configMap: ConfigMapRef;
  /** The IPs Services show were learned; Services are reconciled only after that. */
  readonly learned: boolean;
  /** Services that show IPs no pool in force covers, with those IPs; left untouched. */
  readonly orphans: SortedMap<string, readonly string[]>;
  /** Services waiting for an IP, with their creation time (milliseconds since the epoch). */
  readonly pending: SortedMap<string, number>;
  /** The uid last seen of each config object (`IPAddressPool ns/name`), to name a deleted one in Events. */
  readonly uids: ReadonlyMap<string, string>;
  /** Whether the config in force announces every IP it assigns (then no Service needs checking). */
  readonly announcesAll: boolean;
}

/** One IP-holding Service as learning found it: `refused` is the allocator's reason when it would not take the IPs. */
export interface LearnedAssignment {
  readonly service: string;
  readonly ips: readonly string[];
  readonly refused?: string;
}

/** What happened (not a Kubernetes Event). */
export type ConfigStateEvent =
  /** config-source.ts decided a step; `crsExist` when any IPAddressPool or L2Advertisement is in the cache. */
  | { readonly kind: "config-decided"; readonly config: ConfigState; readonly crsExist: boolean }
  /** The controller learned what a `learn` effect asked for, oldest Service first; this completes the load. */
  | { readonly kind: "assignments-learned"; readonly assignments: readonly LearnedAssignment[]; readonly crsExist: boolean }
  | { readonly kind: "service-waiting"; readonly service: string; readonly createdAt: number }
  | { readonly kind: "service-allocated"; readonly service: string }
  /** Deleted, or no longer a LoadBalancer Service of ours. */
  | { readonly kind: "service-gone"; readonly service: string }
  /** An orphan shows other IPs than those no pool covered: it is reconciled like any Service again. */
  | { readonly kind: "orphan-changed"; readonly service: string }
  | { readonly kind: "ips-freed"; readonly ips: readonly string[] }
  /** Namespace labels changed: a pool's namespaceSelectors may admit a waiting Service now. */
  | { readonly kind: "namespaces-changed" };

/** What the controller does for a step, in order. */
export type ConfigEffect =
  /** Record the IPs these Services show ("all": every Service in the cache), oldest first, then feed `assignments-learned`. */
  | { readonly kind: "learn"; readonly services: "all" | readonly string[] }
  | { readonly kind: "reconcile-config" }
  /** Queue these Services, in this order ("all": every Service in the cache). */
  | { readonly kind: "reconcile"; readonly services: "all" | readonly string[] }
  /** The IPAddressPool and L2Advertisement statuses are due (Ready conditions, usage counts). */
  | { readonly kind: "write-status" }
  | { readonly kind: "gauge"; readonly gauge: "configLoaded" | "configStale" | "pendingServices"; readonly value: number }
  | { readonly kind: "count-rejection"; readonly cause: KeptCause }
  | { readonly kind: "log"; readonly level: "info" | "warn" | "error"; readonly msg: string; readonly fields: Readonly<Record<string, unknown>> }
  | ({ readonly kind: "record-event" } & EventRequest);

export interface ConfigStep {
  readonly state: ControllerConfigState;
  readonly effects: readonly ConfigEffect[];
}
