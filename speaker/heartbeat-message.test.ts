import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  decodeHeartbeat,
  encodeHeartbeat,
  heartbeatKeyOf,
  maxHeartbeatBytes,
  type Heartbeat,
  type HeartbeatDecodeDropReason,
  type HeartbeatKey,
  type HeartbeatKeys,
} from "./heartbeat-message.ts";

const key = heartbeatKeyOf(Buffer.from("fixture-key-0123456789abcdef"));
const otherKey = heartbeatKeyOf(Buffer.from("another-cluster-key-0123456789"));
const keys = ringOf(key);

function ringOf(signing: HeartbeatKey, ...more: HeartbeatKey[]): HeartbeatKeys {
  return { signing, accepted: new Map([signing, ...more].map((k) => [k.idHex, k])) };
}

function hex(text: string): Buffer {
  return Buffer.from(text.replace(/#.*$/gm, "").replace(/\s+/g, ""), "hex");
}

/** Re-signs `body` (a datagram without its MAC) under `k`: an authentic datagram with arbitrary content. */
function signed(body: Buffer, k: HeartbeatKey = key): Buffer {
  return Buffer.concat([body, createHmac("sha256", k.secret).update(body).digest()]);
}

const fixtureValue: Heartbeat = {
  node: "n1",
  identity: "n1_3f2a",
  startedAt: 1_700_000_000_000,
  seq: 7,
  sentAt: 1_700_000_000_500,
  leaving: false,
  candidate: true,
  apiReachable: true,
  hears: [{ node: "n2", ageMs: 120 }],
};

// Written out by hand; the key id and the MAC were computed with openssl, not with this code:
//   printf 'baremetal-lb heartbeat key id' | openssl dgst -sha256 -mac HMAC -macopt hexkey:<key>
//   xxd -r -p <<< <bytes 0..49> | openssl dgst -sha256 -mac HMAC -macopt hexkey:<key>
const fixture = hex(`
  424c                     # magic "BL"
  01                       # version 1
  06                       # flags: candidate (0x02) | apiReachable (0x04), not leaving
  5da4f6a052ad6f88         # key id: HMAC-SHA-256("fixture-key-0123456789abcdef", "baremetal-lb heartbeat key id")[0..8)
  018bcfe56800             # startedAt 1700000000000
  018bcfe569f4             # sentAt    1700000000500
  000000000007             # seq 7
  02 6e31                  # node "n1"
  07 6e315f33663261        # identity "n1_3f2a"
  0001                     # hears: 1 entry
  02 6e32 00000078         #   "n2", 120 ms ago
  a5ca8a24b0fc0fbba71275e364967a518e38c91f75dd8eb40ce90945304082a3  # HMAC-SHA-256 of the 50 bytes above
`);

describe("heartbeat datagram format", () => {
  it("decodes the hand-written fixture and encodes the same value back to the same bytes", () => {
    expect(key.idHex).toBe("5da4f6a052ad6f88");
    expect(decodeHeartbeat(fixture, keys)).toEqual({ ok: true, heartbeat: fixtureValue, keyId: "5da4f6a052ad6f88" });
    expect(encodeHeartbeat(fixtureValue, key).toString("hex")).toBe(fixture.toString("hex"));
  });

  it.each<[string, Heartbeat]>([
    ["a leaving heartbeat with nothing heard", { ...fixtureValue, leaving: true, candidate: false, apiReachable: false, hears: [] }],
    ["non-ASCII names and the largest seq and times", { ...fixtureValue, node: "nœud-ä", identity: "ident-✓", seq: 2 ** 48 - 1, startedAt: 2 ** 48 - 1, sentAt: 0 }],
    ["three peers heard", { ...fixtureValue, hears: [{ node: "a", ageMs: 0 }, { node: "b", ageMs: 99 }, { node: "c", ageMs: 2 ** 32 - 1 }] }],
  ])("round-trips %s", (_name, hb) => {
    expect(decodeHeartbeat(encodeHeartbeat(hb, key), keys)).toEqual({ ok: true, heartbeat: hb, keyId: key.idHex });
  });

  it("fits 100 peers with the longest legal node names in one datagram", () => {
    const long = (i: number) => `${String(i).padStart(3, "0")}${"n".repeat(250)}`;
    const hb: Heartbeat = { ...fixtureValue, node: long(999), identity: "i".repeat(255), hears: Array.from({ length: 100 }, (_, i) => ({ node: long(i), ageMs: i })) };
    const bytes = encodeHeartbeat(hb, key);
    expect(bytes.length).toBeLessThan(maxHeartbeatBytes);
    expect(decodeHeartbeat(bytes, keys)).toEqual({ ok: true, heartbeat: hb, keyId: key.idHex });
  });

  it("rounds fractional ages and clamps negative and huge ones", () => {
    const hb = { ...fixtureValue, hears: [{ node: "a", ageMs: 12.6 }, { node: "b", ageMs: -3 }, { node: "c", ageMs: 2 ** 40 }] };
    const decoded = decodeHeartbeat(encodeHeartbeat(hb, key), keys);
    expect(decoded.ok && decoded.heartbeat.hears).toEqual([{ node: "a", ageMs: 13 }, { node: "b", ageMs: 0 }, { node: "c", ageMs: 2 ** 32 - 1 }]);
  });

  it("verifies with any accepted key and reports which one signed", () => {
    const bytes = encodeHeartbeat(fixtureValue, otherKey);
    expect(decodeHeartbeat(bytes, ringOf(key, otherKey))).toMatchObject({ ok: true, keyId: otherKey.idHex });
  });

  it.each<[string, string, RegExp]>([
    ["an empty node name", "node", /heartbeat node must be 1 to 253 bytes/],
    ["an empty identity", "identity", /heartbeat identity must be 1 to 255 bytes/],
  ])("refuses to encode %s, naming the field", (_name, field, message) => {
    expect(() => encodeHeartbeat({ ...fixtureValue, [field]: "" }, key)).toThrow(message);
  });

  it.each<[string, Partial<Heartbeat>, RegExp]>([
    ["a negative seq", { seq: -1 }, /seq must be an integer from 0 to 2\^48-1, got -1/],
    ["a fractional sentAt", { sentAt: 1.5 }, /sentAt must be an integer/],
    ["a startedAt past 2^48", { startedAt: 2 ** 48 }, /startedAt must be an integer/],
    ["a peer name of 254 bytes", { hears: [{ node: "x".repeat(254), ageMs: 1 }] }, /hears\[0\]\.node must be 1 to 253 bytes/],
    ["more peers than one datagram holds", { hears: Array.from({ length: 300 }, (_, i) => ({ node: `${i}`.padEnd(253, "x"), ageMs: 1 })) }, /over the 65507-byte limit of one UDP datagram/],
  ])("refuses to encode %s", (_name, change, message) => {
    expect(() => encodeHeartbeat({ ...fixtureValue, ...change }, key)).toThrow(message);
  });
});

describe("heartbeat datagrams that are dropped, each with its reason", () => {
  const body = fixture.subarray(0, fixture.length - 32);
  const withByte = (b: Buffer, at: number, value: number) => {
    const copy = Buffer.from(b);
    copy[at] = value;
    return copy;
  };

  it.each<[string, Buffer, HeartbeatDecodeDropReason]>([
    ["an empty datagram", Buffer.alloc(0), "bad-length"],
    ["a datagram shorter than any heartbeat", fixture.subarray(0, 67), "bad-length"],
    ["a datagram over the UDP limit", Buffer.concat([fixture, Buffer.alloc(maxHeartbeatBytes)]), "bad-length"],
    ["a JSON heartbeat of an older speaker", Buffer.from('{"v":1,"node":"n1","id":"n1-1","seq":1,"leaving":true}'.padEnd(80)), "unknown-format"],
    ["another version", withByte(fixture, 2, 2), "bad-version"],
    ["a datagram signed with a key we do not hold", encodeHeartbeat(fixtureValue, otherKey), "unknown-key"],
    ["a forged leaving flag", withByte(fixture, 3, 0x07), "bad-mac"],
    ["a changed node name", withByte(fixture, 31, 0x6e + 1), "bad-mac"],
    ["a flipped MAC bit", withByte(fixture, fixture.length - 1, fixture[fixture.length - 1] ^ 1), "bad-mac"],
    ["our key id on a datagram signed with another key", Buffer.concat([body, encodeHeartbeat(fixtureValue, otherKey).subarray(-32)]), "bad-mac"],
    ["a truncated datagram", fixture.subarray(0, fixture.length - 1), "bad-mac"],
    ["an authentic datagram with an unknown flag bit", signed(withByte(body, 3, 0x86)), "malformed"],
    ["an authentic datagram with trailing bytes", signed(Buffer.concat([body, Buffer.of(0)])), "malformed"],
    ["an authentic datagram whose hears count runs past the end", signed(withByte(body, 41, 2)), "malformed"],
    ["an authentic datagram with an empty node name", signed(Buffer.concat([body.subarray(0, 30), Buffer.of(0), body.subarray(33)])), "malformed"],
    ["an authentic datagram with a node name that is not UTF-8", signed(withByte(body, 31, 0xff)), "malformed"],
  ])("drops %s", (_name, datagram, reason) => {
    expect(decodeHeartbeat(datagram, keys)).toEqual({ ok: false, reason });
  });
});

/** mulberry32: a small, fast, seeded PRNG giving uint32s. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

describe("heartbeat fuzz", () => {
  const DATAGRAMS = 200_000;
  const SEED = 0x4b1d_7947;

  it(`accepts none of ${DATAGRAMS.toLocaleString("en")} random and mutated datagrams and never throws`, { timeout: 60_000 }, () => {
    const next = prng(SEED);
    const genuine = [
      fixture,
      encodeHeartbeat({ ...fixtureValue, leaving: true, hears: [] }, key),
      encodeHeartbeat({ ...fixtureValue, hears: Array.from({ length: 20 }, (_, i) => ({ node: `node-${i}`, ageMs: i * 10 })) }, key),
    ];
    const genuineHex = new Set(genuine.map((g) => g.toString("hex")));
    const forgedUnderOtherKey = genuine.map((g) => Buffer.concat([g.subarray(0, g.length - 32), encodeHeartbeat({ ...fixtureValue }, otherKey).subarray(-32)]));
    const outcomes = new Map<string, number>();

    for (let i = 0; i < DATAGRAMS; i++) {
      const base = genuine[next() % genuine.length];
      let datagram: Buffer;
      switch (next() % 6) {
        case 0: // random bytes, sometimes behind a valid header with our key id so they reach the MAC check
          datagram = Buffer.alloc(next() % 200);
          for (let j = 0; j < datagram.length; j++) datagram[j] = next() & 0xff;
          if (next() % 2 && datagram.length >= 12) fixture.copy(datagram, 0, 0, 12);
          break;
        case 1: // one to four bytes changed
          datagram = Buffer.from(base);
          for (let n = 1 + (next() % 4); n > 0; n--) datagram[next() % datagram.length] = next() & 0xff;
          break;
        case 2: // truncated or extended
          datagram = next() % 2 ? base.subarray(0, next() % base.length) : Buffer.concat([base, Buffer.alloc(1 + (next() % 16), next() & 0xff)]);
          break;
        case 3: // header of one, tail of another
          datagram = Buffer.concat([base.subarray(0, 30 + (next() % 12)), genuine[next() % genuine.length].subarray(30 + (next() % 12))]);
          break;
        case 4: // the body re-signed under a key the receiver does not hold, with our key id kept
          datagram = forgedUnderOtherKey[next() % forgedUnderOtherKey.length];
          break;
        default: // one bit flipped
          datagram = Buffer.from(base);
          datagram[next() % datagram.length] ^= 1 << (next() % 8);
      }
      let result: ReturnType<typeof decodeHeartbeat>;
      try {
        result = decodeHeartbeat(datagram, keys);
      } catch (err) {
        throw new Error(`seed ${SEED}, datagram ${i} (${datagram.toString("hex")}) threw: ${(err as Error).message}`);
      }
      if (result.ok && !genuineHex.has(datagram.toString("hex"))) {
        throw new Error(`seed ${SEED}, datagram ${i} (${datagram.toString("hex")}) was accepted but no genuine sender made it`);
      }
      const outcome = result.ok ? "genuine" : result.reason;
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }
    // Every reason a stranger can provoke shows up, so the mutations reach past each check.
    expect([...outcomes.keys()].sort()).toEqual(expect.arrayContaining(["bad-length", "bad-mac", "bad-version", "unknown-format", "unknown-key"]));
    expect(outcomes.get("bad-mac")).toBeGreaterThan(DATAGRAMS / 4);
  });
});
