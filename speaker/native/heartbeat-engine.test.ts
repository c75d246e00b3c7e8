// The native heartbeat engine through JavaScript, over loopback UDP (no root needed): the same bytes and the same
// drop reasons as the TypeScript codec and replay guard (the reference), the relay table's rules of
// speaker/cluster/membership-evidence.ts, and heartbeats that keep their pace while the JavaScript thread is blocked.
import { execFileSync } from "node:child_process";
import { createHmac } from "node:crypto";
import { createSocket, type Socket } from "node:dgram";
import { networkInterfaces } from "node:os";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { eventually } from "../../tools/support/eventually.ts";
import { decodeHeartbeat, decodeVerifiedHeartbeat, encodeHeartbeat, heartbeatKeyOf, type Heartbeat, type HeartbeatKey, type HeartbeatKeys } from "../cluster/heartbeat-message.ts";
import { HeartbeatReplayGuard } from "../cluster/heartbeat-replay-guard.ts";
import { MembershipEvidence, type RelayedCounter } from "../cluster/membership-evidence.ts";
import { freeUdpPort } from "../../test/support/free-port.ts";
import {
  monotonicOffsetMs,
  openNativeHeartbeat,
  type NativeHeartbeatEngine,
  type NativeHeartbeatEvent,
  type NativeHeartbeatOptions,
} from "../cluster/native-heartbeat.ts";

const clusterKey = heartbeatKeyOf(Buffer.from("cluster-key-0123456789abcdef"));
const retiredKey = heartbeatKeyOf(Buffer.from("retired-key-0123456789abcdef"));
const ring = (k: HeartbeatKey): HeartbeatKeys => ({ signing: k, accepted: new Map([[k.idHex, k]]) });
const T0 = 1_700_000_000_000;
const hasIpv6Loopback = Object.values(networkInterfaces()).some((list) => list?.some((a) => a.address === "::1"));

const engines: NativeHeartbeatEngine[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const e of engines.splice(0)) e.close();
  await Promise.all(sockets.splice(0).map((s) => new Promise<void>((r) => s.close(() => r()))));
});

const hrtimeMs = () => Number(process.hrtime.bigint()) / 1e6;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Blocks the JavaScript thread (no timers, no I/O callbacks) for `ms`. */
function blockFor(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // busy
  }
}

interface Harness {
  engine: NativeHeartbeatEngine;
  /** Every event drained so far, oldest first. */
  events: NativeHeartbeatEvent[];
  /** Drains now (e.g. right after blocking the thread). */
  collect(): NativeHeartbeatEvent[];
  of<T extends NativeHeartbeatEvent["type"]>(type: T): Extract<NativeHeartbeatEvent, { type: T }>[];
}

/**
 * An engine that drains into `events` whenever told to; keyed with the cluster key unless `keyed` is false. Unless
 * `decide` is false it takes what it drains in as the speaker does (MembershipEvidence) and tells the engine what
 * that decision took each peer to be (setDecided), so its relays follow, as the speaker's do.
 */
function open(over: Partial<NativeHeartbeatOptions> = {}, keyed = true, decide = true): Harness {
  const events: NativeHeartbeatEvent[] = [];
  const evidence = new MembershipEvidence(over.node ?? "a");
  const collect = () => {
    const drained = engine.drain();
    events.push(...drained);
    if (!decide) return events;
    for (const e of drained) {
      if (e.type !== "heartbeat") continue;
      const hb = decodeVerifiedHeartbeat(e.datagram);
      if (hb) evidence.heartbeat(hb, e.at);
    }
    engine.setDecided([...evidence.peers].map(([node, rec]) => ({ node, startedAt: rec.startedAt, candidate: rec.candidate && rec.leftStartedAt < rec.startedAt })));
    return events;
  };
  const engine = openNativeHeartbeat({
    port: 0,
    peerPort: 9,
    node: "a",
    identity: "a_1",
    startedAt: T0 + 1,
    intervalMs: 60_000,
    relayWithinMs: 1_000,
    stallLimitMs: 60_000,
    onEvents: () => collect(),
    ...over,
  });
  engines.push(engine);
  if (keyed) engine.setKeys(clusterKey, [clusterKey]);
  return { engine, events, collect, of: (type) => events.filter((e) => e.type === type) as never };
}

/** A UDP socket on 127.0.0.1 (or ::1) keeping what it receives. */
async function udpSocket(family: 4 | 6 = 4): Promise<{ socket: Socket; port: number; received: Buffer[] }> {
  const socket = createSocket(family === 4 ? "udp4" : "udp6");
  sockets.push(socket);
  const received: Buffer[] = [];
  socket.on("message", (m) => received.push(m));
  await new Promise<void>((r) => socket.bind(0, family === 4 ? "127.0.0.1" : "::1", () => r()));
  return { socket, port: socket.address().port, received };
}

function send(socket: Socket, datagram: Buffer, port: number, address = "127.0.0.1"): Promise<void> {
  return new Promise((resolve, reject) => socket.send(datagram, port, address, (err) => (err ? reject(err) : resolve())));
}


const heartbeatOf = (over: Partial<Heartbeat> = {}): Heartbeat => ({
  node: "b", identity: "b_1", startedAt: T0, seq: 1, sentAt: Date.now(), leaving: false, candidate: true, apiReachable: true, hears: [], ...over,
});
const encoded = (over: Partial<Heartbeat> = {}, key = clusterKey) => encodeHeartbeat(heartbeatOf(over), key);

