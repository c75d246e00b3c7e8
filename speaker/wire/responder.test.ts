import { describe, expect, it } from "vitest";
import { decodeArp } from "./arp.ts";
import { decodeEthernet, encodeEthernet } from "./ethernet.ts";
import { formatMac } from "./mac.ts";
import { decodeNdp, encodeNdp } from "./ndp.ts";
import { respondToFrame, type ResponderContext } from "./responder.ts";
import {
  ARP_REPLY,
  ARP_REQUEST,
  ARP_REQUEST_VLAN_100,
  GARP_REPLY,
  GARP_REQUEST,
  MAC_A,
  MAC_B,
  NEIGHBOR_ADVERTISEMENT_SOLICITED,
  NEIGHBOR_ADVERTISEMENT_UNSOLICITED,
  NEIGHBOR_SOLICITATION,
  NEIGHBOR_SOLICITATION_DAD,
  ROUTER_SOLICITATION,
} from "./testdata/captured-frames.ts";

/** We are node B (02:00:00:00:00:0b) unless a test says otherwise. */
const OUR_MAC = MAC_B;
const ctx = (...announced: string[]): ResponderContext => ({ ourMac: OUR_MAC, announced: new Set(announced) });
/** A third machine, C, so that frames from A or B are not "ours". */
const MAC_C = Uint8Array.of(2, 0, 0, 0, 0, 0x0c);

function withEthDestination(frame: Buffer, mac: Uint8Array): Buffer {
  const copy = Buffer.from(frame);
  copy.set(mac, 0);
  return copy;
}

describe("ARP requests", () => {
  it("answers a request for an announced VIP unicast to the requester with our MAC", () => {
    const d = respondToFrame(ARP_REQUEST, ctx("192.0.2.11"));
    expect(d).toMatchObject({ action: "reply", protocol: "arp", ip: "192.0.2.11" });
    if (d.action !== "reply") throw new Error("no reply");
    expect(d.frame).toEqual(ARP_REPLY); // byte-identical to what the kernel answered
    expect(d.conflict).toBeUndefined();
  });

  it("ignores a request for an IP we do not announce", () => {
    expect(respondToFrame(ARP_REQUEST, ctx("192.0.2.99"))).toEqual({ action: "ignore", reason: "target-not-announced" });
  });

  it("answers a request sent unicast to our MAC", () => {
    expect(respondToFrame(withEthDestination(ARP_REQUEST, OUR_MAC), ctx("192.0.2.11")).action).toBe("reply");
  });

  it("ignores a request whose Ethernet destination is another unicast MAC", () => {
    expect(respondToFrame(withEthDestination(ARP_REQUEST, MAC_C), ctx("192.0.2.11"))).toEqual({
      action: "ignore",
      reason: "foreign-ethernet-destination",
    });
  });

  it("ignores a request to a multicast MAC that is not broadcast", () => {
    expect(respondToFrame(withEthDestination(ARP_REQUEST, Uint8Array.of(1, 0, 0x5e, 0, 0, 1)), ctx("192.0.2.11")).action).toBe("ignore");
  });

  it("answers an ARP probe (sender IP 0.0.0.0), defending the VIP", () => {
    const probe = Buffer.from(ARP_REQUEST);
    probe.set([0, 0, 0, 0], 28); // sender IP
    const d = respondToFrame(probe, ctx("192.0.2.11"));
    if (d.action !== "reply") throw new Error(`expected a reply, got ${JSON.stringify(d)}`);
    const arp = decodeArp(d.frame.subarray(14));
    expect(arp.ok && [...arp.packet.targetIp]).toEqual([0, 0, 0, 0]);
  });

  it("ignores a request with a multicast sender MAC rather than answer a group", () => {
    const odd = Buffer.from(ARP_REQUEST);
    odd.set([0x01, 0, 0x5e, 0, 0, 1], 22); // sender MAC
    expect(respondToFrame(odd, ctx("192.0.2.11"))).toEqual({ action: "ignore", reason: "multicast-sender-mac" });
  });

  it("ignores a VLAN-tagged request", () => {
    expect(respondToFrame(ARP_REQUEST_VLAN_100, ctx("192.0.2.11"))).toEqual({ action: "ignore", reason: "vlan-tagged" });
  });

  it("ignores our own frames looped back to the socket", () => {
    expect(respondToFrame(GARP_REQUEST, ctx("192.0.2.11"))).toEqual({ action: "ignore", reason: "own-frame" });
  });

  it("ignores frames from another of this node's MACs, without calling it a conflict", () => {
    const other: ResponderContext = { ourMac: MAC_C, announced: new Set(["192.0.2.11"]), localMacs: new Set([formatMac(MAC_B)]) };
    expect(respondToFrame(GARP_REPLY, other)).toEqual({ action: "ignore", reason: "own-frame" });
  });
});

