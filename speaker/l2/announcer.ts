import { performance } from "node:perf_hooks";
import { parseIp } from "../../shared/ip/address.ts";
import { ipToBytes } from "../../shared/ip/bytes.ts";
import type { Logger } from "../../shared/log.ts";
import { announcementFrames } from "../wire/announcement-frames.ts";
import { conflictProbe } from "../wire/conflict-probe.ts";
import { AnnouncementSchedule } from "./garp-schedule.ts";
import { interfacesForVip, selectInterfaces, type InterfaceInfo } from "./interfaces.ts";
import type { SpeakerMetrics } from "../metrics.ts";
import { ipv6MulticastMac, solicitedNodeMulticast } from "../wire/ndp.ts";
import type { FrameInfo, PacketSocket, PacketSocketOptions } from "./packet-socket.ts";
import { respondToFrame, type Conflict } from "../wire/responder.ts";

/** Another MAC claiming a VIP we announce, seen on `iface`. */
export interface ObservedConflict extends Conflict {
  iface: string;
}

export interface AnnouncerOptions {
  log: Logger;
  metrics: SpeakerMetrics;
  excludePatterns: readonly RegExp[];
  reannounceIntervalMs: number;
  /** How often each owned VIP is probed for other holders (0: never). */
  conflictProbeMs: number;
  /** Claims by other MACs within this long after we gained a VIP are the handover, not a conflict. */
  conflictGraceMs?: number;
  onConflict: (conflict: ObservedConflict) => void;
  /**
   * Called when a reply is about to be withheld because the deadline passed (see {@link Announcer.answerUntil}):
   * the speaker takes in what arrived meanwhile and decides, which may give a later deadline. Then the frame is
   * answered if its VIP is still ours on that interface.
   */
  refreshDeadline?: () => void;
  scan: () => Promise<InterfaceInfo[]>;
  openSocket: (ifname: string, options: PacketSocketOptions) => PacketSocket;
}

interface Link {
  iface: InterfaceInfo;
  socket: PacketSocket;
  /** VIPs answered on this interface (canonical text). */
  vips: Set<string>;
  tableDirty: boolean;
}

interface Owned {
  bytes: Uint8Array;
  ifaces: string[];
  /** The interfaces its L2Advertisements list for this node; undefined: every eligible interface. */
  only: readonly string[] | undefined;
  gainedAt: number;
}

/** The interfaces a VIP may be announced on (an L2Advertisement's `interfaces`); undefined: every eligible one. */
export type InterfacesOf = (ip: string) => readonly string[] | undefined;

const everyInterface: InterfacesOf = () => undefined;

const probesPerTick = 20;
const probeTickMs = 100;
/** How often the packet sockets' drop counters are read, and how often a drop is logged at most. */
const dropCheckMs = 5_000;
const dropWarningEveryMs = 60_000;

/**
 * The data plane of a speaker: packet sockets on the eligible interfaces, the set of VIPs this
 * node answers ARP/NDP for, gratuitous announcements on gain and periodically, and conflict
 * detection. The native fast path answers requests from a VIP table kept equal to the owned set;
 * JavaScript sees every frame too, counts it, and sends the answer itself only if the fast path
 * did not. No VIP is ever bound to an interface.
 *
 * @example
 * const announcer = new Announcer(opts);
 * await announcer.rescan();
 * announcer.setOwned(new Set(["192.168.126.40"]));
 * announcer.setOwned(new Set(["192.168.126.40"]), () => ["eth1"]); // only on eth1 (an L2Advertisement's interfaces)
 */
export class Announcer {
  private readonly opts: AnnouncerOptions;
  private readonly links = new Map<string, Link>();
  private readonly owned = new Map<string, Owned>();
  private readonly schedule: AnnouncementSchedule;
  private localMacs = new Set<string>();
  private garpTimer: NodeJS.Timeout | undefined;
  private probeTimer: NodeJS.Timeout | undefined;
  private readonly dropTimer: NodeJS.Timeout;
  /** When the last "frames dropped" warning was logged, per interface. */
  private readonly lastDropWarning = new Map<string, number>();
  private readonly probeQueue: string[] = [];
  private readonly lastProbe = new Map<string, number>();
  private readonly conflictSeen = new Map<string, number>();
  /** The last error opening a packet socket, per interface: logged once, not on every rescan. */
  private readonly openErrors = new Map<string, string>();
  private quietUntil = 0;
  /** We claim no VIP at or after this instant (performance.now()): see {@link Announcer.answerUntil}. */
  private claimUntil = Infinity;
  private refreshing = false;
  private closed = false;
  /** The links (and their addresses) the owned VIPs were last placed on, as rescan() compares them. */
  private placedLayout = "";