/** `bytes` with the MAC recomputed: what a sender holding the key but with a bug would send. */
function resigned(bytes: Buffer, key = clusterKey): Buffer {
  const out = Buffer.from(bytes);
  createHmac("sha256", key.secret).update(out.subarray(0, out.length - 32)).digest().copy(out, out.length - 32);
  return out;
}

/** `encoded(over)` with its node name replaced by `name` (raw bytes), re-signed. */
function withNodeBytes(name: Buffer, over: Partial<Heartbeat> = {}): Buffer {
  const plain = encoded({ node: "b", ...over });
  // node "b" is at offset 30: length 1, then the byte.
  return resigned(Buffer.concat([plain.subarray(0, 30), Buffer.from([name.length]), name, plain.subarray(32)]));
}

/** Sends one heartbeat now and resolves with it as `listener` received it (peers set before, so no race with the first). */
async function sendNowAndReceive(engine: NativeHeartbeatEngine, listener: { received: Buffer[] }): Promise<Heartbeat> {
  const seq = engine.nextSeq();
  engine.sendNow();
  return eventually(() => listener.received.map(decodedOrThrow).find((hb) => hb.seq === seq), { ms: 3_000, what: `heartbeat ${seq} at the listener` });
}

function decodedOrThrow(datagram: Buffer): Heartbeat {
  const d = decodeHeartbeat(datagram, ring(clusterKey));
  if (!d.ok) throw new Error(`not a heartbeat of ours: ${d.reason}`);
  return d.heartbeat;
}

/** What the TypeScript codec and guard say of the last of `datagrams`, received in order. */
function referenceVerdict(datagrams: Buffer[], keyed: boolean): string {
  const guard = new HeartbeatReplayGuard();
  let verdict = "";
  for (const d of datagrams) {
    if (!keyed) {
      verdict = "no-key";
      continue;
    }
    const decoded = decodeHeartbeat(d, ring(clusterKey));
    if (!decoded.ok) verdict = decoded.reason;
    else {
      const admitted = guard.admit(decoded.heartbeat, Date.now());
      verdict = admitted.ok ? "accepted" : admitted.reason;
    }
  }
  return verdict;
}

