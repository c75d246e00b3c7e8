import { describe, expect, it } from "vitest";
import { BROADCAST_MAC, ETHERTYPE_ARP, decodeEthernet, encodeEthernet } from "./ethernet.ts";
import { formatMac } from "./mac.ts";
import { ARP_REQUEST, ARP_REQUEST_VLAN_100, NEIGHBOR_SOLICITATION } from "./testdata/captured-frames.ts";

describe("decodeEthernet", () => {
  it("decodes the kernel's ARP request and encodes it back to the same bytes", () => {
    const r = decodeEthernet(ARP_REQUEST);
    if (!r.ok) throw new Error(r.reason);
    expect(formatMac(r.frame.destination)).toBe("ff:ff:ff:ff:ff:ff");
    expect(formatMac(r.frame.source)).toBe("02:00:00:00:00:0a");
    expect(r.frame.etherType).toBe(0x0806);
    expect(r.frame.vlan).toBeUndefined();
    expect(r.frame.payload.length).toBe(28);
    expect(encodeEthernet(r.frame)).toEqual(ARP_REQUEST);
  });

  it("decodes an 802.1Q tag and keeps it on re-encode", () => {
    const r = decodeEthernet(ARP_REQUEST_VLAN_100);
    if (!r.ok) throw new Error(r.reason);
    expect(r.frame.vlan).toEqual({ id: 100, priority: 5, dropEligible: false });
    expect(r.frame.etherType).toBe(ETHERTYPE_ARP);
    expect(Buffer.from(r.frame.payload)).toEqual(ARP_REQUEST.subarray(14));
    expect(encodeEthernet(r.frame)).toEqual(ARP_REQUEST_VLAN_100);
  });

  it("decodes the IPv6 EtherType", () => {
    const r = decodeEthernet(NEIGHBOR_SOLICITATION);
    expect(r.ok && r.frame.etherType).toBe(0x86dd);
  });

  it("accepts a header with an empty payload", () => {
    const r = decodeEthernet(ARP_REQUEST.subarray(0, 14));
    expect(r.ok && r.frame.payload.length).toBe(0);
  });

  it.each([0, 1, 13])("drops a %i-byte buffer as short-buffer", (n) => {
    expect(decodeEthernet(ARP_REQUEST.subarray(0, n))).toEqual({ ok: false, reason: "short-buffer" });
  });

  it.each([14, 15, 17])("drops a tagged frame cut to %i bytes as short-vlan-header", (n) => {
    expect(decodeEthernet(ARP_REQUEST_VLAN_100.subarray(0, n))).toEqual({ ok: false, reason: "short-vlan-header" });
  });
});

describe("encodeEthernet", () => {
  it("writes a tag with DEI set", () => {
    const bytes = encodeEthernet({
      destination: BROADCAST_MAC,
      source: Uint8Array.of(2, 0, 0, 0, 0, 1),
      vlan: { id: 4095, priority: 7, dropEligible: true },
      etherType: ETHERTYPE_ARP,
      payload: new Uint8Array(0),
    });
    expect(bytes.subarray(12).toString("hex")).toBe("8100ffff0806");
  });

  it("names the field when an address has the wrong length", () => {
    expect(() =>
      encodeEthernet({ destination: new Uint8Array(5), source: BROADCAST_MAC, etherType: 1, payload: new Uint8Array(0) }),
    ).toThrow("Ethernet frame destination must be 6 bytes, got 5");
    expect(() =>
      encodeEthernet({ destination: BROADCAST_MAC, source: BROADCAST_MAC, etherType: 0x10000, payload: new Uint8Array(0) }),
    ).toThrow("etherType must be an integer in 0..65535");
  });
});
