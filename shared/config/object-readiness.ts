/**
 * Per-object readiness: for each IPAddressPool, L2Advertisement and the ConfigMap, whether its
 * current content is in force, and if not, why, in words for its `Ready` condition, a Warning
 * Event and a metric. Pure.
 *
 * - `Accepted` (ready): no problem, and its current content is what is in force.
 * - `InvalidSpec`, `DuplicatePoolName`, `OverlappingPools`, `PoolNotFound`: the object is at fault.
 * - `WouldTakeIPs`: its change would take IPs away from Services that hold them.
 * - `NotApplied`: fine itself, but not in force because other objects are wrong or the change waits.
 * - `WrongNamespace`: outside the namespace baremetal-lb reads (as MetalLB, only its own); ignored.
 */
import type { Advertisement, ConfigInForce, Pool } from "./config-types.ts";
import { selectsPool } from "./advertisements-for.ts";
import { formatSelector } from "./label-selector.ts";
import type { ProblemReason } from "./merge-sources.ts";

/** The kinds of config object. */
export type ConfigObjectKind = "IPAddressPool" | "L2Advertisement" | "ConfigMap";

/** The `reason` of an object's `Ready` condition. */
export type ReadinessReason = "Accepted" | ProblemReason | "WouldTakeIPs" | "NotApplied" | "WrongNamespace";

/** What the config source decided about one object, for its `Ready` condition. */
export interface ObjectReadiness {
  readonly kind: ConfigObjectKind;
  readonly namespace: string;
  readonly name: string;
  readonly uid?: string;
  readonly generation?: number;
  readonly ready: boolean;
  readonly reason: ReadinessReason;
  /** What is wrong, where (field path) and how to fix it; or what of it is in force. */
  readonly message: string;
}

/** One config object of the inputs: who it is and a fingerprint of the content that matters. */
export interface ConfigObject {
  readonly kind: ConfigObjectKind;
  readonly namespace: string;
  readonly name: string;
  readonly uid?: string;
  readonly generation?: number;
  /** `Kind namespace/name`: its key, and how messages name it. */
  readonly source: string;
  readonly fingerprint: string;
}

/** A problem laid on one object. */
export interface Fault {
  readonly reason: Exclude<ReadinessReason, "Accepted" | "NotApplied" | "WrongNamespace">;
  readonly message: string;
}

/** When an object has faults of several kinds, the first of these is its reason. */
const PRECEDENCE: readonly Fault["reason"][] = ["InvalidSpec", "DuplicatePoolName", "OverlappingPools", "PoolNotFound", "WouldTakeIPs"];

/**
 * The readiness of every object: its faults, else `Accepted` when its content is in force, else
 * `NotApplied` with `notApplied` as the message.
 *
 * @example
 * readinessOf([pool], inForce, new Map(), "not applied: …");
 * // [{ kind: "IPAddressPool", namespace: "metallb-system", name: "lan", ready: true, reason: "Accepted", message: "in force: 192.168.10.0/24 (autoAssign)" }]
 */
export function readinessOf(
  objects: readonly ConfigObject[],
  inForce: ConfigInForce | undefined,
  faults: ReadonlyMap<string, readonly Fault[]>,
  notApplied: string,
): ObjectReadiness[] {
  return objects.map((object) => {
    const own = faults.get(object.source) ?? [];
    if (own.length > 0) {
      const reason = PRECEDENCE.find((r) => own.some((f) => f.reason === r))!;
      return readiness(object, false, reason, own.map((f) => f.message).join("; "));
    }
    if (inForce !== undefined && inForce.fingerprints[object.source] === object.fingerprint) {
      return readiness(object, true, "Accepted", acceptedMessage(object, inForce));
    }
    return readiness(object, false, "NotApplied", notApplied);
  });
}

/**
 * The readiness of an object outside the namespace that is read.
 *
 * @example ignoredReadiness({ kind: "IPAddressPool", namespace: "default", name: "x" }, "metallb-system").reason; // "WrongNamespace"
 */
export function ignoredReadiness(object: Omit<ConfigObject, "source" | "fingerprint">, namespace: string): ObjectReadiness {
  return readiness(
    object,
    false,
    "WrongNamespace",
    `ignored: only ${object.kind}s in namespace ${namespace} are read (the namespace baremetal-lb runs in, as MetalLB reads only its own); create it in ${namespace}`,
  );
}

