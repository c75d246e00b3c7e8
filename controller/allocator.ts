/**
 * The IP allocator: a pure, deterministic, in-memory state machine in the spirit of MetalLB's.
 * It knows pools, which Service holds which IPs, and the sharing rules; it does no I/O.
 *
 * How a reconciler uses it:
 * 1. `setPools(config.pools)` whenever the config parses; if it returns `blocked`, keep the old
 *    config, report the list, and retry the same pools after the blocking Services are gone.
 * 2. On start, `assign(service, status IPs, request)` for every Service that has IPs in its status,
 *    before any `allocate`, so nothing that is still valid moves.
 * 3. Per Service: `allocate(service, request)`. It is idempotent: a Service whose IPs still satisfy
 *    its request gets them back. On failure nothing changes, including any previous assignment.
 * 4. When a Service is deleted or stops being ours: `unassign(service)`; retry pending Services
 *    (oldest first) when it freed addresses.
 *
 * Which pool a Service gets (pool-choice.ts has the details and MetalLB's sources):
 * - A requested IP (`loadBalancerIPs`, `spec.loadBalancerIP`) or pool (`address-pool`) is used
 *   whatever the pool's auto-assign, but only if the pool's `serviceAllocation` admits the Service;
 *   otherwise the Service stays pending with the reason, as in MetalLB.
 * - Otherwise the auto-assign pools that admit it (namespaces ∪ namespaceSelectors, AND
 *   serviceSelectors) are tried by priority (lower first), then those with a serviceAllocation but
 *   no priority, then those without one; config order breaks ties. The first that can serve wins.
 *
 * Holding validity (availability first): an IP a Service holds stays valid when labels change.
 * Relabelling a Namespace or a Service never renumbers it, and `serviceSelectors`,
 * `namespaceSelectors` and `priority` only steer the choice for a Service without a valid IP.
 * Only a pool's `namespaces` list (when the pool has no `namespaceSelectors`) makes a held IP
 * invalid, as before: names do not change, so only a new config can do that, and `setPools`
 * refuses such a config. MetalLB differs: it re-checks `isPoolCompatibleWithService` on every
 * sync and moves a Service that no longer matches to a new IP.
 *
 * Allocation and release cost O(log n) in the number of assigned addresses (pools are never
 * enumerated). With a sharing key, addresses already shared under that key are tried first, which
 * adds one step per such address that turns out incompatible.
 */
import { addressPoolAnnotation as POOL_ANNOTATION } from "../shared/service/metallb-annotations.ts";
import type { Pool } from "../shared/config/config-types.ts";
import { familyName, formatIp, parseIp } from "../shared/ip/address.ts";
import type { IpAddress, IpFamily } from "../shared/ip/address.ts";
import type { AllocationRequest } from "./allocation-request.ts";
import { describeFamilies, requestedIpsProblem, wantedFamilies } from "./ip-families.ts";
import { admissionRefusal, inPreferenceOrder } from "./pool-choice.ts";
import { PoolState } from "./pool-state.ts";
import { sharingConflict } from "./sharing.ts";
import { SortedMap } from "./sorted-map.ts";

const compareBigints = (a: bigint, b: bigint): number => (a < b ? -1 : a > b ? 1 : 0);
const METRIC_CAP = 2n ** 63n;
/** Per-family counts are for the IPAddressPool status (int64 in JSON), so they stay exact JS integers. */
const STATUS_CAP = BigInt(Number.MAX_SAFE_INTEGER);

/** Result of {@link Allocator.allocate}: IPs in canonical text, primary family first, and their pool. */
export type AllocateResult = { ok: true; ips: string[]; pool: string } | { ok: false; reason: string };

/** Result of {@link Allocator.assign}. */
export type AssignResult = { ok: true; pool: string } | { ok: false; reason: string };

/** A Service and IP that keep a new config from being applied, and why. */
export interface BlockedAssignment {
  readonly service: string;
  readonly ip: string;
  readonly reason: string;
}

/** Result of {@link Allocator.setPools}. */
export type SetPoolsResult = { ok: true } | { ok: false; blocked: BlockedAssignment[] };

/**
 * Per-pool numbers for `metallb_allocator_addresses_total` and `..._in_use_total`, and for an
 * IPAddressPool's `status` (`assignedIPv4`, `assignedIPv6`, `availableIPv4`, `availableIPv6`).
 */
