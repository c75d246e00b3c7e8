import { Registry } from "prom-client";
import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { createLogger } from "../../shared/log.ts";
import { Announcer } from "./announcer.ts";
import type { InterfaceInfo } from "./interfaces.ts";
import { createSpeakerMetrics } from "../metrics.ts";
import type { PacketSocket, PacketSocketOptions, ReplyTable } from "./packet-socket.ts";
import { arpFrame, ipv4, mac } from "../../test/support/test-frames.ts";

const UP = { up: true, broadcast: true, loopback: false, noarp: false, slave: false };
const iface = (name: string, index: number, cidr: string): InterfaceInfo => {
  const [address, prefix] = cidr.split("/");
  return { name, index, mac: `02:00:00:00:00:0${index}`, flags: UP, addresses: [{ family: 4, address, prefixLength: Number(prefix) }] };
};

/** A socket that records the VIPs it would answer for and the frames it sends. */
class FakeSocket implements PacketSocket {
  readonly ifindex = 1;
  readonly mac = Buffer.from([2, 0, 0, 0, 0, 1]);
  closed = false;
  table: ReplyTable = { ipv4: [], ipv6: [] };
  sent = 0;
  readonly ifname: string;
  onFrame: PacketSocketOptions["onFrame"] = () => {};
  constructor(ifname: string) {
    this.ifname = ifname;
  }
  send(): void {
    this.sent++;
  }
  addMembership(): void {}
  dropMembership(): void {}
  setReplyTable(table: ReplyTable): void {
    this.table = table;
  }
  setFastPath(): void {}
  answerUntil = Infinity;
  setAnswerUntil(atMs: number): void {
    this.answerUntil = atMs;
  }
  ref(): void {}
  unref(): void {}
  close(): void {
    this.closed = true;
  }
  drops = 0;
  stats(): { packets: number; drops: number } {
    const drops = this.drops;
    this.drops = 0;
    return { packets: drops, drops };
  }
}

