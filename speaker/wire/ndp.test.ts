import { describe, expect, it } from "vitest";
import { formatIpBytes } from "../../shared/ip/bytes.ts";
import { ipv6 } from "../../test/support/test-frames.ts";
import { decodeEthernet } from "./ethernet.ts";
import { formatMac } from "./mac.ts";
import {
  decodeNdp,
  encodeNdp,
  icmpv6Checksum,
  ipv6MulticastMac,
  linkLayerAddress,
  solicitedAdvertisement,
  solicitedNodeMulticast,
  unsolicitedAdvertisement,
  type NdpPacket,
} from "./ndp.ts";
import {
  MAC_B,
  NEIGHBOR_ADVERTISEMENT_SOLICITED,
  NEIGHBOR_ADVERTISEMENT_UNSOLICITED,
  NEIGHBOR_SOLICITATION,
  NEIGHBOR_SOLICITATION_DAD,
  ROUTER_SOLICITATION,
} from "./testdata/captured-frames.ts";

function ipv6Of(frame: Buffer): Buffer {
  return frame.subarray(14);
}

function ndpOf(frame: Buffer): NdpPacket {
  const r = decodeNdp(ipv6Of(frame));
  if (!r.ok) throw new Error(r.reason);
  return r.packet;
}

/** Copy of `frame`'s IPv6 packet with `bytes` written at IPv6 offset `at`, checksum fixed up unless told not to. */
function patched(frame: Buffer, at: number, bytes: number[], fixChecksum = true): Buffer {
  const ip = Buffer.from(ipv6Of(frame));
  ip.set(bytes, at);
  return fixChecksum ? withChecksum(ip) : ip;
}

/** Rewrites the ICMPv6 checksum of an IPv6 packet in place. */
function withChecksum(ip: Buffer): Buffer {
  const icmp = ip.subarray(40, 40 + ip.readUInt16BE(4));
  icmp.writeUInt16BE(0, 2);
  icmp.writeUInt16BE(icmpv6Checksum(ip.subarray(8, 24), ip.subarray(24, 40), icmp), 2);
  return ip;
}

describe("decodeNdp / encodeNdp on captured frames", () => {
  it("decodes the kernel's solicitation and encodes it back to itself", () => {
    const p = ndpOf(NEIGHBOR_SOLICITATION);
    expect(formatIpBytes(p.source)).toBe("2001:db8::a");
    expect(formatIpBytes(p.destination)).toBe("ff02::1:ff00:b");
    expect(p.message.type).toBe("neighbor-solicitation");
    expect(formatIpBytes(p.message.target)).toBe("2001:db8::b");
    expect(formatMac(linkLayerAddress(p.message.options, "source-link-layer")!)).toBe("02:00:00:00:00:0a");
    expect(encodeNdp(p)).toEqual(ipv6Of(NEIGHBOR_SOLICITATION));
  });

  it("decodes the kernel's solicited advertisement (S+O) and encodes it back to itself", () => {
    const p = ndpOf(NEIGHBOR_ADVERTISEMENT_SOLICITED);
    expect(p.message).toMatchObject({ type: "neighbor-advertisement", router: false, solicited: true, override: true });
    expect(formatMac(linkLayerAddress(p.message.options, "target-link-layer")!)).toBe("02:00:00:00:00:0b");
    expect(encodeNdp(p)).toEqual(ipv6Of(NEIGHBOR_ADVERTISEMENT_SOLICITED));
  });

  it("decodes the kernel's unsolicited advertisement (O only) and encodes it back to itself", () => {
    const p = ndpOf(NEIGHBOR_ADVERTISEMENT_UNSOLICITED);
    expect(formatIpBytes(p.destination)).toBe("ff02::1");
    expect(p.message).toMatchObject({ type: "neighbor-advertisement", router: false, solicited: false, override: true });
    expect(encodeNdp(p)).toEqual(ipv6Of(NEIGHBOR_ADVERTISEMENT_UNSOLICITED));
  });

  it("keeps the unknown nonce option of a DAD probe, so it encodes back to itself", () => {
    const p = ndpOf(NEIGHBOR_SOLICITATION_DAD);
    expect(formatIpBytes(p.source)).toBe("::");
    expect(p.message.options.map((o) => (o.kind === "other" ? [o.type, Buffer.from(o.body).toString("hex")] : o.kind))).toEqual([
      [14, "c557d07cd49e"],
    ]);
    expect(encodeNdp(p)).toEqual(ipv6Of(NEIGHBOR_SOLICITATION_DAD));
  });

  it("ignores Ethernet padding after the IPv6 payload", () => {
    const padded = Buffer.concat([ipv6Of(NEIGHBOR_SOLICITATION), Buffer.alloc(10)]);
    expect(decodeNdp(padded).ok).toBe(true);
  });
});

describe("checksum", () => {
  it("matches the hand computation in the fixture's comment (0xf90c)", () => {
    const icmp = Buffer.from(ipv6Of(NEIGHBOR_ADVERTISEMENT_UNSOLICITED).subarray(40));
    icmp.writeUInt16BE(0, 2);
    expect(icmpv6Checksum(ipv6("2001:db8::b"), ipv6("ff02::1"), icmp)).toBe(0xf90c);
  });

  it("handles an odd-length message by padding with a zero byte", () => {
    // Words 0x0100 + 0x0200 (the odd byte 0x02 padded) plus the pseudo-header of :: → :: with length 3.
    const zero = new Uint8Array(16);
    expect(icmpv6Checksum(zero, zero, Uint8Array.of(1, 0, 2))).toBe(~(0x0100 + 0x0200 + 3 + 58) & 0xffff);
  });
});