export interface PoolStats {
  readonly pool: string;
  /** Usable addresses, capped at 2^63 for huge IPv6 pools. */
  readonly total: number;
  readonly inUse: number;
  /** IPv4 addresses held by at least one Service. */
  readonly assignedIPv4: number;
  readonly assignedIPv6: number;
  /**
   * Usable IPv4 addresses (avoid-buggy-ips honoured) that no Service holds. Capped at
   * `Number.MAX_SAFE_INTEGER` (2^53 - 1), not 2^63 as `total` is: a JS number of 2^63 prints as
   * 9223372036854776000, which overflows the status's int64.
   */
  readonly availableIPv4: number;
  /** As `availableIPv4`; any IPv6 prefix of /75 or shorter reads as the cap. */
  readonly availableIPv6: number;
}

/** One address held by one or more Services. */
interface Holding {
  readonly ip: IpAddress;
  readonly text: string;
  pool: PoolState;
  readonly holders: Map<string, Holder>;
}

/** A Service and what it holds. */
interface Holder {
  readonly service: string;
  readonly request: AllocationRequest;
  pool: PoolState;
  readonly holdings: Holding[];
}

type Plan = { ok: true; pool: PoolState; ips: IpAddress[] } | { ok: false; reason: string };

/** What {@link Allocator} checks of an IP besides pool membership, avoid-buggy-ips, `namespaces` and sharing. */
interface IpChecks {
  /** That it is in the pool the Service names. */
  readonly namedPool: boolean;
  /** That its pool's serviceAllocation admits the Service (selectors included). */
  readonly admission: boolean;
}
/** An IP the Service asks for now. */
const REQUESTED: IpChecks = { namedPool: true, admission: true };
/** An IP the Service holds: labels may have changed since, and that never takes it away. */
const HELD: IpChecks = { namedPool: true, admission: false };
/** An IP read back from the Service's status on start (`assign`). */
const RESTORED: IpChecks = { namedPool: false, admission: false };

/**
 * @example
 * const allocator = new Allocator();
 * allocator.setPools(config.pools);
 * allocator.allocate("default/web", request); // { ok: true, ips: ["192.168.126.40"], pool: "default" }
 * allocator.unassign("default/web");          // ["192.168.126.40"]
 */
export class Allocator {
  #pools: PoolState[] = [];
  readonly #holders = new Map<string, Holder>();
  readonly #holdings: Record<IpFamily, Map<bigint, Holding>> = { 4: new Map(), 6: new Map() };
  /** `${family}|${sharingKey}` → addresses whose holders carry that key, by address. */
  readonly #shared = new Map<string, SortedMap<bigint, Holding>>();

