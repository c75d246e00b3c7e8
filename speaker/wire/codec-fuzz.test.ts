/**
 * Fuzz: over a million random and mutated frames through every decoder and the responder. No exception may
 * escape, every outcome must be a known reason, and every reply must itself be a well-formed frame.
 * Deterministic (seeded), so a failure names the seed and frame that reproduce it.
 */
import { describe, expect, it } from "vitest";
import { decodeArp } from "./arp.ts";
import { decodeEthernet } from "./ethernet.ts";
import { decodeNdp, icmpv6Checksum } from "./ndp.ts";
import { respondToFrame, type ResponderContext } from "./responder.ts";
import * as fixtures from "./testdata/captured-frames.ts";
import { seededUint32 as prng } from "../../shared/seeded-random.ts";

const FRAMES = 1_000_000;
const SEED = 0x5eed_b1b5;


const VALID: Buffer[] = Object.values(fixtures).filter((v): v is Buffer => Buffer.isBuffer(v));
const NDP_VALID = VALID.filter((f) => f.readUInt16BE(12) === 0x86dd);
const CTX: ResponderContext = {
  ourMac: Uint8Array.of(2, 0, 0, 0, 0, 0x0c),
  announced: new Set(["192.0.2.10", "192.0.2.11", "2001:db8::a", "2001:db8::b", "2001:db8::d"]),
};
const REQUESTER: ResponderContext = { ourMac: Uint8Array.of(2, 0, 0, 0, 0, 0x0d), announced: new Set() };
const HEADERS = [0x0806, 0x86dd, 0x8100, 0x0800];
const INTERESTING = [0x00, 0x01, 0x02, 0x06, 0x08, 0x3a, 0x7f, 0x80, 0x81, 0x86, 0x87, 0x88, 0xdd, 0xfe, 0xff];

const KNOWN_DROPS = new Set([
  "short-buffer", "short-vlan-header",
  "short-arp-packet", "unsupported-hardware-type", "unsupported-protocol-type", "unsupported-address-length", "unsupported-arp-operation",
  "short-ipv6-header", "not-ipv6", "truncated-ipv6-payload", "short-icmpv6-message", "bad-hop-limit", "bad-icmpv6-code", "bad-checksum",
  "multicast-source", "multicast-target", "bad-option-length", "bad-link-layer-option", "dad-with-source-link-layer",
  "dad-not-to-solicited-node", "solicited-flag-on-multicast",
]);
const KNOWN_IGNORES = new Set([
  "own-frame", "vlan-tagged", "unsupported-ethertype", "not-icmpv6", "not-neighbor-discovery", "arp-reply", "neighbor-advertisement",
  "foreign-ethernet-destination", "target-not-announced", "gratuitous-arp", "multicast-sender-mac",
]);

