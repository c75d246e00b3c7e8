import { describe, expect, it } from "vitest";
import { formatIpBytes } from "../../shared/ip/bytes.ts";
import { ARP_REPLY, ARP_REQUEST, arpReply, decodeArp, encodeArp, garpReply, garpRequest, type ArpPacket } from "./arp.ts";
import { decodeEthernet } from "./ethernet.ts";
import { formatMac } from "./mac.ts";
import { ARP_REPLY as KERNEL_REPLY, ARP_REQUEST as KERNEL_REQUEST, GARP_REPLY, GARP_REQUEST, MAC_B } from "./testdata/captured-frames.ts";

function arpOf(frame: Buffer): ArpPacket {
  const eth = decodeEthernet(frame);
  if (!eth.ok) throw new Error(eth.reason);
  const arp = decodeArp(eth.frame.payload);
  if (!arp.ok) throw new Error(arp.reason);
  return arp.packet;
}

function describePacket(p: ArpPacket) {
  return {
    operation: p.operation,
    senderMac: formatMac(p.senderMac),
    senderIp: formatIpBytes(p.senderIp),
    targetMac: formatMac(p.targetMac),
    targetIp: formatIpBytes(p.targetIp),
  };
}

describe("decodeArp / encodeArp on captured frames", () => {
  it.each([
    ["kernel request", KERNEL_REQUEST, { operation: ARP_REQUEST, senderMac: "02:00:00:00:00:0a", senderIp: "192.0.2.10", targetMac: "00:00:00:00:00:00", targetIp: "192.0.2.11" }],
    ["kernel reply", KERNEL_REPLY, { operation: ARP_REPLY, senderMac: "02:00:00:00:00:0b", senderIp: "192.0.2.11", targetMac: "02:00:00:00:00:0a", targetIp: "192.0.2.10" }],
    ["kernel GARP (request-style)", GARP_REQUEST, { operation: ARP_REQUEST, senderMac: "02:00:00:00:00:0b", senderIp: "192.0.2.11", targetMac: "00:00:00:00:00:00", targetIp: "192.0.2.11" }],
    ["arping -A GARP (reply-style)", GARP_REPLY, { operation: ARP_REPLY, senderMac: "02:00:00:00:00:0b", senderIp: "192.0.2.11", targetMac: "02:00:00:00:00:0b", targetIp: "192.0.2.11" }],
  ])("%s decodes to known values and encodes back to itself", (_name, frame, expected) => {
    const packet = arpOf(frame);
    expect(describePacket(packet)).toEqual(expected);
    expect(encodeArp(packet)).toEqual(frame.subarray(14));
  });

  it("ignores Ethernet padding after the 28-byte packet", () => {
    const padded = Buffer.concat([KERNEL_REQUEST, Buffer.alloc(18)]); // 60 bytes, as a NIC pads it
    expect(describePacket(arpOf(padded)).targetIp).toBe("192.0.2.11");
  });
});

describe("decodeArp drops malformed packets by reason", () => {
  const good = KERNEL_REQUEST.subarray(14);
  const patched = (at: number, ...bytes: number[]) => {
    const copy = Buffer.from(good);
    copy.set(bytes, at);
    return copy;
  };
  it.each([
    ["empty", Buffer.alloc(0), "short-arp-packet"],
    ["cut inside the header", good.subarray(0, 7), "short-arp-packet"],
    ["cut inside the addresses", good.subarray(0, 27), "short-arp-packet"],
    ["hardware type 6 (IEEE 802)", patched(0, 0, 6), "unsupported-hardware-type"],
    ["protocol type IPv6", patched(2, 0x86, 0xdd), "unsupported-protocol-type"],
    ["hardware length 8", patched(4, 8), "unsupported-address-length"],
    ["protocol length 16", patched(5, 16), "unsupported-address-length"],
    ["operation 3 (RARP request)", patched(6, 0, 3), "unsupported-arp-operation"],
    ["operation 0", patched(6, 0, 0), "unsupported-arp-operation"],
  ])("%s → %s", (_name, bytes, reason) => {
    expect(decodeArp(bytes)).toEqual({ ok: false, reason });
  });
});

describe("builders", () => {
  it("arpReply answers the kernel's request byte for byte as the kernel did", () => {
    expect(arpReply(MAC_B, arpOf(KERNEL_REQUEST))).toEqual(KERNEL_REPLY);
  });

  it("garpRequest is byte-identical to the kernel's own announcement", () => {
    expect(garpRequest(MAC_B, Uint8Array.of(192, 0, 2, 11))).toEqual(GARP_REQUEST);
  });

  it("garpReply puts our MAC in the target MAC field, as arping -A does", () => {
    expect(garpReply(MAC_B, Uint8Array.of(192, 0, 2, 11))).toEqual(GARP_REPLY);
  });

  it("names the field when an address has the wrong length", () => {
    expect(() => garpRequest(MAC_B, Uint8Array.of(192, 0, 2))).toThrow("ARP senderIp must be 4 bytes, got 3");
    expect(() => garpReply(new Uint8Array(8), Uint8Array.of(192, 0, 2, 1))).toThrow("ARP senderMac must be 6 bytes, got 8");
  });
});