  /**
   * Replaces the pools. Refused, with nothing changed, when an assigned IP would no longer be
   * valid for its Service: outside every pool, excluded by avoid-buggy-ips or `namespaces`, moved
   * out of the pool the Service names, or split across two pools. Every such Service and IP is listed.
   * `pools` must be valid as `parseConfig` returns them: unique names, no overlapping ranges.
   */
  setPools(pools: readonly Pool[]): SetPoolsResult {
    const next = pools.map((pool) => new PoolState(pool));
    const blocked: BlockedAssignment[] = [];
    const holders = [...this.#holders.values()].sort((a, b) => (a.service < b.service ? -1 : a.service > b.service ? 1 : 0));
    for (const holder of holders) {
      const placed: PoolState[] = [];
      const before = blocked.length;
      for (const holding of holder.holdings) {
        const reason = this.#reasonAgainstNewPools(holder, holding, next, placed);
        if (reason !== undefined) blocked.push({ service: holder.service, ip: holding.text, reason });
      }
      if (blocked.length === before && new Set(placed).size > 1) {
        const where = holder.holdings.map((h, i) => `${h.text} in pool "${placed[i].name}"`).join(", ");
        for (const holding of holder.holdings) {
          blocked.push({ service: holder.service, ip: holding.text, reason: `the new config splits the Service's IPs across pools (${where})` });
        }
      }
    }
    if (blocked.length > 0) return { ok: false, blocked };

    this.#pools = next;
    for (const family of [4, 6] as const) {
      for (const holding of this.#holdings[family].values()) {
        holding.pool = this.#poolContaining(holding.ip) as PoolState;
        holding.pool.markUsed(holding.ip);
      }
    }
    for (const holder of this.#holders.values()) holder.pool = holder.holdings[0].pool;
    return { ok: true };
  }

  /**
   * Records IPs a Service already holds (read from its status on start). Accepted when every IP is
   * in the same pool, allowed for the Service's namespace, not excluded by avoid-buggy-ips, and
   * shareable with its other holders. `auto-assign: false` and the requested pool or IPs are not
   * checked here: a later `allocate` moves the Service if its request changed. Replaces any
   * previous assignment of the Service; on failure the previous one stays.
   *
   * @example
   * allocator.assign("default/web", ["192.168.126.41"], request); // { ok: true, pool: "default" }
   */
  assign(service: string, ips: readonly string[], request: AllocationRequest): AssignResult {
    if (ips.length === 0) return { ok: false, reason: "no IPs given to assign" };
    const parsed: IpAddress[] = [];
    for (const text of ips) {
      const result = parseIp(text);
      if (!result.ok) return { ok: false, reason: `"${text}" is not a valid IP address (${result.reason})` };
      if (parsed.some((ip) => ip.family === result.ip.family)) {
        return { ok: false, reason: `${ips.join(", ")} holds two ${familyName(result.ip.family)} addresses; a Service has at most one per family` };
      }
      parsed.push(result.ip);
    }
    const previous = this.#detach(service).holder;
    const plan = this.#planIps(service, request, parsed, false);
    if (!plan.ok) {
      if (previous) this.#attach(service, previous.request, previous.pool, previous.holdings.map((h) => h.ip));
      return plan;
    }
    this.#attach(service, request, plan.pool, plan.ips);
    return { ok: true, pool: plan.pool.name };
  }

  /**
   * Gives the Service IPs that satisfy `request`: its current ones when they still do (idempotent),
   * else the requested IPs, else the named pool, else the first auto-assign pool that admits the
   * Service and has room, in preference order (priority, then config order), taking its lowest free address — or, with a sharing key, the lowest address
   * already shared under that key that the sharing rules allow. Dual-stack IPs come from one pool.
   * On failure nothing changes and the reason says why, pool by pool.
   *
   * @example
   * allocator.allocate("default/dns-udp", { ...request, sharingKey: "dns", ports: [{ protocol: "UDP", port: 53 }] });
   */
  allocate(service: string, request: AllocationRequest): AllocateResult {
    const wanted = wantedFamilies(request);
    if (typeof wanted === "string") return { ok: false, reason: wanted };
    const requestProblem = requestedIpsProblem(request, wanted);
    if (requestProblem !== undefined) return { ok: false, reason: requestProblem };

    const keep = this.#holders.has(service) && this.satisfies(service, request) === true;
    const previous = this.#detach(service).holder;
    let plan: Plan;
    if (keep && previous) {
      const ips = previous.holdings.map((h) => h.ip);
      plan = { ok: true, pool: previous.pool, ips: this.#topUp(service, request, wanted, previous.pool, ips) ?? ips };
    } else {
      plan = this.#plan(service, request, wanted, previous);
    }
    if (!plan.ok) {
      if (previous) this.#attach(service, previous.request, previous.pool, previous.holdings.map((h) => h.ip));
      return plan;
    }
    const ordered = [...plan.ips].sort((a, b) => wanted.indexOf(a.family) - wanted.indexOf(b.family));
    this.#attach(service, request, plan.pool, ordered);
    return { ok: true, ips: ordered.map(formatIp), pool: plan.pool.name };
  }

  /**
   * Whether the Service's current IPs still satisfy `request`: right families for the policy, the
   * requested IPs exactly, the named pool, the pool's namespaces, and sharing with co-holders under
   * the (possibly changed) key and ports. Not the pool's selectors or priority: a held IP survives
   * label changes. Returns true or the reason a new allocation is needed.
   *
   * @example
   * allocator.satisfies("default/web", { ...request, pool: "other" });
   * // '192.168.126.40 is in pool "default", not in the requested pool "other"; ...'
   */
  satisfies(service: string, request: AllocationRequest): true | string {
    const holder = this.#holders.get(service);
    if (holder === undefined) return `${service} holds no IP`;
    const wanted = wantedFamilies(request);
    if (typeof wanted === "string") return wanted;
    const requestProblem = requestedIpsProblem(request, wanted);
    if (requestProblem !== undefined) return requestProblem;
    const held = holder.holdings.map((h) => h.ip);
    for (const ip of held) {
      if (!wanted.includes(ip.family)) {
        return `holds ${formatIp(ip)} (${familyName(ip.family)}) but the Service is ${describeFamilies(request, wanted)}`;
      }
      const refusal = this.#ipRefusal(service, request, ip, HELD);
      if (refusal !== undefined) return refusal;
    }
    if (request.requestedIps.length > 0) {
      const missing = request.requestedIps.filter((ip) => !held.some((h) => h.value === ip.value && h.family === ip.family));
      if (missing.length > 0 || held.length !== request.requestedIps.length) {
        return `holds ${held.map(formatIp).join(", ")} but requests ${request.requestedIps.map(formatIp).join(", ")}`;
      }
    } else if (request.ipFamilyPolicy === "RequireDualStack") {
      const missing = wanted.filter((family) => !held.some((ip) => ip.family === family));
      if (missing.length > 0) {
        return `holds only ${held.map(formatIp).join(", ")} but ipFamilyPolicy RequireDualStack needs an ${familyName(missing[0])} address too`;
      }
    }
    return true;
  }

  /** Releases every IP of the Service; returns the IPs that are now free (not still shared). */
  unassign(service: string): string[] {
    return this.#detach(service).freed;
  }

  /** The Service's IPs in canonical text, or undefined when it holds none. */
  assignedTo(service: string): string[] | undefined {
    return this.#holders.get(service)?.holdings.map((h) => h.text);
  }

  /** The pool the Service's IPs come from (for `ip-allocated-from-pool`), or undefined. */
  poolOf(service: string): string | undefined {
    return this.#holders.get(service)?.pool.name;
  }

  /**
   * Per pool, in config order: usable addresses (capped at 2^63) and addresses in use, and per
   * family the addresses assigned and still available (capped at `Number.MAX_SAFE_INTEGER`).
   *
   * @example
   * allocator.stats(); // [{ pool: "lan", total: 16, inUse: 1, assignedIPv4: 1, assignedIPv6: 0, availableIPv4: 15, availableIPv6: 0 }]
   */
  stats(): PoolStats[] {
    const cap = (value: bigint, limit: bigint): number => Number(value > limit ? limit : value);
    return this.#pools.map((pool) => ({
      pool: pool.name,
      total: cap(pool.total, METRIC_CAP),
      inUse: pool.inUse,
      assignedIPv4: pool.inUseOf(4),
      assignedIPv6: pool.inUseOf(6),
      availableIPv4: cap(pool.totalByFamily[4] - BigInt(pool.inUseOf(4)), STATUS_CAP),
      availableIPv6: cap(pool.totalByFamily[6] - BigInt(pool.inUseOf(6)), STATUS_CAP),
    }));
  }