describe("codec fuzz", () => {
  // About 5 s of CPU on this machine; the timeout leaves room for a loaded CI runner.
  it(`survives ${FRAMES.toLocaleString("en")} random and mutated frames with no exception and only known outcomes`, { timeout: 120_000 }, () => {
    const next = prng(SEED);
    const scratch = new Uint8Array(512);
    const outcomes = new Map<string, number>();
    const count = (key: string) => outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
    let conflicts = 0;
    const started = performance.now();

    for (let i = 0; i < FRAMES; i++) {
      const length = makeFrame(i % 7, next, scratch);
      const frame = scratch.subarray(0, length);
      try {
        const eth = decodeEthernet(frame);
        if (eth.ok) {
          decodeArp(eth.frame.payload);
          decodeNdp(eth.frame.payload);
        }
        const d = respondToFrame(frame, CTX);
        // Plain checks, not expect(): a million expect() calls would dominate the run time.
        if (d.action === "drop" && !KNOWN_DROPS.has(d.reason)) throw new Error(`unknown drop reason ${d.reason}`);
        if (d.action === "ignore" && !KNOWN_IGNORES.has(d.reason)) throw new Error(`unknown ignore reason ${d.reason}`);
        if (d.action !== "drop" && d.conflict) conflicts++;
        if (d.action === "reply") {
          // Our answer must be a frame our own decoders accept (seen from the requester's side, it is no "own frame").
          const back = respondToFrame(d.frame, REQUESTER);
          if (back.action === "drop") throw new Error(`our reply does not decode: ${back.reason}`);
        }
        count(d.action === "reply" ? `reply:${d.protocol}` : `${d.action}:${d.reason}`);
      } catch (e) {
        throw new Error(`frame ${i} (seed ${SEED}) ${Buffer.from(frame).toString("hex")}: ${(e as Error).message}`, { cause: e });
      }
    }

    const seconds = (performance.now() - started) / 1000;
    console.log(`codec fuzz: ${FRAMES} frames in ${seconds.toFixed(1)} s (${Math.round(FRAMES / seconds)} frames/s); ${conflicts} conflicts`);
    console.log([...outcomes].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k}=${v}`).join(" "));
    // The fuzz must reach the deep paths, not just bounce off the Ethernet header.
    expect(outcomes.get("reply:arp")).toBeGreaterThan(1000);
    expect(outcomes.get("reply:ndp")).toBeGreaterThan(1000);
    expect(conflicts).toBeGreaterThan(1000);
    for (const reason of ["short-buffer", "bad-checksum", "bad-option-length", "short-arp-packet", "unsupported-hardware-type"]) {
      expect(outcomes.get(`drop:${reason}`), reason).toBeGreaterThan(0);
    }
  });
});

/** Writes one test frame of the given kind into `out` and returns its length. */
function makeFrame(kind: number, next: () => number, out: Uint8Array): number {
  const pick = <T>(items: readonly T[]): T => items[next() % items.length];
  switch (kind) {
    case 0: {
      // Random bytes, 0..128 long.
      const n = next() % 129;
      for (let i = 0; i < n; i++) out[i] = next() & 0xff;
      return n;
    }
    case 1: {
      // Random payload behind a plausible Ethernet header, so the ARP and IPv6 decoders see random input.
      const n = 14 + (next() % 115);
      for (let i = 0; i < n; i++) out[i] = next() & 0xff;
      const type = pick(HEADERS);
      out[12] = type >> 8;
      out[13] = type & 0xff;
      if (type === 0x0806 && n >= 22) out.set([0, 1, 8, 0, 6, 4, 0, 1 + (next() & 1)], 14);
      if (type === 0x86dd && n >= 22) out.set([0x60, 0, 0, 0, 0, next() % 64, 0x3a, 0xff], 14);
      return n;
    }
    case 2: {
      // A valid frame with 1-8 flipped bits.
      const f = pick(VALID);
      out.set(f);
      const flips = 1 + (next() % 8);
      for (let i = 0; i < flips; i++) out[next() % f.length] ^= 1 << (next() & 7);
      return f.length;
    }
    case 3: {
      // A valid frame cut short.
      const f = pick(VALID);
      out.set(f);
      return next() % (f.length + 1);
    }
    case 4: {
      // A valid frame with random bytes appended (padding, trailers).
      const f = pick(VALID);
      out.set(f);
      const extra = 1 + (next() % 64);
      for (let i = 0; i < extra; i++) out[f.length + i] = next() & 0xff;
      return f.length + extra;
    }
    case 5: {
      // An NS/NA with random bytes changed and the checksum fixed up, so validation past the checksum runs.
      const f = pick(NDP_VALID);
      out.set(f);
      const changes = 1 + (next() % 4);
      for (let i = 0; i < changes; i++) out[14 + (next() % (f.length - 14))] = next() & 0xff;
      fixChecksum(out.subarray(14, f.length));
      return f.length;
    }
    default: {
      // A valid frame with a byte set to a boundary value (lengths, types, flags).
      const f = pick(VALID);
      out.set(f);
      out[next() % f.length] = pick(INTERESTING);
      if (f.readUInt16BE(12) === 0x86dd && (next() & 1) === 0) fixChecksum(out.subarray(14, f.length));
      return f.length;
    }
  }
}

function fixChecksum(ip: Uint8Array): void {
  if (ip.length < 44) return;
  const length = Math.min((ip[4] << 8) | ip[5], ip.length - 40);
  if (length < 4) return;
  const icmp = ip.subarray(40, 40 + length);
  icmp[2] = 0;
  icmp[3] = 0;
  const sum = icmpv6Checksum(ip.subarray(8, 24), ip.subarray(24, 40), icmp);
  icmp[2] = sum >> 8;
  icmp[3] = sum & 0xff;
}
