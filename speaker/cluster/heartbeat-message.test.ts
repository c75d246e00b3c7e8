import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  decodeHeartbeat,
  decodeVerifiedHeartbeat,
  encodeHeartbeat,
  heartbeatKeyOf,
  maxHeartbeatBytes,
  type Heartbeat,
  type HeartbeatDecodeDropReason,
  type HeartbeatKey,
  type HeartbeatKeys,
} from "./heartbeat-message.ts";
import type { RelayedCounter } from "./membership-evidence.ts";
import { seededUint32 as prng } from "../../shared/seeded-random.ts";

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

/** A relayed counter of `node`, fresh and candidate unless `over` says otherwise. */
function counter(node: string, over: Partial<RelayedCounter> = {}): RelayedCounter {
  return { node, startedAt: 1_699_999_990_000, seq: 42, candidate: true, ageMs: 120, ...over };
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
  hears: [
    { node: "n2", startedAt: 1_699_999_990_000, seq: 42, candidate: true, ageMs: 120 },
    { node: "n3", startedAt: 1_699_999_000_000, seq: 3, candidate: false, ageMs: 2500 },
  ],
};

// Written out by hand; the key id and the MAC were computed with openssl, not with this code:
//   printf 'baremetal-lb heartbeat key id' | openssl dgst -sha256 -mac HMAC -macopt hexkey:<key>
//   xxd -r -p <<< <bytes 0..82> | openssl dgst -sha256 -mac HMAC -macopt hexkey:<key>
const fixture = hex(`
  424c                     # magic "BL"
  02                       # version 2
  06                       # flags: candidate (0x02) | apiReachable (0x04), not leaving
  5da4f6a052ad6f88         # key id: HMAC-SHA-256("fixture-key-0123456789abcdef", "baremetal-lb heartbeat key id")[0..8)
  018bcfe56800             # startedAt 1700000000000
  018bcfe569f4             # sentAt    1700000000500
  000000000007             # seq 7
  02 6e31                  # node "n1"
  07 6e315f33663261        # identity "n1_3f2a"
  0002                     # hears: 2 entries
  02 6e32                  #   node "n2"                          (offset 43)
     018bcfe540f0          #     startedAt 1699999990000
     00000000002a          #     seq 42
     00000078              #     learned 120 ms before sending
     01                    #     flags: candidate                   (offset 62)
  02 6e33                  #   node "n3"                          (offset 63)
     018bcfd625c0          #     startedAt 1699999000000
     000000000003          #     seq 3
     000009c4              #     learned 2500 ms before sending
     00                    #     flags: not candidate               (offset 82)
  ef0d14e81d3d6fd4d41f1a37517c83d6d6e50b35fb876e1f9bf6bf19927645f3  # HMAC-SHA-256 of the 83 bytes above
`);

/** A genuine heartbeat of version 1 (speakers that relayed only ages): the fixture of that version. */
const version1Fixture = hex(`
  424c 01 06 5da4f6a052ad6f88 018bcfe56800 018bcfe569f4 000000000007 02 6e31 07 6e315f33663261
  0001 02 6e32 00000078
  a5ca8a24b0fc0fbba71275e364967a518e38c91f75dd8eb40ce90945304082a3
`);