  constructor(opts: AnnouncerOptions) {
    this.opts = opts;
    this.schedule = new AnnouncementSchedule({ reannounceIntervalMs: opts.reannounceIntervalMs });
    if (opts.conflictProbeMs > 0) {
      this.probeTimer = setInterval(() => this.probeTick(), probeTickMs);
      this.probeTimer.unref();
    }
    this.dropTimer = setInterval(() => this.countDrops(), dropCheckMs);
    this.dropTimer.unref();
  }

  /**
   * Reads each socket's kernel counters: frames dropped because the queue was full mean ARP requests or
   * solicitations nobody answered. Counted in `baremetal_lb_packet_socket_drops_total{interface}` and logged,
   * at most once a minute per interface.
   */
  countDrops(): void {
    const now = performance.now();
    for (const [name, link] of this.links) {
      if (link.socket.closed) continue;
      let drops: number;
      try {
        drops = link.socket.stats().drops;
      } catch {
        continue; // closed meanwhile: the rescan reopens it
      }
      if (drops === 0) continue;
      this.opts.metrics.packetSocketDrops.inc({ interface: name }, drops);
      if (now - (this.lastDropWarning.get(name) ?? -Infinity) < dropWarningEveryMs) continue;
      this.lastDropWarning.set(name, now);
      this.opts.log.warn(
        { interface: name, drops, seconds: dropCheckMs / 1000 },
        "the kernel dropped ARP/NDP frames before the speaker read them (its event loop was busy or the link floods ARP): requests among them went unanswered; see baremetal_lb_packet_socket_drops_total",
      );
    }
  }

  /** Interfaces we announce on now. */
  interfaces(): string[] {
    return [...this.links.keys()];
  }

  /** Why sockets could not be opened, by interface (e.g. "... the speaker needs CAP_NET_RAW"); empty when none failed. */
  openFailures(): ReadonlyMap<string, string> {
    return this.openErrors;
  }

  /** The VIPs this node answers for now. */
  ownedIps(): string[] {
    return [...this.owned.keys()];
  }

  /** The interfaces `ip` is announced on, or undefined when we don't own it. */
  interfacesOf(ip: string): string[] | undefined {
    return this.owned.get(ip)?.ifaces;
  }

  /** Re-reads the interfaces: opens sockets on new eligible ones, closes gone ones, re-places VIPs. */
  async rescan(): Promise<void> {
    if (this.closed) return;
    const { log } = this.opts;
    const scanned = await this.opts.scan();
    this.localMacs = new Set(scanned.map((i) => i.mac).filter(Boolean));
    const { eligible, excluded } = selectInterfaces(scanned, this.opts.excludePatterns);
    const wanted = new Map(eligible.map((i) => [i.name, i]));
    for (const [name, link] of this.links) {
      const now = wanted.get(name);
      if (!now || now.index !== link.iface.index || now.mac !== link.iface.mac) {
        link.socket.close();
        this.links.delete(name);
        log.info({ interface: name }, "stopped announcing on interface");
      } else {
        link.iface = now;
      }
    }
    for (const [name, iface] of wanted) {
      if (this.links.has(name)) continue;
      try {
        const socket = this.opts.openSocket(name, {
          protocols: "both",
          onFrame: (frame, info) => this.onFrame(name, frame, info),
          onError: (err) => log.warn({ interface: name, err: err.message, code: err.code }, "packet socket error"),
        });
        socket.setFastPath(true);
        socket.setAnswerUntil(this.claimUntil);
        this.links.set(name, { iface, socket, vips: new Set(), tableDirty: true });
        this.openErrors.delete(name);
        log.info({ interface: name, mac: iface.mac }, "announcing on interface");
      } catch (err) {
        const message = (err as Error).message;
        if (this.openErrors.get(name) !== message) {
          log.error({ interface: name, err: message, code: (err as NodeJS.ErrnoException).code }, "cannot open packet socket");
        }
        this.openErrors.set(name, message);
      }
    }
    for (const name of [...this.openErrors.keys()]) if (!wanted.has(name)) this.openErrors.delete(name);
    if (this.links.size === 0) {
      log.warn({ excluded }, "no eligible interface to announce on");
    }
    // Re-placing costs a subnet match per VIP and interface address: only do it when what place()
    // reads, the open links and their addresses, changed since the last rescan.
    const layout = JSON.stringify([...this.links.values()].map((l) => [l.iface.name, l.iface.index, l.iface.mac, l.iface.addresses]));
    if (layout !== this.placedLayout) {
      this.placedLayout = layout;
      for (const ip of this.owned.keys()) this.place(ip, false);
      this.countWithoutInterface();
    }
    this.flushTables();
  }

