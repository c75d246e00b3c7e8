import { createSocket, type Socket } from "node:dgram";
import { afterEach, describe, expect, expectTypeOf, it } from "vitest";
import { eventually } from "../test/support/eventually.ts";
import { openHeartbeatChannel, type HeartbeatChannel, type HeartbeatChannelOptions, type HeartbeatDropReason } from "./heartbeat-channel.ts";
import { decodeHeartbeat, encodeHeartbeat, heartbeatKeyOf, type Heartbeat, type HeartbeatBody, type HeartbeatKey, type HeartbeatKeys } from "./heartbeat-message.ts";
import type { HeartbeatEvidence, RelayedCounter } from "./membership-evidence.ts";

const clusterKey = heartbeatKeyOf(Buffer.from("cluster-key-0123456789abcdef"));
const oldKey = heartbeatKeyOf(Buffer.from("retired-key-0123456789abcdef"));
const ring = (k: HeartbeatKey): HeartbeatKeys => ({ signing: k, accepted: new Map([[k.idHex, k]]) });
const relayedB: RelayedCounter = { node: "b", startedAt: 1_699_999_000_000, seq: 17, candidate: true, ageMs: 40 };
const body: HeartbeatBody = { leaving: false, candidate: true, apiReachable: true, hears: [relayedB] };

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