  #plan(service: string, request: AllocationRequest, wanted: IpFamily[], previous: Holder | undefined): Plan {
    if (request.requestedIps.length > 0) return this.#planIps(service, request, request.requestedIps, true);

    let candidates: PoolState[];
    const notes: string[] = [];
    if (request.pool) {
      const named = this.#pools.find((pool) => pool.name === request.pool);
      if (named === undefined) return { ok: false, reason: this.#missingPool(request.pool) };
      const refusal = admissionRefusal(named.pool, request);
      if (refusal !== undefined) return { ok: false, reason: refusal.full };
      candidates = [named];
    } else {
      if (this.#pools.length === 0) return { ok: false, reason: "no address pools are configured; add one to the config" };
      candidates = [];
      for (const pool of inPreferenceOrder(this.#pools, (state) => state.pool)) {
        const refusal = pool.pool.autoAssign ? admissionRefusal(pool.pool, request) : undefined;
        if (!pool.pool.autoAssign) {
          notes.push(`pool "${pool.name}" has auto-assign: false (name it in ${POOL_ANNOTATION} to use it)`);
        } else if (refusal !== undefined) {
          notes.push(refusal.short);
        } else {
          candidates.push(pool);
        }
      }
    }

    // A Service that gained a family (e.g. became RequireDualStack) keeps its valid IP and adds the other.
    if (previous && previous.holdings.every((h) => wanted.includes(h.ip.family) && this.#ipRefusal(service, request, h.ip, HELD) === undefined)) {
      const ips = this.#topUp(service, request, wanted, previous.pool, previous.holdings.map((h) => h.ip));
      if (ips !== undefined) return { ok: true, pool: previous.pool, ips };
    }

    const attempts: IpFamily[][] =
      request.ipFamilyPolicy === "PreferDualStack" && wanted.length === 2 ? [wanted, [wanted[0]], [wanted[1]]] : [wanted];
    for (const families of attempts) {
      for (const pool of candidates) {
        const ips = families.map((family) => this.#pick(service, request, pool, family));
        if (ips.every((ip) => ip !== undefined)) return { ok: true, pool, ips };
      }
    }

    const shortages = candidates.map((pool) => {
      const lacking = wanted.filter((family) => this.#pick(service, request, pool, family) === undefined);
      return `pool "${pool.name}" ${lacking.map((family) => pool.shortage(family)).join(" and ")}`;
    });
    const need = wanted.length === 1 ? familyName(wanted[0]) : request.ipFamilyPolicy === "RequireDualStack" ? "IPv4 and IPv6" : "IPv4 or IPv6";
    const scope = request.pool ? ` in pool "${request.pool}"` : "";
    const together = request.ipFamilyPolicy === "RequireDualStack" ? " (RequireDualStack takes both from one pool)" : "";
    const details = [...shortages, ...notes];
    const list = details.length > 0 ? `: ${details.join("; ")}` : ": no pool allows this Service";
    return { ok: false, reason: `no available ${need} IPs${scope}${together}${list}` };
  }

  /** Validates given IPs (requested, or learned from status) for the Service. */
  #planIps(service: string, request: AllocationRequest, ips: readonly IpAddress[], requested: boolean): Plan {
    if (requested && request.pool && !this.#pools.some((pool) => pool.name === request.pool)) {
      return { ok: false, reason: this.#missingPool(request.pool) };
    }
    let chosen: PoolState | undefined;
    for (const ip of ips) {
      const refusal = this.#ipRefusal(service, request, ip, requested ? REQUESTED : RESTORED);
      if (refusal !== undefined) return { ok: false, reason: refusal };
      const pool = this.#poolContaining(ip) as PoolState;
      if (chosen !== undefined && chosen !== pool) {
        return {
          ok: false,
          reason: `${formatIp(ips[0])} (pool "${chosen.name}") and ${formatIp(ip)} (pool "${pool.name}") are in different pools; use two IPs of one pool`,
        };
      }
      chosen = pool;
    }
    return { ok: true, pool: chosen as PoolState, ips: [...ips] };
  }

  /** Adds the missing wanted families from `pool` to `ips`; undefined when nothing could be added. */
  #topUp(service: string, request: AllocationRequest, wanted: IpFamily[], pool: PoolState, ips: IpAddress[]): IpAddress[] | undefined {
    if (request.requestedIps.length > 0 || request.ipFamilyPolicy === "SingleStack") return undefined;
    const missing = wanted.filter((family) => !ips.some((ip) => ip.family === family));
    if (missing.length === 0) return undefined;
    const added = missing.map((family) => this.#pick(service, request, pool, family));
    if (added.some((ip) => ip === undefined)) return undefined;
    return [...ips, ...(added as IpAddress[])];
  }

  /** The address `pool` would give: a compatible one already shared under the Service's key, else the lowest free one. */
  #pick(service: string, request: AllocationRequest, pool: PoolState, family: IpFamily): IpAddress | undefined {
    const index = request.sharingKey ? this.#shared.get(`${family}|${request.sharingKey}`) : undefined;
    if (index !== undefined) {
      for (const state of pool.ranges) {
        if (state.range.family !== family) continue;
        for (const [value, holding] of index.entries(state.range.first)) {
          if (value > state.range.last) break;
          if (this.#sharingRefusal(service, request, holding) === undefined) return holding.ip;
        }
      }
    }
    return pool.lowestFree(family);
  }

  /**
   * Why the Service may not hold `ip`: pool membership, namespaces, buggy IPs, sharing, and as
   * `checks` says the named pool and the pool's serviceAllocation (only for a newly requested IP).
   */
  #ipRefusal(service: string, request: AllocationRequest, ip: IpAddress, checks: IpChecks): string | undefined {
    const text = formatIp(ip);
    const pool = this.#poolContaining(ip);
    if (pool === undefined) {
      return `${text} is not in any pool; request an address of a configured pool${this.#pools.length > 0 ? ` (${this.#pools.map((p) => p.name).join(", ")})` : ""}`;
    }
    if (checks.namedPool && request.pool && pool.name !== request.pool) {
      return `${text} is in pool "${pool.name}", not in the requested pool "${request.pool}"; request an address of pool "${request.pool}" or change ${POOL_ANNOTATION}`;
    }
    const admission = checks.admission ? admissionRefusal(pool.pool, request) : undefined;
    if (admission !== undefined) return `${text}: ${admission.full}`;
    const refusal = pool.refusal(ip, request.namespace);
    if (refusal !== undefined) return `${text}: ${refusal}`;
    const holding = this.#holdings[ip.family].get(ip.value);
    return holding === undefined ? undefined : this.#sharingRefusal(service, request, holding);
  }

  #sharingRefusal(service: string, request: AllocationRequest, holding: Holding): string | undefined {
    for (const holder of holding.holders.values()) {
      if (holder.service === service) continue;
      const conflict = sharingConflict(holding.text, { service, request }, holder);
      if (conflict !== undefined) return conflict;
    }
    return undefined;
  }

  #reasonAgainstNewPools(holder: Holder, holding: Holding, next: readonly PoolState[], placed: PoolState[]): string | undefined {
    const pool = next.find((candidate) => candidate.contains(holding.ip));
    if (pool === undefined) return `${holding.text} is in no pool of the new config`;
    placed.push(pool);
    const refusal = pool.refusal(holding.ip, holder.request.namespace);
    if (refusal !== undefined) return `under the new config ${refusal}`;
    const named = holder.request.pool;
    if (named && named === holder.pool.name && pool.name !== named) {
      return `the Service requests pool "${named}" (${POOL_ANNOTATION}) and the new config puts ${holding.text} in pool "${pool.name}"`;
    }
    return undefined;
  }

  #missingPool(name: string): string {
    const known = this.#pools.map((pool) => pool.name);
    return `pool "${name}" (from ${POOL_ANNOTATION}) does not exist; configured pools: ${known.length > 0 ? known.join(", ") : "none"}`;
  }

  #poolContaining(ip: IpAddress): PoolState | undefined {
    return this.#pools.find((pool) => pool.contains(ip));
  }

  #attach(service: string, request: AllocationRequest, pool: PoolState, ips: readonly IpAddress[]): void {
    // Sized up front: a holder lives as long as its Service's IPs, and a pushed-to array keeps spare room.
    const holder: Holder = { service, request, pool, holdings: new Array<Holding>(ips.length) };
    for (const [i, ip] of ips.entries()) {
      let holding = this.#holdings[ip.family].get(ip.value);
      if (holding === undefined) {
        holding = { ip, text: formatIp(ip), pool, holders: new Map() };
        this.#holdings[ip.family].set(ip.value, holding);
        pool.markUsed(ip);
      } else {
        this.#unindex(holding);
      }
      holding.holders.set(service, holder);
      this.#index(holding);
      holder.holdings[i] = holding;
    }
    this.#holders.set(service, holder);
  }

  #detach(service: string): { holder?: Holder; freed: string[] } {
    const holder = this.#holders.get(service);
    if (holder === undefined) return { freed: [] };
    const freed: string[] = [];
    for (const holding of holder.holdings) {
      this.#unindex(holding);
      holding.holders.delete(service);
      if (holding.holders.size === 0) {
        this.#holdings[holding.ip.family].delete(holding.ip.value);
        holding.pool.markFree(holding.ip);
        freed.push(holding.text);
      } else {
        this.#index(holding);
      }
    }
    this.#holders.delete(service);
    return { holder, freed };
  }

  /** Every holder of an address carries the same key (sharing requires it), so the first one's is the address's. */
  #sharedKey(holding: Holding): string | undefined {
    const first = holding.holders.values().next();
    const key = first.done ? undefined : first.value.request.sharingKey;
    return key ? `${holding.ip.family}|${key}` : undefined;
  }

  #index(holding: Holding): void {
    const key = this.#sharedKey(holding);
    if (key === undefined) return;
    let index = this.#shared.get(key);
    if (index === undefined) {
      index = new SortedMap<bigint, Holding>(undefined, compareBigints);
      this.#shared.set(key, index);
    }
    index.set(holding.ip.value, holding);
  }

  #unindex(holding: Holding): void {
    const key = this.#sharedKey(holding);
    const index = key === undefined ? undefined : this.#shared.get(key);
    if (index === undefined || key === undefined) return;
    index.delete(holding.ip.value);
    if (index.size === 0) this.#shared.delete(key);
  }
}