describe("decodeNdp drops invalid packets by reason (RFC 4861 7.1)", () => {
  const ns = NEIGHBOR_SOLICITATION;
  const na = NEIGHBOR_ADVERTISEMENT_SOLICITED;
  it.each([
    ["a 39-byte buffer", ipv6Of(ns).subarray(0, 39), "short-ipv6-header"],
    ["version 4", patched(ns, 0, [0x45], false), "not-ipv6"],
    ["next header UDP", patched(ns, 6, [17], false), "not-icmpv6"],
    ["payload length beyond the buffer", patched(ns, 4, [0, 33], false), "truncated-ipv6-payload"],
    ["payload length 2", patched(ns, 4, [0, 2], false), "short-icmpv6-message"],
    ["a router solicitation", ipv6Of(ROUTER_SOLICITATION), "not-neighbor-discovery"],
    ["hop limit 64", patched(ns, 7, [64]), "bad-hop-limit"],
    ["ICMPv6 length 20", patched(ns, 4, [0, 20], false), "short-icmpv6-message"],
    ["code 1", patched(ns, 41, [1]), "bad-icmpv6-code"],
    ["one flipped bit", patched(ns, 60, [0x21], false), "bad-checksum"],
    ["a multicast source", patched(ns, 8, [0xff]), "multicast-source"],
    ["a multicast target", patched(ns, 48, [0xff, 0x02]), "multicast-target"],
    ["a zero-length option", patched(ns, 65, [0]), "bad-option-length"],
    ["an option longer than the message", patched(ns, 65, [2]), "bad-option-length"],
    ["a link-layer option of length 2", withChecksum(Buffer.concat([patched(ns, 4, [0, 40], false).subarray(0, 64), Buffer.from([1, 2, ...new Array<number>(14).fill(0)]) /* type 1, length 2 */])), "bad-link-layer-option"],
    ["a DAD probe with a source link-layer option", patched(NEIGHBOR_SOLICITATION_DAD, 64, [1, 1, 2, 0, 0, 0, 0, 0x0b]), "dad-with-source-link-layer"],
    ["a DAD probe to ff02::1", patched(NEIGHBOR_SOLICITATION_DAD, 24, [0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]), "dad-not-to-solicited-node"],
    ["a solicited advertisement to a multicast group", patched(na, 24, [0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]), "solicited-flag-on-multicast"],
  ])("%s → %s", (_name, bytes, reason) => {
    expect(decodeNdp(bytes)).toEqual({ ok: false, reason });
  });
});

describe("builders", () => {
  it("solicitedAdvertisement answers the kernel's solicitation byte for byte as the kernel did", () => {
    const eth = decodeEthernet(NEIGHBOR_SOLICITATION);
    if (!eth.ok) throw new Error(eth.reason);
    expect(solicitedAdvertisement(MAC_B, ndpOf(NEIGHBOR_SOLICITATION), eth.frame.source)).toEqual(NEIGHBOR_ADVERTISEMENT_SOLICITED);
  });

  it("solicitedAdvertisement answers a DAD probe at ff02::1 with Solicited clear", () => {
    const eth = decodeEthernet(NEIGHBOR_SOLICITATION_DAD);
    if (!eth.ok) throw new Error(eth.reason);
    const reply = solicitedAdvertisement(MAC_B, ndpOf(NEIGHBOR_SOLICITATION_DAD), eth.frame.source);
    expect(formatMac(reply.subarray(0, 6))).toBe("33:33:00:00:00:01");
    const p = ndpOf(reply);
    expect(formatIpBytes(p.source)).toBe("2001:db8::d");
    expect(formatIpBytes(p.destination)).toBe("ff02::1");
    expect(p.message).toMatchObject({ type: "neighbor-advertisement", router: false, solicited: false, override: true });
  });

  it("solicitedAdvertisement falls back to the Ethernet source when the solicitation has no link-layer option", () => {
    const noOption = ndpOf(NEIGHBOR_SOLICITATION);
    noOption.message.options = [];
    const reply = solicitedAdvertisement(MAC_B, noOption, Uint8Array.of(2, 0, 0, 0, 0, 0x77));
    expect(formatMac(reply.subarray(0, 6))).toBe("02:00:00:00:00:77");
  });

  it("solicitedAdvertisement refuses an advertisement", () => {
    expect(() => solicitedAdvertisement(MAC_B, ndpOf(NEIGHBOR_ADVERTISEMENT_SOLICITED), MAC_B)).toThrow(
      "solicitedAdvertisement needs a neighbor-solicitation, got a neighbor-advertisement",
    );
  });

  it("unsolicitedAdvertisement is byte-identical to the kernel's own announcement", () => {
    expect(unsolicitedAdvertisement(MAC_B, ipv6("2001:db8::b"))).toEqual(NEIGHBOR_ADVERTISEMENT_UNSOLICITED);
  });

  it("solicited-node multicast address and its MAC", () => {
    const group = solicitedNodeMulticast(ipv6("2001:db8::1:2345:6789"));
    expect(formatIpBytes(group)).toBe("ff02::1:ff45:6789");
    expect(formatMac(ipv6MulticastMac(group))).toBe("33:33:ff:45:67:89");
  });

  it("encodes an option of another type only with a body that fills 8-byte units", () => {
    const p = ndpOf(NEIGHBOR_SOLICITATION_DAD);
    p.message.options = [{ kind: "other", type: 14, body: new Uint8Array(5) }];
    expect(() => encodeNdp(p)).toThrow("NDP option type 14: body must be 6, 14, 22, ... bytes (got 5)");
  });
});