describe("Announcer interface restrictions (L2Advertisement interfaces)", () => {
  const lines: { msg: string; ip?: string }[] = [];
  const log = createLogger(
    "test",
    "info",
    new Writable({
      write(chunk, _enc, done) {
        for (const line of String(chunk).split("\n")) if (line) lines.push(JSON.parse(line) as { msg: string });
        done();
      },
    }),
  );
  let announcer: Announcer | undefined;
  afterEach(() => {
    announcer?.close();
    lines.length = 0;
  });

  async function start(interfaces: InterfaceInfo[], refreshDeadline?: () => void) {
    const sockets = new Map<string, FakeSocket>();
    const metrics = createSpeakerMetrics(new Registry());
    announcer = new Announcer({
      log,
      metrics,
      excludePatterns: [/^lo$/],
      reannounceIntervalMs: 0,
      conflictProbeMs: 0,
      onConflict: () => {},
      refreshDeadline,
      scan: async () => interfaces,
      openSocket: (name, options) => {
        const s = new FakeSocket(name);
        s.onFrame = options.onFrame;
        sockets.set(name, s);
        return s;
      },
    });
    await announcer.rescan();
    const answering = (name: string) => sockets.get(name)!.table.ipv4.map((b) => [...b].join("."));
    const withoutInterface = async () => (await metrics.ownedWithoutInterface.get()).values[0]?.value;
    return { announcer, answering, withoutInterface, sockets, metrics };
  }

  // Both interfaces are on other subnets than the VIP, so without a restriction it goes on both.
  const eth0 = iface("eth0", 1, "10.0.0.2/24");
  const eth1 = iface("eth1", 2, "10.1.0.2/24");
  const VIP = "192.0.2.10";

  it("counts the frames each packet socket dropped and warns once a minute per interface", async () => {
    const { announcer, sockets, metrics } = await start([eth0, eth1]);
    const dropped = async () => Object.fromEntries((await metrics.packetSocketDrops.get()).values.map((v) => [v.labels.interface, v.value]));
    sockets.get("eth0")!.drops = 7;
    announcer.countDrops();
    sockets.get("eth0")!.drops = 3;
    sockets.get("eth1")!.drops = 2;
    announcer.countDrops();
    announcer.countDrops();
    expect(await dropped()).toEqual({ eth0: 10, eth1: 2 });
    const warnings = lines.filter((l) => l.msg.startsWith("the kernel dropped ARP/NDP frames"));
    expect(warnings.map((l) => (l as { interface?: string }).interface)).toEqual(["eth0", "eth1"]);
  });

  it("claims nothing past the deadline it was given, in JavaScript or in the fast path, until given a later one", async () => {
    const { announcer, sockets, metrics } = await start([eth0]);
    const eth0Socket = sockets.get("eth0")!;
    const request = arpFrame({
      ethDst: mac("ff:ff:ff:ff:ff:ff"), ethSrc: mac("02:00:00:00:00:99"), op: 1,
      senderMac: mac("02:00:00:00:00:99"), senderIp: ipv4("10.0.0.99"), targetMac: mac("00:00:00:00:00:00"), targetIp: ipv4(VIP),
    });
    const frame = () => eth0Socket.onFrame(request, { ifindex: 1, packetType: "broadcast", answered: false });
    const withheld = async () => (await metrics.repliesWithheld.get()).values[0]?.value ?? 0;
    expect(eth0Socket.answerUntil).toBe(Infinity);
    announcer.setOwned(new Set([VIP]));
    const afterGain = eth0Socket.sent; // the gratuitous burst's first round
    expect(afterGain).toBeGreaterThan(0);
    frame();
    expect(eth0Socket.sent).toBe(afterGain + 1);

    const past = performance.now() - 1;
    announcer.answerUntil(past);
    expect(eth0Socket.answerUntil).toBe(past);
    frame();
    expect(eth0Socket.sent).toBe(afterGain + 1);
    expect(await withheld()).toBe(1);
    // A VIP gained past the deadline is not announced either.
    announcer.setOwned(new Set([VIP, "192.0.2.11"]));
    expect(eth0Socket.sent).toBe(afterGain + 1);

    announcer.answerUntil(Infinity);
    expect(eth0Socket.answerUntil).toBe(Infinity);
    frame();
    expect(eth0Socket.sent).toBe(afterGain + 2);
  });

  it("past the deadline, lets the speaker decide afresh and answers if the VIP is still ours", async () => {
    let refreshes = 0;
    let next = Infinity;
    const { announcer, sockets, metrics } = await start([eth0], () => {
      refreshes++;
      announcer.answerUntil(next);
    });
    const eth0Socket = sockets.get("eth0")!;
    const request = arpFrame({
      ethDst: mac("ff:ff:ff:ff:ff:ff"), ethSrc: mac("02:00:00:00:00:99"), op: 1,
      senderMac: mac("02:00:00:00:00:99"), senderIp: ipv4("10.0.0.99"), targetMac: mac("00:00:00:00:00:00"), targetIp: ipv4(VIP),
    });
    const frame = () => eth0Socket.onFrame(request, { ifindex: 1, packetType: "broadcast", answered: false });
    announcer.setOwned(new Set([VIP]));
    const afterGain = eth0Socket.sent;
    announcer.answerUntil(performance.now() - 1);
    frame(); // the fresh decision gives a later deadline: answered
    expect([refreshes, eth0Socket.sent]).toEqual([1, afterGain + 1]);
    next = performance.now() - 1;
    announcer.answerUntil(next);
    frame(); // the fresh decision still finds quorum lapsed: withheld
    expect([refreshes, eth0Socket.sent]).toEqual([2, afterGain + 1]);
    expect((await metrics.repliesWithheld.get()).values[0]?.value).toBe(1);
  });

  it("a set, as before: the VIP on every eligible interface", async () => {
    const { announcer, answering } = await start([eth0, eth1]);
    announcer.setOwned(new Set([VIP]));
    expect(announcer.interfacesOf(VIP)).toEqual(["eth0", "eth1"]);
    expect(answering("eth0")).toEqual([VIP]);
  });

  it("a restriction puts the VIP only on the listed interfaces", async () => {
    const { announcer, answering } = await start([eth0, eth1]);
    announcer.setOwned(new Set([VIP]), () => ["eth1"]);
    expect(announcer.interfacesOf(VIP)).toEqual(["eth1"]);
    expect(answering("eth0")).toEqual([]);
    expect(answering("eth1")).toEqual([VIP]);
  });

  it("a changed restriction moves the VIP without losing it", async () => {
    const { announcer, answering } = await start([eth0, eth1]);
    announcer.setOwned(new Set([VIP]), () => ["eth1"]);
    const { gained, lost } = announcer.setOwned(new Set([VIP]), () => ["eth0"]);
    expect({ gained, lost }).toEqual({ gained: [], lost: [] });
    expect(answering("eth0")).toEqual([VIP]);
    expect(answering("eth1")).toEqual([]);
    announcer.setOwned(new Set([VIP]), () => undefined);
    expect(announcer.interfacesOf(VIP)).toEqual(["eth0", "eth1"]);
  });

  it("listed interfaces missing on this node: the VIP is announced nowhere, logged and counted", async () => {
    const { announcer, withoutInterface } = await start([eth0, eth1]);
    announcer.setOwned(new Set([VIP]), () => ["eth9"]);
    expect(announcer.interfacesOf(VIP)).toEqual([]);
    expect(await withoutInterface()).toBe(1);
    expect(lines.find((l) => l.ip === VIP && l.msg.startsWith("won the election"))).toBeDefined();
    announcer.setOwned(new Set());
    expect(await withoutInterface()).toBe(0);
  });

  it("a listed interface that appears later is used at the next rescan", async () => {
    const scanned = [eth0];
    const { announcer, answering, withoutInterface } = await start(scanned);
    announcer.setOwned(new Set([VIP]), () => ["eth1"]);
    expect(await withoutInterface()).toBe(1);
    scanned.push(eth1);
    await announcer.rescan();
    expect(answering("eth1")).toEqual([VIP]);
    expect(await withoutInterface()).toBe(0);
  });
});