describe("heartbeat datagram format", () => {
  it("decodes the hand-written fixture and encodes the same value back to the same bytes", () => {
    expect(key.idHex).toBe("5da4f6a052ad6f88");
    expect(fixture.length).toBe(83 + 32);
    expect(decodeHeartbeat(fixture, keys)).toEqual({ ok: true, heartbeat: fixtureValue, keyId: "5da4f6a052ad6f88" });
    expect(encodeHeartbeat(fixtureValue, key).toString("hex")).toBe(fixture.toString("hex"));
  });

  it.each<[string, Heartbeat]>([
    ["a leaving heartbeat with nothing heard", { ...fixtureValue, leaving: true, candidate: false, apiReachable: false, hears: [] }],
    ["non-ASCII names and the largest seq and times", { ...fixtureValue, node: "nœud-ä", identity: "ident-✓", seq: 2 ** 48 - 1, startedAt: 2 ** 48 - 1, sentAt: 0 }],
    [
      "three peers heard, at the extremes of every counter field",
      {
        ...fixtureValue,
        hears: [
          counter("a", { startedAt: 0, seq: 0, ageMs: 0, candidate: false }),
          counter("b", { startedAt: 2 ** 48 - 1, seq: 2 ** 48 - 1, ageMs: 99 }),
          counter("c", { ageMs: 2 ** 32 - 1, candidate: false }),
        ],
      },
    ],
    ["names that start with a byte-order mark", { ...fixtureValue, node: "\uFEFFn1", identity: "\uFEFFid", hears: [counter("\uFEFFn2")] }],
  ])("round-trips %s", (_name, hb) => {
    expect(decodeHeartbeat(encodeHeartbeat(hb, key), keys)).toEqual({ ok: true, heartbeat: hb, keyId: key.idHex });
  });

  it("fits 100 peers with the longest legal node names in one datagram", () => {
    const long = (i: number) => `${String(i).padStart(3, "0")}${"n".repeat(250)}`;
    const hears = Array.from({ length: 100 }, (_, i) => counter(long(i), { startedAt: 2 ** 48 - 1, seq: 2 ** 48 - 1, ageMs: 2 ** 32 - 1 }));
    const hb: Heartbeat = { ...fixtureValue, node: long(999), identity: "i".repeat(255), hears };
    const bytes = encodeHeartbeat(hb, key);
    expect(bytes.length).toBe(574 + 100 * 271); // the sizes the doc comment reasons with
    expect(bytes.length).toBeLessThan(maxHeartbeatBytes);
    expect(decodeHeartbeat(bytes, keys)).toEqual({ ok: true, heartbeat: hb, keyId: key.idHex });
  });

  it("fits 239 such peers, and not 240", () => {
    const long = (i: number) => `${String(i).padStart(3, "0")}${"n".repeat(250)}`;
    const hb = (count: number): Heartbeat => ({ ...fixtureValue, node: long(999), identity: "i".repeat(255), hears: Array.from({ length: count }, (_, i) => counter(long(i))) });
    expect(encodeHeartbeat(hb(239), key).length).toBe(574 + 239 * 271);
    expect(() => encodeHeartbeat(hb(240), key)).toThrow(/heartbeat of 65614 bytes with 240 entries in hears is over the 65507-byte limit/);
  });

  it("sends an age over 2^32-1 ms as 2^32-1", () => {
    const hb = { ...fixtureValue, hears: [counter("a", { ageMs: 2 ** 32 }), counter("b", { ageMs: 2 ** 40 }), counter("c", { ageMs: Number.MAX_SAFE_INTEGER })] };
    const decoded = decodeHeartbeat(encodeHeartbeat(hb, key), keys);
    expect(decoded.ok && decoded.heartbeat.hears.map((h) => h.ageMs)).toEqual([2 ** 32 - 1, 2 ** 32 - 1, 2 ** 32 - 1]);
  });

  it("reads the fields of a datagram the native thread verified without computing its MAC, and refuses what does not parse", () => {
    const bytes = encodeHeartbeat(fixtureValue, otherKey);
    expect(decodeVerifiedHeartbeat(bytes)).toEqual(decodeHeartbeat(bytes, ringOf(otherKey)).ok && fixtureValue);
    expect(decodeVerifiedHeartbeat(Buffer.concat([bytes.subarray(0, 3), Buffer.of(0x80), bytes.subarray(4)]))).toBeUndefined(); // unknown flag bit
    expect(decodeVerifiedHeartbeat(bytes.subarray(0, 40))).toBeUndefined();
    expect(decodeVerifiedHeartbeat(Buffer.concat([Buffer.from("XX"), bytes.subarray(2)]))).toBeUndefined();
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
    ["a peer name of 254 bytes", { hears: [counter("x".repeat(254))] }, /hears\[0\]\.node must be 1 to 253 bytes/],
    ["an empty peer name", { hears: [counter("a"), counter("")] }, /hears\[1\]\.node must be 1 to 253 bytes of UTF-8, got 0/],
    ["a negative relayed startedAt", { hears: [counter("a", { startedAt: -1 })] }, /hears\[0\]\.startedAt must be an integer from 0 to 2\^48-1, got -1/],
    ["a fractional relayed startedAt", { hears: [counter("a", { startedAt: 0.5 })] }, /hears\[0\]\.startedAt must be an integer from 0 to 2\^48-1, got 0\.5/],
    ["a relayed seq past 2^48", { hears: [counter("a"), counter("b", { seq: 2 ** 48 })] }, /hears\[1\]\.seq must be an integer from 0 to 2\^48-1, got 281474976710656/],
    ["a relayed seq that is not a number", { hears: [counter("a", { seq: Number.NaN })] }, /hears\[0\]\.seq must be an integer from 0 to 2\^48-1, got NaN/],
    ["a negative age", { hears: [counter("a", { ageMs: -3 })] }, /hears\[0\]\.ageMs must be a whole number of ms from 0 up, got -3/],
    ["a fractional age", { hears: [counter("a"), counter("b", { ageMs: 12.6 })] }, /hears\[1\]\.ageMs must be a whole number of ms from 0 up, got 12\.6/],
    ["an age that is not a number", { hears: [counter("a", { ageMs: Number.NaN })] }, /hears\[0\]\.ageMs must be a whole number of ms from 0 up, got NaN/],
    ["an infinite age", { hears: [counter("a", { ageMs: Number.POSITIVE_INFINITY })] }, /hears\[0\]\.ageMs must be a whole number of ms from 0 up, got Infinity/],
    ["more peers than one datagram holds", { hears: Array.from({ length: 300 }, (_, i) => counter(`${i}`.padEnd(253, "x"))) }, /over the 65507-byte limit of one UDP datagram/],
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
    ["a genuine heartbeat of version 1", version1Fixture, "bad-version"],
    ["a later version", withByte(fixture, 2, 3), "bad-version"],
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
    ["an authentic datagram with an empty peer name", signed(Buffer.concat([body.subarray(0, 43), Buffer.of(0), body.subarray(46)])), "malformed"],
    ["an authentic datagram with a peer name that is not UTF-8", signed(withByte(body, 44, 0xc3)), "malformed"],
    ["an authentic datagram with an unknown flag bit in a hears entry", signed(withByte(body, 62, 0x03)), "malformed"],
    ["an authentic datagram with the top flag bit set in a hears entry", signed(withByte(body, 82, 0x80)), "malformed"],
    ["an authentic datagram whose last hears entry lacks its flags byte", signed(body.subarray(0, body.length - 1)), "malformed"],
    ["an authentic datagram whose last hears entry is cut in its counter", signed(body.subarray(0, 70)), "malformed"],
    ["an authentic version-1 body under version 2", signed(withByte(version1Fixture.subarray(0, version1Fixture.length - 32), 2, 2)), "malformed"],
  ])("drops %s", (_name, datagram, reason) => {
    expect(decodeHeartbeat(datagram, keys)).toEqual({ ok: false, reason });
  });
});


