import { describe, expect, it } from "vitest";
import { conflictProbe } from "./conflict-probe.ts";
import { respondToFrame } from "./responder.ts";
import { decodeEthernet } from "./ethernet.ts";
import { decodeArp } from "./arp.ts";
import { decodeNdp } from "./ndp.ts";

const ours = Uint8Array.of(0x02, 0, 0, 0, 0, 0x01);

describe("conflict probes", () => {
  it("IPv4: an RFC 5227 ARP probe, byte for byte", () => {
    const frame = conflictProbe(ours, Uint8Array.of(192, 168, 126, 40));
    expect(frame.toString("hex")).toBe(
      "ffffffffffff" + "020000000001" + "0806" + // Ethernet: broadcast, from us, ARP
        "0001" + "0800" + "06" + "04" + "0001" + // Ethernet/IPv4, request
        "020000000001" + "00000000" + // sender: our MAC, 0.0.0.0
        "000000000000" + "c0a87e28", // target: unknown MAC, 192.168.126.40
    );
    const eth = decodeEthernet(frame);
    expect(eth.ok && decodeArp(eth.frame.payload).ok).toBe(true);
  });

  it("IPv6: a DAD solicitation to the VIP's solicited-node group that our own decoder accepts", () => {
    const vip = Uint8Array.from(Buffer.from("fd000126000000000000000000000040", "hex"));
    const frame = conflictProbe(ours, vip);
    expect(frame.subarray(0, 6).toString("hex")).toBe("3333ff000040");
    const eth = decodeEthernet(frame);
    expect(eth.ok).toBe(true);
    const ndp = decodeNdp(eth.ok ? eth.frame.payload : new Uint8Array());
    expect(ndp.ok && ndp.packet.message.type).toBe("neighbor-solicitation");
  });

  it("is never answered by our own responder, even for a VIP we announce", () => {
    const frame = conflictProbe(ours, Uint8Array.of(192, 168, 126, 40));
    const decision = respondToFrame(frame, { ourMac: ours, announced: new Set(["192.168.126.40"]) });
    expect(decision).toEqual({ action: "ignore", reason: "own-frame" });
  });
});
