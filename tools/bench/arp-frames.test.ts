import { describe, expect, it } from "vitest";
import { arpReplyOf, arpRequestFrame, ipv4ToNumber, numberToIpv4 } from "./arp-frames.ts";

const mac = Buffer.from("020000000064", "hex");

describe("ARP frames of the benchmark requesters", () => {
  it("builds a broadcast who-has byte for byte", () => {
    const frame = arpRequestFrame(mac, ipv4ToNumber("192.168.126.100"), ipv4ToNumber("10.77.0.1"));
    const expected = [
      "ffffffffffff", // Ethernet destination: broadcast
      "020000000064", // Ethernet source
      "0806", // EtherType ARP
      "0001 0800 06 04 0001", // Ethernet, IPv4, address lengths, request
      "020000000064 c0a87e64", // sender MAC, 192.168.126.100
      "000000000000 0a4d0001", // target MAC unknown, 10.77.0.1
    ].join("");
    expect(frame.toString("hex")).toBe(expected.replaceAll(" ", ""));
  });

  it("reads sender and target of a reply, and nothing from a request", () => {
    const reply = Buffer.from(
      ["020000000064", "02000000000b", "0806", "0001080006040002", "02000000000b0a4d0001", "020000000064c0a87e64"].join(""),
      "hex",
    );
    expect(arpReplyOf(reply)).toEqual({ senderIp: ipv4ToNumber("10.77.0.1"), targetIp: ipv4ToNumber("192.168.126.100") });
    expect(arpReplyOf(arpRequestFrame(mac, 1, 2))).toBeUndefined();
    expect(arpReplyOf(reply.subarray(0, 41))).toBeUndefined();
  });

  it("counts through IPv4 addresses as numbers", () => {
    expect(numberToIpv4(ipv4ToNumber("10.77.0.255") + 1)).toBe("10.77.1.0");
    expect(() => ipv4ToNumber("10.77.0.256")).toThrow('"10.77.0.256" is not an IPv4 address');
  });
});