describe("ARP replies and conflicts", () => {
  // Here we are C and announce 192.0.2.11, which B (the kernel captures) also claims.
  const asC = (...announced: string[]): ResponderContext => ({ ourMac: MAC_C, announced: new Set(announced) });

  it("never answers a reply", () => {
    expect(respondToFrame(ARP_REPLY, asC("192.0.2.10"))).toEqual({ action: "ignore", reason: "arp-reply" });
  });

  it("reports a reply from another MAC for a VIP we announce as a conflict", () => {
    expect(respondToFrame(ARP_REPLY, asC("192.0.2.11"))).toEqual({
      action: "ignore",
      reason: "arp-reply",
      conflict: { ip: "192.0.2.11", mac: "02:00:00:00:00:0b", via: "arp-reply" },
    });
  });

  it("reports a request-style GARP from another MAC for our VIP as a conflict, and does not answer it", () => {
    expect(respondToFrame(GARP_REQUEST, asC("192.0.2.11"))).toEqual({
      action: "ignore",
      reason: "gratuitous-arp",
      conflict: { ip: "192.0.2.11", mac: "02:00:00:00:00:0b", via: "arp-request" },
    });
  });

  it("reports a reply-style GARP from another MAC as a conflict", () => {
    expect(respondToFrame(GARP_REPLY, asC("192.0.2.11"))).toMatchObject({ conflict: { via: "arp-reply", mac: "02:00:00:00:00:0b" } });
  });

  it("reports a request that uses our VIP as its sender IP, and still answers its target", () => {
    // A asks for 192.0.2.11 using 192.0.2.10 as its source; we (C) announce both.
    const d = respondToFrame(ARP_REQUEST, asC("192.0.2.10", "192.0.2.11"));
    expect(d).toMatchObject({ action: "reply", ip: "192.0.2.11", conflict: { ip: "192.0.2.10", mac: "02:00:00:00:00:0a", via: "arp-request" } });
  });

  it("does not report claims for IPs we do not announce", () => {
    expect(respondToFrame(GARP_REQUEST, asC("192.0.2.99"))).toEqual({ action: "ignore", reason: "target-not-announced" });
  });
});

