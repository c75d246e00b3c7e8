import { createSocket, type Socket } from "node:dgram";
import { afterEach, describe, expect, expectTypeOf, it } from "vitest";
import { eventually } from "../../tools/support/eventually.ts";
import { openHeartbeatChannel, type HeartbeatChannel, type HeartbeatChannelOptions, type HeartbeatDropReason } from "./heartbeat-channel.ts";
import { decodeHeartbeat, encodeHeartbeat, heartbeatKeyOf, type Heartbeat, type HeartbeatBody, type HeartbeatKey, type HeartbeatKeys } from "./heartbeat-message.ts";
import { MembershipEvidence, type HeartbeatEvidence, type RelayedCounter } from "./membership-evidence.ts";
import { freeUdpPort } from "../../test/support/free-port.ts";

const clusterKey = heartbeatKeyOf(Buffer.from("cluster-key-0123456789abcdef"));
const oldKey = heartbeatKeyOf(Buffer.from("retired-key-0123456789abcdef"));
const ring = (k: HeartbeatKey): HeartbeatKeys => ({ signing: k, accepted: new Map([[k.idHex, k]]) });
const relayedB: RelayedCounter = { node: "b", startedAt: 1_699_999_000_000, seq: 17, candidate: true, ageMs: 40 };
const body: HeartbeatBody = { leaving: false, candidate: true, apiReachable: true, hears: [relayedB] };
/** Blocks the event loop, as a long garbage collection does. */
function stallEventLoop(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // busy
  }
}

const channels: HeartbeatChannel[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  await Promise.all(channels.splice(0).map((c) => c.close()));
  await Promise.all(sockets.splice(0).map((s) => new Promise<void>((r) => s.close(() => r()))));
});

/** A UDP socket on 127.0.0.1 (a free port), keeping what it receives. */
async function udpSocket(): Promise<{ socket: Socket; port: number; received: Buffer[] }> {
  const socket = createSocket("udp4");
  sockets.push(socket);
  const received: Buffer[] = [];
  socket.on("message", (m) => received.push(m));
  await new Promise<void>((r) => socket.bind(0, "127.0.0.1", () => r()));
  return { socket, port: socket.address().port, received };
}


/**
 * A channel with a long interval (so only its first heartbeat and sendNow() send) that records what it gets and,
 * as the speaker does, takes each batch in as evidence and tells the channel what that decision took each peer to be.
 */
async function channel(over: Partial<HeartbeatChannelOptions> & Pick<HeartbeatChannelOptions, "node" | "port">) {
  const got: { hb: HeartbeatEvidence & Heartbeat; from: string; at: number }[] = [];
  const drops: HeartbeatDropReason[] = [];
  const details: string[] = [];
  const errors: Error[] = [];
  const evidence = new MembershipEvidence(over.node);
  let decide = () => {};
  const ch = await openHeartbeatChannel({
    identity: `${over.node}_1`,
    startedAt: 1_700_000_000_000,
    intervalMs: 60_000,
    relayWithinMs: 600,
    stallLimitMs: 120_000,
    peers: () => [],
    keys: () => ring(clusterKey),
    onHeartbeat: (hb, from, at) => {
      got.push({ hb, from, at });
      evidence.heartbeat(hb, at);
    },
    onBatch: () => decide(),
    onDrop: (reason, detail) => {
      drops.push(reason);
      details.push(detail.message);
    },
    onError: (err) => errors.push(err),
    ...over,
  });
  decide = () => ch.setDecided([...evidence.peers].map(([node, rec]) => ({ node, startedAt: rec.startedAt, candidate: rec.candidate && rec.leftStartedAt < rec.startedAt })));
  channels.push(ch);
  return { ch, port: over.port, got, drops, details, errors };
}

function send(socket: Socket, datagram: Buffer, port: number): Promise<void> {
  return new Promise((r) => socket.send(datagram, port, "127.0.0.1", () => r()));
}

const genuine = (over: Partial<Heartbeat>): Heartbeat => ({ node: "c", identity: "c_1", startedAt: 1_700_000_000_000, seq: 1, sentAt: Date.now(), ...body, ...over });

/** A datagram our channels sent, decoded. */
function decoded(datagram: Buffer): Heartbeat {
  const d = decodeHeartbeat(datagram, ring(clusterKey));
  if (!d.ok) throw new Error(`not a heartbeat of ours: ${d.reason}`);
  return d.heartbeat;
}