describe("native heartbeat engine: the wire format of cluster/heartbeat-message.ts", () => {
  it("sends datagrams that the TypeScript codec decodes, byte for byte what encodeHeartbeat makes of the same heartbeat", async () => {
    const listener = await udpSocket();
    const { engine } = open({ node: "nœud-ä", identity: "nœud-ä_7f3a", startedAt: T0 + 42, peerPort: listener.port });
    engine.setPeers(["127.0.0.1"]);
    const before = await sendNowAndReceive(engine, listener);
    expect(before).toMatchObject({ node: "nœud-ä", identity: "nœud-ä_7f3a", startedAt: T0 + 42, leaving: false, candidate: false, apiReachable: false, hears: [] });
    engine.setSelf(true, false);
    const candidate = await sendNowAndReceive(engine, listener);
    expect(candidate).toMatchObject({ candidate: true, apiReachable: false });
    engine.setSelf(false, true);
    const last = await sendNowAndReceive(engine, listener);
    expect(last).toMatchObject({ candidate: false, apiReachable: true });
    expect(before.seq < candidate.seq && candidate.seq < last.seq).toBe(true);
    expect(Math.abs(last.sentAt - Date.now())).toBeLessThan(5_000);
    for (const datagram of listener.received) expect(encodeHeartbeat(decodedOrThrow(datagram), clusterKey).equals(datagram)).toBe(true);
  });

  it("hands on datagrams made by encodeHeartbeat as they arrived, with the sender's address", async () => {
    const client = await udpSocket();
    const { engine, of } = open();
    const datagram = encoded({ hears: [{ node: "c", startedAt: T0, seq: 4, candidate: false, ageMs: 30 }] });
    await send(client.socket, datagram, engine.port);
    const [got] = await eventually(() => of("heartbeat").length > 0 && of("heartbeat"), { ms: 3_000, what: "the heartbeat" });
    expect(got.datagram.equals(datagram)).toBe(true);
    expect(got.from).toBe("127.0.0.1");
  });

  it.skipIf(!hasIpv6Loopback)("hears IPv6 peers on the same dual-stack socket and names them as such", async () => {
    const client = await udpSocket(6);
    const { engine, of } = open();
    await send(client.socket, encoded(), engine.port, "::1");
    const [got] = await eventually(() => of("heartbeat").length > 0 && of("heartbeat"), { ms: 3_000, what: "the heartbeat over IPv6" });
    expect(got.from).toBe("::1");
  });

  // Each case: the datagrams a peer sends in order, and the reason the last one is dropped for.
  const now = () => Date.now();
  const cases: { name: string; datagrams: () => Buffer[]; reason: string; keyed?: boolean }[] = [
    { name: "no key held yet", datagrams: () => [encoded()], reason: "no-key", keyed: false },
    { name: "shorter than the smallest heartbeat", datagrams: () => [encoded().subarray(0, 67)], reason: "bad-length" },
    { name: "a few bytes", datagrams: () => [Buffer.from("hello")], reason: "bad-length" },
    { name: "JSON heartbeat of a speaker before 0.2", datagrams: () => [Buffer.from(JSON.stringify({ node: "b", identity: "b_1", seq: 1, padding: "x".repeat(60) }))], reason: "unknown-format" },
    { name: "version 1", datagrams: () => [resigned(Buffer.concat([encoded().subarray(0, 2), Buffer.from([1]), encoded().subarray(3)]))], reason: "bad-version" },
    { name: "signed with a key we do not hold", datagrams: () => [encoded({}, retiredKey)], reason: "unknown-key" },
    { name: "MAC of another datagram", datagrams: () => { const d = encoded(); d[d.length - 1] ^= 1; return [d]; }, reason: "bad-mac" },
    { name: "a field changed after signing", datagrams: () => { const d = encoded(); d[29] ^= 1; return [d]; }, reason: "bad-mac" },
    { name: "unknown flag bit", datagrams: () => { const d = encoded(); d[3] |= 0x08; return [resigned(d)]; }, reason: "malformed" },
    { name: "empty node name", datagrams: () => [withNodeBytes(Buffer.alloc(0))], reason: "malformed" },
    { name: "overlong UTF-8 in the node name", datagrams: () => [withNodeBytes(Buffer.from([0xc0, 0xaf]))], reason: "malformed" },
    { name: "a UTF-16 surrogate in the node name", datagrams: () => [withNodeBytes(Buffer.from([0x62, 0xed, 0xa0, 0x80]))], reason: "malformed" },
    { name: "truncated UTF-8 in the node name", datagrams: () => [withNodeBytes(Buffer.from([0x62, 0xe2, 0x82]))], reason: "malformed" },
    { name: "a code point above U+10FFFF", datagrams: () => [withNodeBytes(Buffer.from([0xf4, 0x90, 0x80, 0x80]))], reason: "malformed" },
    {
      name: "invalid UTF-8 in a hears entry's name",
      datagrams: () => {
        const d = encoded({ hears: [{ node: "c", startedAt: T0, seq: 1, candidate: false, ageMs: 0 }] });
        d[30 + 2 + 4 + 2 + 1] = 0xff; // node "b", identity "b_1", count, then the entry's length byte and "c"
        return [resigned(d)];
      },
      reason: "malformed",
    },
    {
      name: "unknown flag bit in a hears entry",
      datagrams: () => {
        const d = encoded({ hears: [{ node: "c", startedAt: T0, seq: 1, candidate: true, ageMs: 0 }] });
        d[d.length - 33] |= 0x02;
        return [resigned(d)];
      },
      reason: "malformed",
    },
    { name: "more hears entries than it carries", datagrams: () => { const d = encoded(); d[d.length - 33] = 1; return [resigned(d)]; }, reason: "malformed" },
    { name: "bytes after the last entry", datagrams: () => { const d = encoded(); return [resigned(Buffer.concat([d.subarray(0, d.length - 32), Buffer.from([0]), d.subarray(d.length - 32)]))]; }, reason: "malformed" },
    { name: "the same datagram twice", datagrams: () => { const d = encoded({ seq: 7 }); return [d, d]; }, reason: "replayed" },
    { name: "an older seq of the same process", datagrams: () => [encoded({ seq: 7 }), encoded({ seq: 6 })], reason: "replayed" },
    { name: "an older process of the node", datagrams: () => [encoded({ identity: "b_2", startedAt: T0 + 5 }), encoded({ identity: "b_1", startedAt: T0, seq: 99 })], reason: "replayed" },
    { name: "sent 61 s ago", datagrams: () => [encoded({ sentAt: now() - 61_000 })], reason: "stale" },
    { name: "sent 61 s from now", datagrams: () => [encoded({ sentAt: now() + 61_000 })], reason: "stale" },
  ];
  for (const c of cases) {
    it(`drops ${c.name} as ${c.reason}, as the TypeScript codec and guard do`, async () => {
      const datagrams = c.datagrams();
      expect(referenceVerdict(datagrams, c.keyed ?? true)).toBe(c.reason);
      const client = await udpSocket();
      const { engine, of, events } = open({}, c.keyed ?? true);
      for (const d of datagrams) await send(client.socket, d, engine.port);
      await eventually(() => of("heartbeat").length + of("drop").length === datagrams.length, { ms: 3_000, what: "a verdict on every datagram", detail: () => JSON.stringify(events) });
      const drops = of("drop");
      expect(drops.map((d) => d.reason)).toEqual([c.reason]);
      expect(drops[0].from).toBe("127.0.0.1");
    });
  }

  it("words the replay guard's drops as the TypeScript guard does", async () => {
    const client = await udpSocket();
    const { engine, of } = open();
    const sentAt = Date.now() - 90_000;
    const datagrams = [encoded({ seq: 7 }), encoded({ seq: 7 }), encoded({ identity: "b_0", startedAt: T0 - 1, seq: 9 }), encoded({ seq: 8, sentAt })];
    for (const d of datagrams) await send(client.socket, d, engine.port);
    await eventually(() => of("drop").length === 3, { ms: 3_000, what: "three drops" });
    const guard = new HeartbeatReplayGuard();
    const expected = datagrams.map((d) => guard.admit(decodedOrThrow(d), Date.now())).flatMap((v) => (v.ok ? [] : [v.detail]));
    // The stale detail names the skew to 0.1 s, measured a moment apart: compare all but that number.
    const masked = (s: string | undefined) => s?.replace(/sent [\d.]+ s/, "sent N s");
    expect(of("drop").map((d) => masked(d.detail))).toEqual(expected.map(masked));
    expect(of("drop")[2].detail).toMatch(/^heartbeat from b was sent (89|90|91)\.\d s before our wall clock; node clocks must agree within 60 s/);
  });

  it("judges node names as strict UTF-8 exactly as TextDecoder (fatal) does", async () => {
    const strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
    const interesting = [0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xe1, 0xec, 0xed, 0xee, 0xef, 0xf0, 0xf1, 0xf3, 0xf4, 0xf5, 0xfe, 0xff];
    const curated = [
      [0xc2, 0x80], [0xdf, 0xbf], [0xe0, 0xa0, 0x80], [0xe0, 0x9f, 0xbf], [0xed, 0x9f, 0xbf], [0xed, 0xbf, 0xbf], [0xee, 0x80, 0x80],
      [0xef, 0xbb, 0xbf], [0xef, 0xbf, 0xbf], [0xf0, 0x90, 0x80, 0x80], [0xf0, 0x8f, 0xbf, 0xbf], [0xf4, 0x8f, 0xbf, 0xbf], [0xf0, 0x9f, 0x98],
      [0x80], [0xc1, 0xbf], [0x61, 0xe2, 0x82, 0xac, 0x62],
    ];
    // A seeded generator: the same 300 names on every run.
    let seed = 12345;
    const random = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    const randomBytes = Array.from({ length: 150 }, () => Array.from({ length: 1 + random(5) }, () => interesting[random(interesting.length)]));
    // Real characters of every encoded length, some with one byte changed or cut short.
    const codePoints = [0x41, 0xe9, 0x7ff, 0x800, 0xd7ff, 0xe000, 0xfeff, 0xffff, 0x10000, 0x1f600, 0x10ffff];
    const characters = Array.from({ length: 150 }, () => {
      const bytes = [...Buffer.from(String.fromCodePoint(codePoints[random(codePoints.length)], codePoints[random(codePoints.length)]))];
      const mutation = random(4);
      if (mutation === 1) bytes[random(bytes.length)] = interesting[random(interesting.length)];
      if (mutation === 2) bytes.length = 1 + random(bytes.length);
      return bytes;
    });
    const names = [...curated, ...randomBytes, ...characters].map((bytes) => Buffer.from(bytes));
    const valid = (name: Buffer) => {
      try {
        strict.decode(name);
        return true;
      } catch {
        return false;
      }
    };
    expect(names.filter(valid).length).toBeGreaterThan(20);
    expect(names.filter((n) => !valid(n)).length).toBeGreaterThan(20);

    const client = await udpSocket();
    const { engine, of, events } = open();
    // Each its own seq, so that a valid name seen twice is not a replay.
    for (const [i, name] of names.entries()) await send(client.socket, withNodeBytes(name, { seq: i + 1 }), engine.port);
    const verdicts = () => events.filter((e) => e.type === "heartbeat" || e.type === "drop");
    await eventually(() => verdicts().length === names.length, { ms: 5_000, what: "a verdict on every name" });
    // Loopback keeps the order; a name that is our own node's ("a") would be ignored, and none is.
    expect(verdicts().map((e) => (e.type === "heartbeat" ? "accepted" : e.reason))).toEqual(names.map((n) => (valid(n) ? "accepted" : "malformed")));
  });
});