describe("NDP", () => {
  it("answers a solicitation for an announced VIP with a solicited NA from our MAC", () => {
    const d = respondToFrame(NEIGHBOR_SOLICITATION, ctx("2001:db8::b"));
    expect(d).toMatchObject({ action: "reply", protocol: "ndp", ip: "2001:db8::b" });
    if (d.action !== "reply") throw new Error("no reply");
    expect(d.frame).toEqual(NEIGHBOR_ADVERTISEMENT_SOLICITED); // byte-identical to the kernel's answer
  });

  it("ignores a solicitation for an IP we do not announce", () => {
    expect(respondToFrame(NEIGHBOR_SOLICITATION, ctx("2001:db8::99"))).toEqual({ action: "ignore", reason: "target-not-announced" });
  });

  it("ignores a solicitation for the IPv4-mapped form of an announced IPv4 VIP: that address is nobody's", () => {
    // ::ffff:10.0.0.5 as an NS target: VIP text unmaps it (Go's net.IP.String()), but on the wire it is an IPv6
    // address no node has; answering it would claim an address we do not announce.
    const eth = decodeEthernet(NEIGHBOR_SOLICITATION);
    if (!eth.ok) throw new Error("fixture");
    const ndp = decodeNdp(eth.frame.payload);
    if (!ndp.ok) throw new Error("fixture");
    const target = Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 5);
    const frame = encodeEthernet({ ...eth.frame, payload: encodeNdp({ ...ndp.packet, message: { ...ndp.packet.message, target } }) });
    expect(respondToFrame(frame, ctx("10.0.0.5"))).toEqual({ action: "ignore", reason: "target-not-announced" });
  });

  it("ignores a solicitation sent to another unicast MAC", () => {
    expect(respondToFrame(withEthDestination(NEIGHBOR_SOLICITATION, MAC_C), ctx("2001:db8::b"))).toEqual({
      action: "ignore",
      reason: "foreign-ethernet-destination",
    });
  });

  it("answers a DAD probe for an announced VIP (from another machine) at ff02::1", () => {
    const fromA = Buffer.from(NEIGHBOR_SOLICITATION_DAD);
    fromA.set(MAC_A, 6);
    const d = respondToFrame(fromA, ctx("2001:db8::d"));
    if (d.action !== "reply") throw new Error(`expected a reply, got ${JSON.stringify(d)}`);
    expect(formatMac(d.frame.subarray(0, 6))).toBe("33:33:00:00:00:01");
  });

  it("never answers an advertisement, but reports one from another MAC for our VIP as a conflict", () => {
    const asC: ResponderContext = { ourMac: MAC_C, announced: new Set(["2001:db8::b"]) };
    expect(respondToFrame(NEIGHBOR_ADVERTISEMENT_UNSOLICITED, asC)).toEqual({
      action: "ignore",
      reason: "neighbor-advertisement",
      conflict: { ip: "2001:db8::b", mac: "02:00:00:00:00:0b", via: "neighbor-advertisement" },
    });
    expect(respondToFrame(NEIGHBOR_ADVERTISEMENT_UNSOLICITED, { ...asC, announced: new Set() })).toEqual({
      action: "ignore",
      reason: "neighbor-advertisement",
    });
  });

  it("reports a solicitation sent from our VIP by another MAC as a conflict", () => {
    const asC: ResponderContext = { ourMac: MAC_C, announced: new Set(["2001:db8::a"]) };
    expect(respondToFrame(NEIGHBOR_SOLICITATION, asC)).toEqual({
      action: "ignore",
      reason: "target-not-announced",
      conflict: { ip: "2001:db8::a", mac: "02:00:00:00:00:0a", via: "neighbor-solicitation" },
    });
  });

  it("ignores other ICMPv6 as valid traffic, not as malformed", () => {
    const asC: ResponderContext = { ourMac: MAC_C, announced: new Set(["2001:db8::b"]) };
    expect(respondToFrame(ROUTER_SOLICITATION, asC)).toEqual({ action: "ignore", reason: "not-neighbor-discovery" });
  });
});

describe("malformed and foreign frames", () => {
  it("drops a short frame by reason", () => {
    expect(respondToFrame(ARP_REQUEST.subarray(0, 10), ctx())).toEqual({ action: "drop", reason: "short-buffer" });
  });

  it("drops a truncated ARP packet by reason", () => {
    expect(respondToFrame(ARP_REQUEST.subarray(0, 30), ctx())).toEqual({ action: "drop", reason: "short-arp-packet" });
  });

  it("drops an NS with a bad checksum by reason", () => {
    const bad = Buffer.from(NEIGHBOR_SOLICITATION);
    bad[bad.length - 1] ^= 1;
    expect(respondToFrame(bad, ctx("2001:db8::b"))).toEqual({ action: "drop", reason: "bad-checksum" });
  });

  it("ignores other EtherTypes", () => {
    const ipv4 = Buffer.from(ARP_REQUEST);
    ipv4.writeUInt16BE(0x0800, 12);
    expect(respondToFrame(ipv4, ctx())).toEqual({ action: "ignore", reason: "unsupported-ethertype" });
  });

  it("the reply frame is a fresh buffer, not a view of the input", () => {
    const input = Buffer.from(ARP_REQUEST);
    const d = respondToFrame(input, ctx("192.0.2.11"));
    input.fill(0);
    if (d.action !== "reply") throw new Error("no reply");
    const eth = decodeEthernet(d.frame);
    expect(eth.ok && formatMac(eth.frame.destination)).toBe("02:00:00:00:00:0a");
  });
});