describe("heartbeat channel over loopback", () => {
  it("hands on heartbeats that membership takes as evidence", () => {
    expectTypeOf<Parameters<HeartbeatChannelOptions["onHeartbeat"]>[0]>().toExtend<HeartbeatEvidence>();
  });

  it("gives every heartbeat, leaving ones included, its own seq, reported once per heartbeat after its datagrams went to every peer, saying what setSelf said", async () => {
    const listener = await udpSocket();
    const sent: { seq: number; candidate: boolean; at: number }[] = [];
    const before = performance.now();
    const d = await channel({
      node: "d", port: await freeUdpPort(), peerPort: listener.port, peers: () => ["127.0.0.1", "127.0.0.1"],
      onSent: (seq, at, candidate) => sent.push({ seq, candidate, at }),
    });
    // The first heartbeat goes out at start, before setSelf: not a candidate.
    await eventually(() => sent.length === 1, { ms: 3_000, what: "the first heartbeat reported sent", everyMs: 5 });
    d.ch.setSelf(true, true);
    expect(d.ch.nextSeq()).toBe(2);
    d.ch.sendNow();
    await d.ch.announceLeaving(2);
    d.ch.sendNow();
    await eventually(() => sent.length === 5 && listener.received.length === 10, { ms: 3_000, what: "five heartbeats, two datagrams each", everyMs: 5 });
    expect(sent.map((s) => [s.seq, s.candidate])).toEqual([[1, false], [2, true], [3, true], [4, true], [5, true]]);
    // Reported on performance.now()'s clock, in order.
    expect(sent[0].at).toBeGreaterThanOrEqual(before - 1);
    expect(sent[4].at).toBeLessThanOrEqual(performance.now() + 1);
    expect(sent.map((s) => s.at)).toEqual([...sent.map((s) => s.at)].sort((x, y) => x - y));
    const seen = listener.received.map(decoded).map((hb) => ({ seq: hb.seq, leaving: hb.leaving, candidate: hb.candidate, apiReachable: hb.apiReachable })).sort((x, y) => x.seq - y.seq);
    expect(seen).toEqual([1, 1, 2, 2, 3, 3, 4, 4, 5, 5].map((seq) => ({ seq, leaving: seq > 2, candidate: seq > 1, apiReachable: seq > 1 })));
    expect(d.errors).toEqual([]);
  });

  it("reports a heartbeat sent even when there is no peer to send it to, and nothing once closed", async () => {
    const sent: number[] = [];
    const c = await channel({ node: "c", port: await freeUdpPort(), onSent: (seq) => sent.push(seq) });
    await eventually(() => sent.length === 1, { ms: 3_000, what: "the first heartbeat reported sent", everyMs: 5 });
    c.ch.sendNow();
    await eventually(() => sent.length === 2, { ms: 3_000, what: "the second heartbeat reported sent", everyMs: 5 });
    expect(sent).toEqual([1, 2]);
    await c.ch.close();
    c.ch.sendNow();
    await new Promise((r) => setTimeout(r, 50));
    expect(sent).toEqual([1, 2]);
  });

  it("delivers only genuine heartbeats; forged, replayed, stale-keyed, stale and malformed ones are each counted by reason", async () => {
    // The attacker sits in the path: node a sends to it, and it passes a's datagrams on to b (and keeps copies).
    const attacker = await udpSocket();
    const b = await channel({ node: "b", port: await freeUdpPort() });
    const a = await channel({ node: "a", port: await freeUdpPort(), peerPort: attacker.port, peers: () => ["127.0.0.1"] });
    a.ch.sendNow();
    await eventually(() => attacker.received.length === 2, { ms: 3_000, what: "two heartbeats of a", everyMs: 5 });
    const [first, second] = attacker.received;
    const relay = (d: Buffer) => send(attacker.socket, d, b.port);

    await relay(first);
    await relay(second);
    await relay(first); // captured, then resent
    await relay(Buffer.concat([second.subarray(0, 3), Buffer.of(second[3] | 0x01), second.subarray(4)])); // "leaving" forged into a genuine one
    await relay(encodeHeartbeat(genuine({ node: "a", identity: "a_1", seq: 99, leaving: true }), oldKey)); // a key no longer held
    await relay(Buffer.from("nonsense"));
    await relay(Buffer.from('{"v":1,"node":"a","id":"a_1","seq":100,"leaving":true}'.padEnd(80))); // an old, unauthenticated heartbeat
    await relay(encodeHeartbeat(genuine({ sentAt: Date.now() - 120_000 }), clusterKey)); // genuine but two minutes old
    await relay(encodeHeartbeat(genuine({ node: "b", identity: "b_1", seq: 7 }), clusterKey)); // our own: ignored, not counted
    a.ch.sendNow();
    await eventually(() => attacker.received.length === 3, { ms: 3_000, what: "a's third heartbeat", everyMs: 5 });
    await relay(attacker.received[2]);
    await eventually(() => b.got.length === 3 && b.drops.length === 6, { ms: 3_000, what: "b to take in everything sent", everyMs: 5 });
    await new Promise((r) => setTimeout(r, 50));

    expect(b.got.map(({ hb, from }) => ({ node: hb.node, seq: hb.seq, leaving: hb.leaving, from }))).toEqual([
      { node: "a", seq: 1, leaving: false, from: "127.0.0.1" },
      { node: "a", seq: 2, leaving: false, from: "127.0.0.1" },
      { node: "a", seq: 3, leaving: false, from: "127.0.0.1" },
    ]);
    expect(b.got[0].hb).toEqual({ node: "a", identity: "a_1", startedAt: 1_700_000_000_000, seq: 1, sentAt: expect.any(Number), leaving: false, candidate: false, apiReachable: false, hears: [] });
    expect(b.drops).toEqual(["replayed", "bad-mac", "unknown-key", "bad-length", "unknown-format", "stale"]);
    expect(b.details[1]).toBe("heartbeat with a wrong MAC: forged or corrupted in transit");
    expect(b.details[5]).toMatch(/^heartbeat from c was sent 120\.\d s before our wall clock; node clocks must agree within 60 s/);
    expect([...a.errors, ...b.errors]).toEqual([]);
  });

  it("lets two speakers hear and acknowledge each other, and a leaving announcement arrives and sticks", async () => {
    const [pa, pb] = [await freeUdpPort(), await freeUdpPort()];
    const a = await channel({ node: "a", port: pa, peerPort: pb, peers: () => ["127.0.0.1"] });
    const b = await channel({ node: "b", port: pb, peerPort: pa, peers: () => ["127.0.0.1"] });
    a.ch.setSelf(true, true);
    await eventually(() => a.got.length >= 1, { ms: 3_000, what: "b's first heartbeat at a", everyMs: 5 });
    a.ch.sendNow(); // a's first heartbeat may have gone out before b was listening
    await eventually(() => b.got.some((g) => g.hb.seq === 2), { ms: 3_000, what: "a's second heartbeat at b", everyMs: 5 });
    b.ch.sendNow();
    const ackOf2 = () => a.got.find((g) => g.hb.hears.some((h) => h.node === "a" && h.seq === 2));
    await eventually(() => ackOf2() !== undefined, { ms: 3_000, what: "b's acknowledgement of a's second heartbeat", everyMs: 5 });
    // b relays back the newest counter of a it knows, as a candidate's: a's acknowledgement.
    expect(ackOf2()!.hb.hears).toEqual([{ node: "a", startedAt: 1_700_000_000_000, seq: 2, candidate: true, ageMs: expect.any(Number) }]);
    expect(b.got.find((g) => g.hb.seq === 2)!.hb).toMatchObject({ node: "a", seq: 2, leaving: false, candidate: true });
    // Stamped on arrival, on performance.now()'s clock.
    expect(a.got.at(-1)!.at).toBeLessThanOrEqual(performance.now());
    expect(a.got.at(-1)!.at).toBeGreaterThan(performance.now() - 3_000);

    const before = b.got.length;
    await a.ch.announceLeaving(2);
    a.ch.sendNow(); // a liveness change during shutdown must not take the announcement back
    await eventually(() => b.got.length === before + 3, { ms: 3_000, what: "the leaving heartbeats at b", everyMs: 5 });
    expect(b.got.slice(before).map((g) => g.hb.leaving)).toEqual([true, true, true]);
    expect([...a.drops, ...b.drops, ...a.errors.map(String), ...b.errors.map(String)]).toEqual([]);
  });

  it("sends nothing and drops everything as no-key until it holds a key", async () => {
    const listener = await udpSocket();
    let keys: HeartbeatKeys | undefined;
    const sent: number[] = [];
    const c = await channel({
      node: "c", port: await freeUdpPort(), peerPort: listener.port, peers: () => ["127.0.0.1"], keys: () => keys, onSent: (seq) => sent.push(seq),
    });
    c.ch.sendNow();
    await send(listener.socket, encodeHeartbeat(genuine({ node: "d", identity: "d_1" }), clusterKey), c.port);
    await eventually(() => c.drops.length === 1, { ms: 3_000, what: "the drop", everyMs: 5 });
    expect(c.drops).toEqual(["no-key"]);
    expect(listener.received).toEqual([]);

    keys = ring(clusterKey);
    c.ch.sendNow(); // the key wakes the thread (it sends at once) and sendNow sends too
    await send(listener.socket, encodeHeartbeat(genuine({ node: "d", identity: "d_1", seq: 2 }), clusterKey), c.port);
    await eventually(() => listener.received.length === 2 && c.got.length === 1, { ms: 3_000, what: "a heartbeat each way", everyMs: 5 });
    expect(c.got[0].hb.node).toBe("d");
    // The seqs start where sending did: none was used up while there was no key.
    expect(listener.received.map((d) => decoded(d).seq).sort()).toEqual([1, 2]);
    await eventually(() => sent.length === 2, { ms: 3_000, what: "both reported sent", everyMs: 5 });
    expect(sent).toEqual([1, 2]);
  });

  it("reports a failure to list the peers as an error and keeps running", async () => {
    const listener = await udpSocket();
    let failPeers = true;
    const c = await channel({
      node: "c", port: await freeUdpPort(), peerPort: listener.port,
      peers: () => {
        if (failPeers) throw new Error("no peers yet");
        return ["127.0.0.1"];
      },
    });
    expect(c.errors.map((e) => e.message)).toEqual(["no peers yet"]);
    failPeers = false;
    c.ch.sendNow();
    await eventually(() => listener.received.length >= 1, { ms: 3_000, what: "the heartbeat", everyMs: 5 });
    // Sent to the peers listed once listing works; the first heartbeat (at start) may have gone before or after.
    expect(decoded(listener.received.at(-1)!).seq).toBe(2);
    expect(c.errors.map((e) => e.message)).toEqual(["no peers yet"]);
  });

  it("keeps heartbeats flowing both ways on time while the event loop stalls, and hands on the backlog stamped as it arrived, in one batch", async () => {
    const [pa, pb] = [await freeUdpPort(), await freeUdpPort()];
    const batches: number[] = [];
    const a = await channel({ node: "a", port: pa, peerPort: pb, peers: () => ["127.0.0.1"], intervalMs: 20 });
    const b = await channel({ node: "b", port: pb, peerPort: pa, peers: () => ["127.0.0.1"], intervalMs: 20, onBatch: () => batches.push(b.got.length) });
    await eventually(() => b.got.length >= 3 && a.got.length >= 3, { ms: 3_000, what: "heartbeats both ways", everyMs: 5 });
    const before = b.got.length;
    const stalledAt = performance.now();
    stallEventLoop(400);
    await eventually(() => b.got.length >= before + 15, { ms: 3_000, what: "the backlog at b", everyMs: 5 });
    const during = b.got.slice(before).filter((g) => g.at > stalledAt + 20 && g.at < stalledAt + 380);
    // Both threads kept their pace while JavaScript was blocked: a sent, b received and stamped, every 20 ms.
    expect(during.length).toBeGreaterThanOrEqual(12);
    const gaps = during.slice(1).map((g, i) => g.at - during[i].at);
    expect(Math.max(...gaps)).toBeLessThan(60);
    // …and a's relays of b stayed fresh: the ack in a heartbeat a sent mid-stall is at most a few intervals old.
    const mid = during[Math.floor(during.length / 2)].hb.hears.find((h) => h.node === "b");
    expect(mid?.ageMs).toBeLessThan(60);
    // The whole backlog was one batch: one decision on all of it.
    expect(batches.some((n) => n >= before + 12)).toBe(true);
    expect([...a.errors, ...b.errors]).toEqual([]);
  });

  it("stops heartbeats while the event loop has not run for the stall limit, and says so when it runs again", async () => {
    const listener = await udpSocket();
    const stalls: number[] = [];
    await channel({ node: "c", port: await freeUdpPort(), peerPort: listener.port, peers: () => ["127.0.0.1"], intervalMs: 20, stallLimitMs: 100, onStall: (ms) => stalls.push(ms) });
    await eventually(() => listener.received.length >= 3, { ms: 3_000, what: "heartbeats before the stall", everyMs: 5 });
    const stalledAt = Date.now();
    stallEventLoop(500);
    await new Promise((r) => setTimeout(r, 100));
    await eventually(() => stalls.length === 1, { ms: 3_000, what: "the stall reported", everyMs: 5 });
    const seqs = listener.received.map(decoded).map((hb) => ({ seq: hb.seq, sentAt: hb.sentAt }));
    const inStall = seqs.filter((s) => s.sentAt > stalledAt + 160 && s.sentAt < stalledAt + 490);
    expect(inStall).toEqual([]);
    expect(seqs.filter((s) => s.sentAt >= stalledAt && s.sentAt <= stalledAt + 90).length).toBeGreaterThanOrEqual(3);
    expect(seqs.some((s) => s.sentAt > stalledAt + 500)).toBe(true);
    expect(stalls[0]).toBeGreaterThanOrEqual(300);
  });

  it("refuses a port already in use with a message that names the flag", async () => {
    const port = await freeUdpPort();
    await channel({ node: "b", port });
    const second = await openHeartbeatChannel({
      node: "a", identity: "a-1", startedAt: 1, port, intervalMs: 1000, relayWithinMs: 600, stallLimitMs: 2000, peers: () => [], keys: () => undefined,
      onHeartbeat: () => {}, onDrop: () => {}, onError: () => {},
    }).catch((e: Error) => e);
    expect(second).toBeInstanceOf(Error);
    expect((second as Error).message).toBe("heartbeat port " + port + "/udp is already in use on this node; pick another with --heartbeat-port (all speakers must agree)");
  });
});