describe("native heartbeat engine: the relay table of cluster/membership-evidence.ts", () => {
  /** Engine "a" sending to a listener only when told (sendNow), and a client to feed it heartbeats. */
  async function relayRig(over: Partial<NativeHeartbeatOptions> = {}) {
    const listener = await udpSocket();
    const client = await udpSocket();
    const h = open({ peerPort: listener.port, ...over });
    h.engine.setPeers(["127.0.0.1"]);
    const hear = async (...datagrams: Buffer[]) => {
      const before = h.of("heartbeat").length + h.of("drop").length;
      for (const d of datagrams) await send(client.socket, d, h.engine.port);
      await eventually(() => h.of("heartbeat").length + h.of("drop").length === before + datagrams.length, { ms: 3_000, what: "the heartbeats heard" });
    };
    /** What a's next heartbeat relays, by node. */
    const relays = async (): Promise<Map<string, RelayedCounter>> =>
      new Map((await sendNowAndReceive(h.engine, listener)).hears.map((r) => [r.node, r]));
    return { ...h, hear, relays, listener };
  }

  it("relays the sender and what the sender relays, ages carried along, but neither us nor the sender's word on itself", async () => {
    const rig = await relayRig();
    const c: RelayedCounter = { node: "c", startedAt: T0 + 3, seq: 9, candidate: false, ageMs: 300 };
    const heardAt = performance.now();
    await rig.hear(
      encoded({
        seq: 5, candidate: true,
        hears: [c, { node: "a", startedAt: T0 + 1, seq: 1, candidate: true, ageMs: 0 }, { node: "b", startedAt: T0, seq: 99, candidate: false, ageMs: 0 }],
      }),
    );
    const relays = await rig.relays();
    const elapsed = performance.now() - heardAt;
    expect([...relays.keys()].sort()).toEqual(["b", "c"]);
    expect(relays.get("b")).toMatchObject({ startedAt: T0, seq: 5, candidate: true });
    expect(relays.get("b")!.ageMs).toBeLessThanOrEqual(Math.ceil(elapsed));
    expect(relays.get("c")).toMatchObject({ startedAt: T0 + 3, seq: 9, candidate: false });
    expect(relays.get("c")!.ageMs).toBeGreaterThanOrEqual(300);
    expect(relays.get("c")!.ageMs).toBeLessThanOrEqual(300 + Math.ceil(elapsed));
  });

  it("relays only counters learned within relayWithinMs, and never an older counter over a newer one", async () => {
    const rig = await relayRig({ relayWithinMs: 1_000 });
    await rig.hear(
      encoded({
        seq: 1,
        hears: [
          { node: "old", startedAt: T0, seq: 3, candidate: true, ageMs: 1_500 },
          { node: "c", startedAt: T0 + 3, seq: 9, candidate: true, ageMs: 10 },
        ],
      }),
      encoded({ seq: 2, hears: [{ node: "c", startedAt: T0 + 3, seq: 8, candidate: false, ageMs: 0 }, { node: "c2", startedAt: 0, seq: 0, candidate: false, ageMs: 0 }] }),
    );
    const relays = await rig.relays();
    expect(relays.has("old")).toBe(false);
    expect(relays.get("c")).toMatchObject({ seq: 9, candidate: true });
    expect(relays.get("c2")).toMatchObject({ startedAt: 0, seq: 0 });
  });

  it("takes a newer incarnation of a peer in place of the old one", async () => {
    const rig = await relayRig();
    await rig.hear(encoded({ seq: 50 }));
    expect((await rig.relays()).get("b")).toMatchObject({ startedAt: T0, seq: 50 });
    await rig.hear(encoded({ identity: "b_2", startedAt: T0 + 1_000, seq: 1, candidate: false }));
    expect((await rig.relays()).get("b")).toMatchObject({ startedAt: T0 + 1_000, seq: 1, candidate: false });
    // A peer still relaying the old incarnation does not bring it back.
    await rig.hear(encoded({ node: "d", identity: "d_1", hears: [{ node: "b", startedAt: T0, seq: 60, candidate: true, ageMs: 0 }] }));
    expect((await rig.relays()).get("b")).toMatchObject({ startedAt: T0 + 1_000, seq: 1 });
  });

  it("stops relaying a peer that said it is leaving, and nothing relayed about that incarnation revives it; its next start does", async () => {
    const rig = await relayRig();
    await rig.hear(encoded({ seq: 1 }));
    expect((await rig.relays()).has("b")).toBe(true);
    await rig.hear(encoded({ seq: 2, leaving: true }));
    expect((await rig.relays()).has("b")).toBe(false);
    await rig.hear(encoded({ node: "d", identity: "d_1", hears: [{ node: "b", startedAt: T0, seq: 3, candidate: true, ageMs: 0 }] }));
    const relays = await rig.relays();
    expect(relays.has("b")).toBe(false);
    expect(relays.has("d")).toBe(true);
    await rig.hear(encoded({ identity: "b_2", startedAt: T0 + 2_000, seq: 1 }));
    expect((await rig.relays()).get("b")).toMatchObject({ startedAt: T0 + 2_000, seq: 1 });
  });

  it("relays a peer's counter only as of its newest heartbeat that the last decision agrees with: a new incarnation or candidacy waits for the next decision", async () => {
    const listener = await udpSocket();
    const client = await udpSocket();
    const h = open({ peerPort: listener.port }, true, false);
    h.engine.setPeers(["127.0.0.1"]);
    const hear = async (d: Buffer) => {
      const before = h.of("heartbeat").length;
      await send(client.socket, d, h.engine.port);
      await eventually(() => h.collect().filter((e) => e.type === "heartbeat").length === before + 1, { ms: 3_000, what: "the heartbeat heard" });
    };
    const relayOfB = async () => (await sendNowAndReceive(h.engine, listener)).hears.find((r) => r.node === "b");
    await hear(encoded({ seq: 5, candidate: false }));
    expect(await relayOfB()).toBeUndefined(); // no decision has taken b in yet: no acknowledgement runs ahead of it
    h.engine.setDecided([{ node: "b", startedAt: T0, candidate: false }]);
    expect(await relayOfB()).toMatchObject({ startedAt: T0, seq: 5, candidate: false });
    await hear(encoded({ seq: 6, candidate: false }));
    expect(await relayOfB()).toMatchObject({ seq: 6 }); // agrees with the decision: relayed fresh at once
    await hear(encoded({ seq: 7, candidate: true }));
    expect(await relayOfB()).toMatchObject({ seq: 6, candidate: false }); // b became a candidate: waits for a decision
    h.engine.setDecided([{ node: "b", startedAt: T0, candidate: true }]);
    expect(await relayOfB()).toMatchObject({ seq: 7, candidate: true });
    await hear(encoded({ identity: "b_2", startedAt: T0 + 1_000, seq: 1, candidate: true }));
    expect(await relayOfB()).toMatchObject({ startedAt: T0, seq: 7 }); // a new incarnation: not acknowledged before a decision
    h.engine.setDecided([{ node: "b", startedAt: T0 + 1_000, candidate: true }]);
    expect(await relayOfB()).toMatchObject({ startedAt: T0 + 1_000, seq: 1, candidate: true });
  });

  it("sends a heartbeat too large for all it would relay with the most recently learned entries that fit, and says so once", async () => {
    const rig = await relayRig();
    const longName = (prefix: string, i: number) => `${prefix}${String(i).padStart(4, "0")}`.padEnd(253, "x");
    const relayed = (prefix: string, ageMs: number) => Array.from({ length: 200 }, (_, i) => ({ node: longName(prefix, i), startedAt: T0, seq: 1, candidate: false, ageMs }));
    // 200 entries of 271 bytes each: 54,200 bytes, within one datagram; 400 are not.
    await rig.hear(encoded({ node: "b", hears: relayed("old-", 500) }), encoded({ node: "c", identity: "c_1", hears: relayed("new-", 0) }));
    const first = await rig.relays();
    const second = await rig.relays();
    const errors = rig.of("error");
    expect(errors).toHaveLength(1);
    expect(errors[0].message).toMatch(/^heartbeat of \d+ bytes with 402 entries in hears is over the 65507-byte limit of one UDP datagram/);
    const fitting = Math.floor((65_507 - (30 + 2 + 4 + 2 + 32) - 2 * 19) / 271) + 2; // b and c (19 bytes each), then long names
    expect(first.size).toBe(fitting);
    expect(second.size).toBe(fitting);
    for (let i = 0; i < 200; i++) expect(first.has(longName("new-", i))).toBe(true);
    expect(rig.listener.received.at(-1)!.length).toBeLessThanOrEqual(65_507);
  });
});

