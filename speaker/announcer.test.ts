import { Registry } from "prom-client";
import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { createLogger } from "../shared/log.ts";
import { Announcer } from "./announcer.ts";
import type { InterfaceInfo } from "./interfaces.ts";
import { createSpeakerMetrics } from "./metrics.ts";
import type { PacketSocket, ReplyTable } from "./packet-socket.ts";

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

  async function start(interfaces: InterfaceInfo[]) {
    const sockets = new Map<string, FakeSocket>();
    const metrics = createSpeakerMetrics(new Registry());
    announcer = new Announcer({
      log,
      metrics,
      excludePatterns: [/^lo$/],
      reannounceIntervalMs: 0,
      conflictProbeMs: 0,
      onConflict: () => {},
      scan: async () => interfaces,
      openSocket: (name) => {
        const s = new FakeSocket(name);
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