/** A port that was free a moment ago, on both families. */
async function freePort(): Promise<number> {
  const s = createSocket({ type: "udp6", ipv6Only: false });
  await new Promise<void>((r) => s.bind(0, "::", () => r()));
  const { port } = s.address();
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** A channel with a long interval (so only its first heartbeat and sendNow() send) that records what it gets. */
async function channel(over: Partial<HeartbeatChannelOptions> & Pick<HeartbeatChannelOptions, "node" | "port">) {
  const got: { hb: HeartbeatEvidence & Heartbeat; from: string }[] = [];
  const drops: HeartbeatDropReason[] = [];
  const details: string[] = [];
  const errors: Error[] = [];
  const ch = await openHeartbeatChannel({
    identity: `${over.node}_1`,
    startedAt: 1_700_000_000_000,
    intervalMs: 60_000,
    peers: () => [],
    keys: () => ring(clusterKey),
    body: () => body,
    onHeartbeat: (hb, from) => got.push({ hb, from }),
    onDrop: (reason, detail) => {
      drops.push(reason);
      details.push(detail.message);
    },
    onError: (err) => errors.push(err),
    ...over,
  });
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
    expectTypeOf<ReturnType<HeartbeatChannelOptions["body"]>["hears"]>().toEqualTypeOf<readonly RelayedCounter[]>();
  });

  it("gives every heartbeat, leaving ones included, its own seq: asked with the body, reported once per heartbeat after its datagrams went to every peer", async () => {
    const listener = await udpSocket();
    const events: string[] = [];
    const c = await channel({
      node: "c", port: await freePort(), peerPort: listener.port, peers: () => ["127.0.0.1", "127.0.0.1"], // two peers: two datagrams per seq
      body: (seq) => {
        events.push(`body ${seq}`);
        // The body may depend on its seq: each datagram must carry the body asked for its own seq.
        return { ...body, hears: [{ ...relayedB, ageMs: seq * 100 }] };
      },
      onSent: (seq) => events.push(`sent ${seq}`),
    });
    c.ch.sendNow();
    await c.ch.announceLeaving(2);
    c.ch.sendNow();
    expect(events).toEqual(["body 1", "sent 1", "body 2", "sent 2", "body 3", "sent 3", "body 4", "sent 4", "body 5", "sent 5"]);
    await eventually(() => listener.received.length === 10, { ms: 3_000, what: "two datagrams of each of the five heartbeats", everyMs: 5 });
    const seen = listener.received.map(decoded).map((hb) => ({ seq: hb.seq, leaving: hb.leaving, ageMs: hb.hears[0].ageMs })).sort((x, y) => x.seq - y.seq);
    expect(seen).toEqual([1, 1, 2, 2, 3, 3, 4, 4, 5, 5].map((seq) => ({ seq, leaving: seq > 2, ageMs: seq * 100 })));
    expect(c.errors).toEqual([]);
  });

  it("reports a heartbeat sent even when there is no peer to send it to, and nothing once closed", async () => {
    const sent: number[] = [];
    const c = await channel({ node: "c", port: await freePort(), onSent: (seq) => sent.push(seq) });
    c.ch.sendNow();
    expect(sent).toEqual([1, 2]);
    await c.ch.close();
    c.ch.sendNow();
    expect(sent).toEqual([1, 2]);
  });

  it("delivers only genuine heartbeats; forged, replayed, stale-keyed, stale and malformed ones are each counted by reason", async () => {
    // The attacker sits in the path: node a sends to it, and it passes a's datagrams on to b (and keeps copies).
    const attacker = await udpSocket();
    const b = await channel({ node: "b", port: await freePort() });
    const a = await channel({ node: "a", port: await freePort(), peerPort: attacker.port, peers: () => ["127.0.0.1"] });
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
    expect(b.got[0].hb).toEqual({ ...body, node: "a", identity: "a_1", startedAt: 1_700_000_000_000, seq: 1, sentAt: expect.any(Number), leaving: false });
    expect(b.drops).toEqual(["replayed", "bad-mac", "unknown-key", "bad-length", "unknown-format", "stale"]);
    expect(b.details[5]).toMatch(/^heartbeat from c was sent 120\.\d s before our wall clock; node clocks must agree within 60 s/);
    expect([...a.errors, ...b.errors]).toEqual([]);
  });

  it("lets two speakers hear each other, and a leaving announcement arrives and sticks", async () => {
    const [pa, pb] = [await freePort(), await freePort()];
    const a = await channel({ node: "a", port: pa, peerPort: pb, peers: () => ["127.0.0.1"], body: () => ({ ...body, hears: [] }) });
    const b = await channel({ node: "b", port: pb, peerPort: pa, peers: () => ["127.0.0.1"] });
    await eventually(() => a.got.length === 1, { ms: 3_000, what: "b's first heartbeat at a", everyMs: 5 });
    a.ch.sendNow(); // a's first heartbeat went out before b was listening
    b.ch.sendNow();
    await eventually(() => b.got.length === 1 && a.got.length === 2, { ms: 3_000, what: "a's heartbeat at b and b's second at a", everyMs: 5 });
    expect(a.got.map((g) => [g.hb.node, g.hb.seq])).toEqual([["b", 1], ["b", 2]]);
    expect(b.got[0].hb).toMatchObject({ node: "a", seq: 2, leaving: false, hears: [] });

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
    const asked: number[] = [];
    const sent: number[] = [];
    const c = await channel({
      node: "c", port: await freePort(), peerPort: listener.port, peers: () => ["127.0.0.1"], keys: () => keys,
      body: (seq) => (asked.push(seq), body), onSent: (seq) => sent.push(seq),
    });
    c.ch.sendNow();
    await send(listener.socket, encodeHeartbeat(genuine({ node: "d", identity: "d_1" }), clusterKey), c.port);
    await eventually(() => c.drops.length === 1, { ms: 3_000, what: "the drop", everyMs: 5 });
    expect(c.drops).toEqual(["no-key"]);
    expect(listener.received).toEqual([]);

    keys = ring(clusterKey);
    c.ch.sendNow();
    await send(listener.socket, encodeHeartbeat(genuine({ node: "d", identity: "d_1", seq: 2 }), clusterKey), c.port);
    await eventually(() => listener.received.length === 1 && c.got.length === 1, { ms: 3_000, what: "a heartbeat each way", everyMs: 5 });
    expect(c.got[0].hb.node).toBe("d");
    // The seqs start where sending did: none was used up while there was no key.
    expect(decoded(listener.received[0]).seq).toBe(1);
    expect([asked, sent]).toEqual([[1], [1]]);
  });

  it("reports a body it cannot encode as an error, skips that seq without reporting it sent, and keeps running", async () => {
    const listener = await udpSocket();
    let name = "";
    const sent: number[] = [];
    const c = await channel({
      node: "c", port: await freePort(), peerPort: listener.port, peers: () => ["127.0.0.1"],
      body: () => ({ ...body, hears: [{ ...relayedB, node: name }] }), onSent: (seq) => sent.push(seq),
    });
    expect(c.errors.map((e) => e.message)).toEqual(['heartbeat hears[0].node must be 1 to 253 bytes of UTF-8, got 0: ""']);
    expect(sent).toEqual([]);
    name = "b";
    c.ch.sendNow();
    await eventually(() => listener.received.length === 1, { ms: 3_000, what: "the next heartbeat", everyMs: 5 });
    expect(decoded(listener.received[0]).seq).toBe(2);
    expect(sent).toEqual([2]);
  });

  it("reports a failure to list the peers or in onSent as an error and keeps running", async () => {
    const listener = await udpSocket();
    let failPeers = true;
    let failSent = false;
    const sent: number[] = [];
    const c = await channel({
      node: "c", port: await freePort(), peerPort: listener.port,
      peers: () => {
        if (failPeers) throw new Error("no peers yet");
        return ["127.0.0.1"];
      },
      onSent: (seq) => {
        sent.push(seq);
        if (failSent) throw new Error("bookkeeping failed");
      },
    });
    expect(c.errors.map((e) => e.message)).toEqual(["no peers yet"]);
    expect(sent).toEqual([]);
    failPeers = false;
    failSent = true;
    c.ch.sendNow();
    await eventually(() => listener.received.length === 1, { ms: 3_000, what: "the heartbeat", everyMs: 5 });
    expect(sent).toEqual([2]);
    expect(c.errors.map((e) => e.message)).toEqual(["no peers yet", "bookkeeping failed"]);
    failSent = false;
    c.ch.sendNow();
    await eventually(() => listener.received.length === 2, { ms: 3_000, what: "the next heartbeat", everyMs: 5 });
    expect(sent).toEqual([2, 3]);
    expect(listener.received.map((d) => decoded(d).seq)).toEqual([2, 3]);
  });

  it("refuses a port already in use with a message that names the flag", async () => {
    const port = await freePort();
    await channel({ node: "b", port });
    const second = await openHeartbeatChannel({
      node: "a", identity: "a-1", startedAt: 1, port, intervalMs: 1000, peers: () => [], keys: () => undefined, body: () => body,
      onHeartbeat: () => {}, onDrop: () => {}, onError: () => {},
    }).catch((e: Error) => e);
    expect(second).toBeInstanceOf(Error);
    expect((second as Error).message).toBe("heartbeat port " + port + "/udp is already in use on this node; pick another with --heartbeat-port (all speakers must agree)");
  });
});