describe("native heartbeat engine: sending", () => {
  it("lets two engines hear each other, each acknowledging the other's latest seq in its hears", async () => {
    const portB = await freeUdpPort();
    const a = open({ node: "a", identity: "a_1", intervalMs: 20, peerPort: portB });
    const b = open({ node: "b", identity: "b_1", startedAt: T0 + 2, port: portB, intervalMs: 20, peerPort: a.engine.port });
    a.engine.setPeers(["127.0.0.1"]);
    b.engine.setPeers(["::ffff:127.0.0.1"]);
    /** A heartbeat `h` received that relays `h`'s own counter back: the other engine heard it. */
    const acked = (h: Harness, self: string) =>
      h.of("heartbeat").map((e) => decodedOrThrow(e.datagram)).find((hb) => hb.hears.some((r) => r.node === self && r.seq > 1));
    const ackOfA = await eventually(() => acked(a, "a"), { ms: 3_000, what: "b's heartbeat acknowledging a" });
    const ackOfB = await eventually(() => acked(b, "b"), { ms: 3_000, what: "a's heartbeat acknowledging b" });
    expect(ackOfA.node).toBe("b");
    expect(ackOfB.node).toBe("a");
    a.engine.feed();
    b.engine.feed();
    // Each acknowledges a seq the other really sent, of its current incarnation.
    const sentA = a.of("sent").map((s) => s.seq);
    const sentB = b.of("sent").map((s) => s.seq);
    expect(sentA).toContain(ackOfA.hears.find((r) => r.node === "a")!.seq);
    expect(ackOfA.hears.find((r) => r.node === "a")!.startedAt).toBe(T0 + 1);
    expect(sentB).toContain(ackOfB.hears.find((r) => r.node === "b")!.seq);
    expect(a.of("heartbeat")[0].from).toBe("127.0.0.1");
    expect(a.of("error")).toEqual([]);
  });

  it("stamps received and sent heartbeats on the monotonic clock of process.hrtime", async () => {
    const client = await udpSocket();
    const { engine, of } = open();
    const before = hrtimeMs();
    await send(client.socket, encoded(), engine.port);
    const seq = engine.nextSeq();
    engine.sendNow();
    const sent = await eventually(() => of("heartbeat").length === 1 && of("sent").find((s) => s.seq === seq), { ms: 3_000, what: "a heartbeat received and one sent" });
    const after = hrtimeMs();
    for (const at of [of("heartbeat")[0].at, sent.at]) {
      expect(at).toBeGreaterThanOrEqual(before);
      expect(at).toBeLessThanOrEqual(after);
    }
    const offset = monotonicOffsetMs();
    expect(Math.abs(hrtimeMs() - offset - performance.now())).toBeLessThan(5);
  });

  it("numbers heartbeats 1, 2, 3, … across periodic, sendNow and leaving sends, and nextSeq says the next one", async () => {
    const listener = await udpSocket();
    const { engine, of } = open({ intervalMs: 5, peerPort: listener.port });
    engine.setPeers(["127.0.0.1"]);
    const seqs: number[] = [];
    for (let i = 0; i < 20; i++) {
      const next = engine.nextSeq();
      engine.setSelf(i % 2 === 0, true);
      engine.sendNow();
      seqs.push(next);
      await sleep(2);
    }
    engine.sendLeaving();
    await eventually(() => of("sent").at(-1)?.leaving, { ms: 3_000, what: "the leaving heartbeat reported sent" });
    const sent = of("sent").map((s) => s.seq);
    expect(sent).toEqual(Array.from({ length: sent.length }, (_, i) => i + 1));
    expect(sent.length).toBeGreaterThan(21);
    for (const seq of seqs) expect(sent).toContain(seq);
    expect(engine.nextSeq()).toBe(sent.length + 1);
    // Each sendNow carried the flags set just before it.
    for (const [i, seq] of seqs.entries()) expect(of("sent").find((s) => s.seq === seq)!.candidate).toBe(i % 2 === 0);
    await eventually(() => listener.received.length === sent.length, { ms: 3_000, what: "every heartbeat at the listener" });
  });

  it("says leaving from sendLeaving on, and sends no periodic heartbeats after it", async () => {
    const listener = await udpSocket();
    const { engine, of, collect } = open({ intervalMs: 10, peerPort: listener.port });
    engine.setPeers(["127.0.0.1"]);
    await eventually(() => listener.received.length >= 2, { ms: 3_000, what: "two periodic heartbeats" });
    engine.sendLeaving();
    collect();
    const count = of("sent").length;
    await sleep(60);
    engine.sendNow();
    await eventually(() => listener.received.length >= of("sent").length && of("sent").length === count + 1, { ms: 3_000, what: "the sendNow heartbeat" });
    const leaving = listener.received.map(decodedOrThrow).filter((hb) => hb.leaving).map((hb) => hb.seq);
    const sentLeaving = of("sent").filter((s) => s.leaving).map((s) => s.seq);
    expect(sentLeaving).toHaveLength(2);
    expect(leaving.sort((x, y) => x - y)).toEqual(sentLeaving);
  });

  it("sends nothing and consumes no seq without a key, and its first heartbeat as soon as it has one", async () => {
    const listener = await udpSocket();
    const client = await udpSocket();
    const { engine, of } = open({ intervalMs: 10_000, peerPort: listener.port }, false);
    engine.setPeers(["127.0.0.1"]);
    engine.sendNow();
    await sleep(50);
    expect(engine.nextSeq()).toBe(1);
    expect(listener.received).toEqual([]);
    await send(client.socket, encoded(), engine.port);
    await eventually(() => of("drop").length === 1, { ms: 3_000, what: "the no-key drop" });
    const keyedAt = performance.now();
    engine.setKeys(clusterKey, [clusterKey]);
    await eventually(() => listener.received.length === 1, { ms: 1_000, what: "the first heartbeat" });
    expect(performance.now() - keyedAt).toBeLessThan(1_000);
    expect(decodedOrThrow(listener.received[0]).seq).toBe(1);
    engine.setKeys(null, []);
    engine.sendNow();
    await sleep(30);
    expect(listener.received).toHaveLength(1);
  });

  it("takes a key that comes after the stall limit as JavaScript running, not as the end of a stall", async () => {
    const listener = await udpSocket();
    const { engine, of } = open({ intervalMs: 10, stallLimitMs: 50, peerPort: listener.port }, false);
    engine.feed();
    await sleep(120);
    engine.setKeys(clusterKey, [clusterKey]);
    engine.setPeers(["127.0.0.1"]);
    await eventually(() => (engine.feed(), listener.received.length >= 3), { ms: 3_000, what: "periodic heartbeats" });
    expect(of("stalled")).toEqual([]);
    expect(of("resumed")).toEqual([]);
  });

  it("keeps sending at its interval while the JavaScript thread is blocked, stamped by the receiving engine's thread", async () => {
    const portB = await freeUdpPort();
    const a = open({ node: "a", intervalMs: 20, peerPort: portB, stallLimitMs: 2_000 });
    const b = open({ node: "b", identity: "b_1", port: portB, intervalMs: 60_000, stallLimitMs: 60_000 });
    a.engine.setPeers(["127.0.0.1"]);
    await eventually(() => b.of("heartbeat").length >= 2, { ms: 3_000, what: "a's heartbeats at b" });
    const blockedFrom = hrtimeMs();
    blockFor(400);
    const blockedTo = hrtimeMs();
    a.engine.feed();
    b.collect();
    const during = b.of("heartbeat").map((e) => e.at).filter((at) => at >= blockedFrom && at <= blockedTo);
    const gaps = during.slice(1).map((at, i) => Math.round(at - during[i]));
    // 20 expected, 20 ms apart; a machine busy with other tests may delay a few. A thread that waited for the
    // event loop would deliver none.
    expect(during.length, `gaps ${gaps.join(", ")} ms`).toBeGreaterThanOrEqual(10);
    expect(Math.max(...gaps), `gaps ${gaps.join(", ")} ms`).toBeLessThan(120);
    expect(a.collect().filter((e) => e.type === "stalled")).toEqual([]);
  });

  it("stops sending once JavaScript has been silent for the stall limit, says so, and resumes on the next feed", async () => {
    const portB = await freeUdpPort();
    const a = open({ node: "a", intervalMs: 20, peerPort: portB, stallLimitMs: 150 });
    const b = open({ node: "b", identity: "b_1", port: portB, intervalMs: 60_000, stallLimitMs: 60_000 });
    a.engine.setPeers(["127.0.0.1"]);
    await eventually(() => (a.engine.feed(), b.of("heartbeat").length >= 2), { ms: 3_000, what: "a's heartbeats at b" });
    a.engine.feed();
    const blockedFrom = hrtimeMs();
    blockFor(500);
    const blockedTo = hrtimeMs();
    b.collect();
    const during = b.of("heartbeat").map((e) => e.at).filter((at) => at >= blockedFrom);
    expect(during.length).toBeGreaterThanOrEqual(4);
    expect(Math.max(...during) - blockedFrom).toBeLessThan(150 + 20 + 40);
    expect(blockedTo - Math.max(...during)).toBeGreaterThan(250);
    const stalled = a.collect().filter((e) => e.type === "stalled");
    expect(stalled).toHaveLength(1);
    expect(stalled[0].ms).toBeGreaterThan(150);
    a.engine.feed();
    const fedAt = hrtimeMs();
    const resumed = a.collect().filter((e) => e.type === "resumed");
    expect(resumed).toHaveLength(1);
    expect(resumed[0].stalledMs).toBeGreaterThanOrEqual(490);
    await eventually(() => b.of("heartbeat").some((e) => e.at > fedAt), { ms: 1_000, what: "a heartbeat after resuming" });
    expect(a.of("stalled")).toHaveLength(1);
  });

  it("keeps at most 65,536 events for JavaScript and says how many it dropped", async () => {
    const h = open({}, true);
    const engine = h.engine;
    // No peers: each sendNow queues one "sent" event; nobody drains while this loop runs.
    for (let i = 0; i < 66_000; i++) engine.sendNow();
    const events = engine.drain();
    const sent = engine.nextSeq() - 1; // the sendNow ones and the first periodic one, which nobody drained either
    expect(events).toHaveLength(65_537);
    expect(events.at(-1)).toEqual({ type: "error", message: expect.stringMatching(new RegExp(`^heartbeat event queue full: ${sent - 65_536} events dropped`)) });
    engine.sendNow();
    await eventually(() => h.of("sent").length > 0, { ms: 3_000, what: "onEvents again after the overflow" });
  });
});