/**
 * Copies readiness to the current identity of the same objects (a new uid or generation alone is
 * no change of content).
 *
 * @example withIdentity(previous.objects, objects);
 */
export function withIdentity(previous: readonly ObjectReadiness[], objects: readonly ConfigObject[], notApplied: string): ObjectReadiness[] {
  const byKey = new Map(previous.map((r) => [`${r.kind} ${r.namespace}/${r.name}`, r]));
  return objects.map((object) => {
    const known = byKey.get(object.source);
    const base = known ?? readiness(object, false, "NotApplied", notApplied);
    const { uid: _uid, generation: _generation, ...rest } = base;
    return { ...rest, ...identity(object) };
  });
}

function acceptedMessage(object: ConfigObject, inForce: ConfigInForce): string {
  if (object.kind === "ConfigMap") {
    const names = inForce.pools.filter((p) => p.source === object.source).map((p) => p.name);
    return `in force: ${names.length > 0 ? `pools ${names.join(", ")}` : "no pools"}`;
  }
  if (object.kind === "IPAddressPool") {
    const pool = inForce.pools.find((p) => p.source === object.source);
    return pool ? poolMessage(pool, inForce.advertisements) : "in force";
  }
  const advertisement = inForce.advertisements.find((a) => a.source === object.source);
  return advertisement ? advertisementMessage(advertisement, inForce.pools) : "in force";
}

function poolMessage(pool: Pool, advertisements: readonly Advertisement[]): string {
  const allocation = pool.serviceAllocation;
  const flags = [
    pool.autoAssign ? "autoAssign" : "autoAssign: false",
    ...(pool.avoidBuggyIps ? ["avoidBuggyIPs"] : []),
    ...(allocation?.priority !== undefined ? [`priority ${allocation.priority}`] : []),
    ...(pool.namespaces ? [`namespaces ${pool.namespaces.join(", ")}`] : []),
    ...(allocation?.namespaceSelectors ? [`namespaces matching ${allocation.namespaceSelectors.map(formatSelector).join(" or ")}`] : []),
    ...(allocation?.serviceSelectors ? [`Services matching ${allocation.serviceSelectors.map(formatSelector).join(" or ")}`] : []),
  ];
  const message = `in force: ${pool.ranges.map((r) => r.text).join(", ")} (${flags.join(", ")})`;
  if (advertisements.some((a) => selectsPool(a, pool))) return message;
  return `${message}; not announced: no L2Advertisement selects pool "${pool.name}", so its IPs are assigned but unreachable; create an L2Advertisement that names it in spec.ipAddressPools`;
}

function advertisementMessage(advertisement: Advertisement, pools: readonly Pool[]): string {
  const covered = pools.filter((p) => selectsPool(advertisement, p)).map((p) => p.name);
  const what = covered.length > 0 ? `pools ${covered.join(", ")}` : "no pool (its ipAddressPoolSelectors match no IPAddressPool's labels)";
  const nodes = advertisement.nodeSelectors.length > 0 ? `nodes matching ${advertisement.nodeSelectors.map(formatSelector).join(" or ")}` : "every node";
  const interfaces = advertisement.interfaces.length > 0 ? `interfaces ${advertisement.interfaces.join(", ")}` : "every interface";
  const preferring = advertisement.preferredNodeSelectors.map((p) => `${formatSelector(p.preference)} (weight ${p.weight})`);
  const services = advertisement.serviceSelectors.map(formatSelector);
  return (
    `in force: announces ${what} from ${nodes} on ${interfaces}` +
    (preferring.length > 0 ? `, preferring nodes matching ${preferring.join(", ")}` : "") +
    (services.length > 0 ? `, for Services matching ${services.join(" or ")}` : "")
  );
}

function readiness(object: Omit<ConfigObject, "source" | "fingerprint">, ready: boolean, reason: ReadinessReason, message: string): ObjectReadiness {
  return { kind: object.kind, namespace: object.namespace, name: object.name, ...identity(object), ready, reason, message };
}

function identity(object: { readonly uid?: string; readonly generation?: number }): { uid?: string; generation?: number } {
  return { ...(object.uid !== undefined ? { uid: object.uid } : {}), ...(object.generation !== undefined ? { generation: object.generation } : {}) };
}