  /**
   * Makes `ips` exactly the owned set: gains start a GARP burst, losses stop answering at once. A Map
   * also restricts each VIP to the interfaces named (an L2Advertisement's `interfaces`); a VIP whose
   * restriction changes is moved (announced afresh on the interfaces it gains).
   */
  setOwned(ips: ReadonlySet<string>, only: InterfacesOf = everyInterface): { gained: string[]; lost: string[] } {
    const gained: string[] = [];
    const lost: string[] = [];
    let replaced = false;
    for (const ip of this.owned.keys()) {
      // Deleting the entry being visited is safe in a Map's iteration.
      if (ips.has(ip)) continue;
      this.unplace(ip);
      this.owned.delete(ip);
      this.schedule.lose(ip);
      this.lastProbe.delete(ip);
      this.opts.metrics.announceInterfaces.remove({ ip });
      lost.push(ip);
    }
    for (const ip of ips) {
      const owned = this.owned.get(ip);
      if (owned) {
        const now = only(ip);
        if (now !== owned.only && now?.join(",") !== owned.only?.join(",")) {
          owned.only = now;
          this.place(ip, false, true);
          replaced = true;
        }
        continue;
      }
      const parsed = parseIp(ip, { ipv4Mapped: "keep" });
      if (!parsed.ok) continue;
      // A view into Node's shared Buffer pool: half the heap of a Uint8Array with its own ArrayBuffer (10,000 VIPs, 1.2 MB).
      const bytes = Buffer.from(ipToBytes(parsed.ip));
      this.owned.set(ip, { bytes, ifaces: [], only: only(ip), gainedAt: performance.now() });
      this.place(ip, true);
      gained.push(ip);
    }
    // Cheap when nothing moved: only a gain, a loss or new interfaces change the count.
    if (gained.length > 0 || lost.length > 0 || replaced) this.countWithoutInterface();
    this.flushTables();
    if (gained.length > 0) this.armGarp(true);
    return { gained, lost };
  }

  /**
   * Claims no VIP (no reply, no gratuitous announcement, in JavaScript or in the native fast path) at or after
   * `atMs` (performance.now()'s clock) until told a later instant. The speaker passes the end of its heartbeat
   * quorum as of each decision: after an event-loop stall, frames and timers that run before the heartbeats
   * that arrived meanwhile are taken in find the deadline past, and nothing is claimed on stale grounds.
   */
  answerUntil(atMs: number): void {
    if (atMs === this.claimUntil) return;
    this.claimUntil = atMs;
    for (const link of this.links.values()) if (!link.socket.closed) link.socket.setAnswerUntil(atMs);
  }

  /**
   * Ignores claims by other MACs for a while: ownership is in flux after the set of live speakers
   * changed, and the previous or next owner's announcements are the handover, not a conflict.
   */
  handoverInProgress(): void {
    this.quietUntil = performance.now() + (this.opts.conflictGraceMs ?? 1500);
  }