describe("native heartbeat engine: lifecycle and arguments", () => {
  it("closes idempotently; every other method then throws, and port still says which port it had", () => {
    const { engine } = open();
    const port = engine.port;
    expect(port).toBeGreaterThan(0);
    engine.close();
    engine.close();
    expect(engine.port).toBe(port);
    const calls: [string, () => unknown][] = [
      ["setKeys", () => engine.setKeys(null, [])],
      ["setPeers", () => engine.setPeers([])],
      ["setSelf", () => engine.setSelf(true, true)],
      ["feed", () => engine.feed()],
      ["nextSeq", () => engine.nextSeq()],
      ["sendNow", () => engine.sendNow()],
      ["sendLeaving", () => engine.sendLeaving()],
      ["drain", () => engine.drain()],
    ];
    for (const [, call] of calls) expect(call).toThrow("heartbeat engine is closed");
  });

  it("refuses a port already in use with a message that names the flag", async () => {
    const taken = createSocket({ type: "udp6", ipv6Only: false });
    sockets.push(taken);
    await new Promise<void>((r) => taken.bind(0, "::", () => r()));
    const port = taken.address().port;
    let error: NodeJS.ErrnoException | undefined;
    try {
      open({ port });
    } catch (err) {
      error = err as NodeJS.ErrnoException;
    }
    expect(error?.message).toBe(`heartbeat port ${port}/udp is already in use on this node; pick another with --heartbeat-port (all speakers must agree)`);
    expect(error?.code).toBe("EADDRINUSE");
    const { engine } = open();
    expect(() => open({ port: engine.port })).toThrow(/already in use/);
  });

  it("refuses a peer that is not an address, naming it, and keeps the peers it had", async () => {
    const listener = await udpSocket();
    const { engine } = open({ peerPort: listener.port });
    engine.setPeers(["127.0.0.1"]);
    expect(() => engine.setPeers(["10.0.0.1", "node-b"])).toThrow(TypeError);
    expect(() => engine.setPeers(["10.0.0.1", "node-b"])).toThrow('setPeers: addresses[1] is "node-b", not an IPv4 or IPv6 address');
    expect(() => engine.setPeers(["10.0.0.1", 7 as unknown as string])).toThrow("addresses[1] is 7");
    await sendNowAndReceive(engine, listener); // still to 127.0.0.1
    await sendNowAndReceive(engine, listener);
    engine.setPeers(["fd00::1", "fe80::1%1", "::ffff:10.0.0.1"]); // all valid
    engine.setPeers(["127.0.0.1"]);
    await sendNowAndReceive(engine, listener);
  });

  it("refuses options out of range, naming them", () => {
    expect(() => open({ intervalMs: 0 })).toThrow("heartbeat engine: intervalMs must be a number >= 1, got 0");
    expect(() => open({ port: 70_000 })).toThrow("heartbeat engine: port must be an integer from 0 to 65535, got 70000");
    expect(() => open({ node: "" })).toThrow("heartbeat node must be 1 to 253 bytes of UTF-8, got 0");
    expect(() => open({ startedAt: -1 })).toThrow(/startedAt must be an integer from 0 to/);
    expect(() => open({ freshnessMs: 400_000 })).toThrow(
      "heartbeat senders must be remembered at least twice the freshness window (800000 ms), got 600000 ms",
    );
    expect(() => open({ onEvents: undefined as unknown as () => void })).toThrow("onEvents must be a function");
    expect(() => open().engine.setKeys({ id: Buffer.alloc(7), secret: Buffer.alloc(16) }, [])).toThrow(/signing\.id must be the key's 8-byte id/);
  });

  // Child processes load the addon itself (plain JavaScript, whichever node runs the tests).
  const addonPath = JSON.stringify(fileURLToPath(new URL("./build/Release/packet_socket.node", import.meta.url)));
  const childPrelude = `
    import { createRequire } from "node:module";
    const { HeartbeatEngine } = createRequire(${addonPath})(${addonPath});
    const key = { id: Buffer.alloc(8), secret: Buffer.alloc(16) };
    const open = (node, peerPort = 9) => {
      const engine = new HeartbeatEngine({ port: 0, peerPort, node, identity: node + "_1", startedAt: 1, intervalMs: 1,
        relayWithinMs: 1000, stallLimitMs: 60000, onEvents: () => engine.drain() });
      engine.setKeys(key, [key]);
      return engine;
    };
  `;
  const runChild = (script: string, ...args: string[]) =>
    execFileSync(process.execPath, ["--input-type=module", "-e", childPrelude + script, ...args], { timeout: 20_000, encoding: "utf8" }).trim();

  it("lets workers and a process that never close their engines exit cleanly, terminated or not", () => {
    const script = `
      import { Worker } from "node:worker_threads";
      open("a").setPeers(["127.0.0.1"]);
      const worker = (extra) => new Worker(new URL("data:text/javascript," + encodeURIComponent(${JSON.stringify(childPrelude)} + 'open("w").setPeers(["127.0.0.1"]);' + extra)));
      for (let i = 0; i < 5; i++) {
        const w = worker('(await import("node:worker_threads")).parentPort.postMessage("open"); setInterval(() => {}, 5);');
        await new Promise((r) => w.once("message", r));
        await new Promise((r) => setTimeout(r, 10));
        await w.terminate();
      }
      await new Promise((r) => worker("").once("exit", r));
      setTimeout(() => console.log("done"), 20);
    `;
    expect(runChild(script)).toBe("done");
  });

  it("lets process.exit() end a process whose engines are busy signing and verifying", () => {
    // OpenSSL's exit cleanup must not pull the HMAC from under an engine's thread (a rare crash, so several runs).
    const script = `
      const a = open("a");
      const b = open("b", a.port);
      b.setPeers(Array(100).fill("127.0.0.1"));
      setInterval(() => b.feed(), 2);
      setTimeout(() => { console.log("exiting"); process.exit(0); }, Number(process.argv[1] ?? 20));
    `;
    for (const ms of [5, 12, 20, 27, 35, 42]) expect(runChild(script, String(ms))).toBe("exiting");
  });
});
