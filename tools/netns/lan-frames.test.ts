import { describe, expect, it } from "vitest";
import { ethernetFrame, readPcap, udpFrame, udpOfFrame } from "./lan-frames.ts";

const spec = {
  srcMac: "02:00:00:00:00:01",
  dstMac: "02:00:00:00:00:02",
  srcIp: "192.168.126.11",
  dstIp: "192.168.126.12",
  srcPort: 7947,
  dstPort: 7947,
  payload: Buffer.from('{"v":1}'),
};

describe("udpFrame", () => {
  it("builds an Ethernet/IPv4/UDP frame byte for byte, with valid checksums", () => {
    const frame = udpFrame(spec);
    // Ethernet: destination, source, IPv4
    expect(frame.subarray(0, 14).toString("hex")).toBe("020000000002" + "020000000001" + "0800");
    // IPv4: version 4/IHL 5, TOS 0, total 35, id 0, DF, TTL 64, UDP, checksum, source, destination
    expect(frame.subarray(14, 34).toString("hex")).toBe("4500" + "0023" + "0000" + "4000" + "40" + "11" + "bd61" + "c0a87e0b" + "c0a87e0c");
    // UDP: ports 7947, length 15, checksum, payload
    expect(frame.subarray(34, 40).toString("hex")).toBe("1f0b" + "1f0b" + "000f");
    expect(frame.subarray(42).toString()).toBe('{"v":1}');
    // A header whose checksum is right sums to 0xffff.
    let sum = 0;
    for (let i = 14; i < 34; i += 2) sum += frame.readUInt16BE(i);
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    expect(sum).toBe(0xffff);
  });

  it("decodes back to what it was built from", () => {
    const u = udpOfFrame(udpFrame(spec))!;
    expect({ srcIp: u.srcIp, dstIp: u.dstIp, srcPort: u.srcPort, dstPort: u.dstPort, payload: u.payload.toString() }).toEqual({
      srcIp: spec.srcIp,
      dstIp: spec.dstIp,
      srcPort: 7947,
      dstPort: 7947,
      payload: '{"v":1}',
    });
    // Re-addressed for a replay, the IP packet stays byte-identical.
    expect(udpOfFrame(ethernetFrame("02:00:00:00:00:09", spec.dstMac, u.ipPacket))!.ipPacket).toEqual(u.ipPacket);
  });

  it("rejects addresses that are not addresses", () => {
    expect(() => udpFrame({ ...spec, srcIp: "192.168.126.300" })).toThrow(/not an IPv4 address/);
    expect(() => udpFrame({ ...spec, dstMac: "02:00:00:00:00" })).toThrow(/not a MAC address/);
  });
});

describe("udpOfFrame", () => {
  it("ignores frames that are not IPv4 UDP", () => {
    expect(udpOfFrame(Buffer.alloc(60))).toBeUndefined();
    const tcp = udpFrame(spec);
    tcp[14 + 9] = 6;
    expect(udpOfFrame(tcp)).toBeUndefined();
  });
});

describe("readPcap", () => {
  it("reads a little-endian microsecond pcap file, leaving out a truncated last record", () => {
    const frame = udpFrame(spec);
    const header = Buffer.alloc(24);
    header.writeUInt32LE(0xa1b2c3d4, 0);
    header.writeUInt16LE(2, 4);
    header.writeUInt16LE(4, 6);
    header.writeUInt32LE(262144, 16);
    header.writeUInt32LE(1, 20);
    const record = Buffer.alloc(16);
    record.writeUInt32LE(1_700_000_000, 0);
    record.writeUInt32LE(250_000, 4);
    record.writeUInt32LE(frame.length, 8);
    record.writeUInt32LE(frame.length, 12);
    const file = Buffer.concat([header, record, frame, record, frame.subarray(0, 10)]);
    const records = readPcap(file);
    expect(records).toHaveLength(1);
    expect(records[0].at).toBe(1_700_000_000_250);
    expect(records[0].frame).toEqual(frame);
  });

  it("says what is wrong with a file that is not a pcap of Ethernet frames", () => {
    expect(() => readPcap(Buffer.alloc(10))).toThrow(/shorter than the 24-byte file header/);
    expect(() => readPcap(Buffer.alloc(24))).toThrow(/unknown magic number/);
    const header = Buffer.alloc(24);
    header.writeUInt32LE(0xa1b2c3d4, 0);
    header.writeUInt32LE(113, 20);
    expect(() => readPcap(header)).toThrow(/link type 113/);
  });
});