  /** Stops answering everything and closes the sockets. */
  close(): void {
    this.closed = true;
    this.setOwned(new Set());
    clearTimeout(this.garpTimer);
    clearInterval(this.probeTimer);
    clearInterval(this.dropTimer);
    for (const link of this.links.values()) link.socket.close();
    this.links.clear();
  }

  /**
   * Puts `ip` on its interfaces: among the eligible ones (restricted to those its advertisements list),
   * those whose subnet holds it, else all of them (interfacesForVip). When the advertisements list only
   * interfaces this node lacks or excludes, the VIP is on none and we say so.
   */
  private place(ip: string, gained: boolean, restrictionChanged = false): void {
    const owned = this.owned.get(ip)!;
    const links = [...this.links.values()].map((l) => l.iface);
    const eligible = owned.only === undefined ? links : links.filter((i) => owned.only!.includes(i.name));
    const ifaces = eligible.length > 0 ? interfacesForVip(eligible, ip).names : [];
    const changed = ifaces.join(",") !== owned.ifaces.join(",");
    if (owned.only !== undefined && eligible.length === 0 && (changed || gained || restrictionChanged)) {
      this.opts.log.error(
        { ip, listed: owned.only, available: links.map((i) => i.name) },
        "won the election for an ip but none of the interfaces its L2Advertisements list is usable on this node, so it is not announced; fix the interfaces list or the nodeSelectors",
      );
    }
    if (!changed && !gained) return;
    this.unplace(ip);
    owned.ifaces = ifaces;
    for (const name of ifaces) {
      const link = this.links.get(name)!;
      link.vips.add(ip);
      link.tableDirty = true;
      if (owned.bytes.length === 16) link.socket.addMembership(ipv6MulticastMac(solicitedNodeMulticast(owned.bytes)));
      this.opts.metrics.announceInterfaces.set({ ip, interface: name }, 1);
    }
    this.opts.log.info({ ip, interfaces: ifaces }, gained ? "announcing ip" : "announcing ip on new interfaces");
    this.schedule.gain(ip, performance.now());
  }

  /** `baremetal_lb_owned_ips_without_interface`: owned VIPs restricted to interfaces this node lacks. */
  private countWithoutInterface(): void {
    let count = 0;
    for (const owned of this.owned.values()) if (owned.only !== undefined && owned.ifaces.length === 0) count++;
    this.opts.metrics.ownedWithoutInterface.set(count);
  }

  private unplace(ip: string): void {
    const owned = this.owned.get(ip);
    if (!owned) return;
    for (const name of owned.ifaces) {
      const link = this.links.get(name);
      if (!link) continue;
      link.vips.delete(ip);
      link.tableDirty = true;
      if (owned.bytes.length === 16 && !link.socket.closed) {
        try {
          link.socket.dropMembership(ipv6MulticastMac(solicitedNodeMulticast(owned.bytes)));
        } catch {
          // Another owned VIP may share the solicited-node group; the kernel counts memberships.
        }
      }
      this.opts.metrics.announceInterfaces.remove({ ip, interface: name });
    }
    owned.ifaces = [];
  }

  private flushTables(): void {
    for (const link of this.links.values()) {
      if (!link.tableDirty || link.socket.closed) continue;
      const ipv4: Uint8Array[] = [];
      const ipv6: Uint8Array[] = [];
      for (const ip of link.vips) {
        const bytes = this.owned.get(ip)?.bytes;
        if (bytes) (bytes.length === 4 ? ipv4 : ipv6).push(bytes);
      }
      link.socket.setReplyTable({ ipv4, ipv6 });
      link.tableDirty = false;
    }
  }

  private onFrame(name: string, frame: Buffer, info: FrameInfo): void {
    const link = this.links.get(name);
    if (!link) return;
    const { metrics } = this.opts;
    const decision = respondToFrame(frame, { ourMac: link.socket.mac, announced: link.vips, localMacs: this.localMacs });
    if (decision.action === "drop") {
      metrics.framesDropped.inc({ reason: decision.reason });
      return;
    }
    if (decision.action === "reply") {
      metrics.requestsReceived.inc({ ip: decision.ip });
      if (info.answered) metrics.responsesSent.inc({ ip: decision.ip });
      else if (!this.mayClaim(link, decision.ip)) metrics.repliesWithheld.inc();
      else {
        try {
          link.socket.send(decision.frame);
          metrics.responsesSent.inc({ ip: decision.ip });
        } catch (err) {
          this.opts.log.warn({ interface: name, ip: decision.ip, err: (err as Error).message }, "reply not sent");
          return;
        }
      }
    }
    if (decision.conflict) this.noteConflict(name, decision.conflict);
  }