describe("heartbeat fuzz", () => {
  const DATAGRAMS = 200_000;
  const SEED = 0x4b1d_7947;

  it(`accepts none of ${DATAGRAMS.toLocaleString("en")} random and mutated datagrams and never throws`, { timeout: 60_000 }, () => {
    const next = prng(SEED);
    const genuine = [
      fixture,
      encodeHeartbeat({ ...fixtureValue, leaving: true, hears: [] }, key),
      encodeHeartbeat({ ...fixtureValue, hears: Array.from({ length: 20 }, (_, i) => counter(`node-${i}`, { seq: 1000 + i, candidate: i % 3 !== 0, ageMs: i * 10 })) }, key),
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

  const AUTHENTIC = 50_000;

  it(`parses ${AUTHENTIC.toLocaleString("en")} mutated bodies signed with the key either as malformed or as a value that encodes to the same bytes`, { timeout: 60_000 }, () => {
    // A sender holding the key but with a bug: past the MAC, the parser alone stands between its bytes and us.
    const next = prng(SEED ^ 0x5eed);
    const bodies = [fixture, encodeHeartbeat({ ...fixtureValue, hears: Array.from({ length: 5 }, (_, i) => counter(`peer-${i}`, { seq: i, candidate: i % 2 === 0 })) }, key)].map((g) =>
      g.subarray(0, g.length - 32),
    );
    const outcomes = new Map<string, number>();
    for (let i = 0; i < AUTHENTIC; i++) {
      const body = Buffer.from(bodies[next() % bodies.length]);
      let mutated: Buffer;
      switch (next() % 3) {
        case 0: // one to three bytes past the key id changed
          for (let n = 1 + (next() % 3); n > 0; n--) body[12 + (next() % (body.length - 12))] = next() & 0xff;
          mutated = body;
          break;
        case 1: // cut or extended
          mutated = next() % 2 ? body.subarray(0, 12 + (next() % (body.length - 12))) : Buffer.concat([body, Buffer.alloc(1 + (next() % 20), next() & 0xff)]);
          break;
        default: // one bit flipped past the key id
          body[12 + (next() % (body.length - 12))] ^= 1 << (next() % 8);
          mutated = body;
      }
      const datagram = signed(mutated);
      let result: ReturnType<typeof decodeHeartbeat>;
      try {
        result = decodeHeartbeat(datagram, keys);
      } catch (err) {
        throw new Error(`datagram ${i} (${datagram.toString("hex")}) threw: ${(err as Error).message}`);
      }
      if (result.ok) {
        const again = encodeHeartbeat(result.heartbeat, key).toString("hex");
        if (again !== datagram.toString("hex")) throw new Error(`datagram ${i} (${datagram.toString("hex")}) decoded to a value that encodes to ${again}`);
      } else if (result.reason !== "malformed" && result.reason !== "bad-length") {
        throw new Error(`datagram ${i} (${datagram.toString("hex")}) is authentic but was dropped as ${result.reason}`);
      }
      const outcome = result.ok ? "ok" : result.reason;
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }
    // Both outcomes are common, so the mutations reach the hears entries and their flags.
    expect(outcomes.get("ok")).toBeGreaterThan(AUTHENTIC / 10);
    expect(outcomes.get("malformed")).toBeGreaterThan(AUTHENTIC / 10);
  });
});