  /** Before the deadline, or past it but still ours once the speaker has decided afresh. */
  private mayClaim(link: Link, ip: string): boolean {
    if (performance.now() < this.claimUntil) return true;
    if (!this.opts.refreshDeadline || this.refreshing) return false;
    this.refreshing = true;
    try {
      this.opts.refreshDeadline();
    } finally {
      this.refreshing = false;
    }
    return performance.now() < this.claimUntil && link.vips.has(ip) && !link.socket.closed;
  }

  private noteConflict(iface: string, conflict: Conflict): void {
    const owned = this.owned.get(conflict.ip);
    if (!owned) return;
    const now = performance.now();
    if (now - owned.gainedAt < (this.opts.conflictGraceMs ?? 1500) || now < this.quietUntil) return;
    this.opts.metrics.arpConflicts.inc({ ip: conflict.ip, mac: conflict.mac });
    this.opts.metrics.arpConflictActive.set({ ip: conflict.ip }, 1);
    this.conflictSeen.set(conflict.ip, now);
    this.opts.onConflict({ ...conflict, iface });
  }

  /** Sends due gratuitous rounds and re-arms the timer for the next one. */
  private armGarp(now: boolean): void {
    clearTimeout(this.garpTimer);
    if (this.closed) return;
    const fire = () => {
      const t = performance.now();
      for (const { ip } of this.schedule.due(t)) this.announce(ip);
      this.armGarp(false);
    };
    if (now) {
      fire();
      return;
    }
    const next = this.schedule.nextWakeupMs();
    if (next === undefined) return;
    this.garpTimer = setTimeout(fire, Math.max(0, next - performance.now()));
    this.garpTimer.unref();
  }

  private announce(ip: string): void {
    const owned = this.owned.get(ip);
    if (!owned || performance.now() >= this.claimUntil) return;
    for (const name of owned.ifaces) {
      const link = this.links.get(name);
      if (!link || link.socket.closed) continue;
      for (const frame of announcementFrames(link.socket.mac, owned.bytes)) {
        try {
          link.socket.send(frame);
          this.opts.metrics.gratuitousSent.inc({ ip });
        } catch (err) {
          this.opts.log.warn({ interface: name, ip, err: (err as Error).message }, "gratuitous announcement not sent");
        }
      }
    }
  }

  /** Probes a few owned VIPs per tick for other holders, each at most once per probe interval. */
  private probeTick(): void {
    const now = performance.now();
    const interval = this.opts.conflictProbeMs;
    for (const [ip, at] of this.conflictSeen) {
      if (now - at > 3 * interval) {
        this.conflictSeen.delete(ip);
        this.opts.metrics.arpConflictActive.set({ ip }, 0);
      }
    }
    if (this.probeQueue.length === 0) {
      // First probe right after the handover grace period, then once per interval.
      const grace = this.opts.conflictGraceMs ?? 1500;
      for (const [ip, owned] of this.owned) {
        const last = this.lastProbe.get(ip);
        if (last === undefined ? now - owned.gainedAt >= grace : now - last >= interval) this.probeQueue.push(ip);
      }
    }
    let sent = 0;
    while (sent < probesPerTick && this.probeQueue.length > 0) {
      const ip = this.probeQueue.shift()!;
      const owned = this.owned.get(ip);
      if (!owned) continue;
      this.lastProbe.set(ip, now);
      for (const name of owned.ifaces) {
        const link = this.links.get(name);
        if (!link || link.socket.closed) continue;
        try {
          link.socket.send(conflictProbe(link.socket.mac, owned.bytes));
        } catch {
          // A link going down is noticed by the rescan.
        }
      }
      sent++;
    }
  }
}
