// The native fast path's reply builder, through previewFastReply (no socket, no root needed): byte-exact
// replies, and the same answer/no-answer decision as the TypeScript responder (the reference) on every case.
import { describe, expect, it } from "vitest";
import { previewFastReply, type ReplyTable } from "../l2/packet-socket.ts";
import { respondToFrame } from "../wire/responder.ts";
import {
  BROADCAST,
  ZERO_MAC,
  arpFrame,
  ethernet,
  hex,
  icmpv6Checksum,
  icmpv6Frame,
  ipv4,
  ipv6,
  linkLayerOption,
  mac,
  multicastMac,
  solicitedNode,
  type ArpFields,
  type Icmpv6Fields,
} from "../../test/support/test-frames.ts";

const OUR_MAC = mac("02:b1:b0:00:00:02");
const PEER_MAC = mac("02:b1:b0:00:00:01");
const VIP4 = ipv4("10.77.0.100");
const VIP6 = ipv6("fd77::100");
const PEER4 = ipv4("10.77.0.1");
const PEER6 = ipv6("fd77::1");
const TABLE: ReplyTable = { ipv4: ["10.77.0.100"], ipv6: ["fd77::100"] };

const arpRequest = (over: Partial<ArpFields> = {}) =>
  arpFrame({ ethDst: BROADCAST, ethSrc: PEER_MAC, op: 1, senderMac: PEER_MAC, senderIp: PEER4, targetMac: ZERO_MAC, targetIp: VIP4, ...over });

const solicitation = (over: Partial<Icmpv6Fields> = {}) =>
  icmpv6Frame({
    ethDst: multicastMac(solicitedNode(VIP6)),
    ethSrc: PEER_MAC,
    src: PEER6,
    dst: solicitedNode(VIP6),
    type: 135,
    body: VIP6,
    options: linkLayerOption(1, PEER_MAC),
    ...over,
  });

const dadProbe = (over: Partial<Icmpv6Fields> = {}) => solicitation({ src: Buffer.alloc(16), options: Buffer.alloc(0), ...over });

/** The advertisement we expect, written out field by field; only the checksum is computed. */
function expectedAdvertisement(ethDst: string, ipDst: string, flags: string): Buffer {
  const frame = hex(`
    ${ethDst} 02 b1 b0 00 00 02 86 dd              # Ethernet: to the soliciter, from us, IPv6
    60 00 00 00  00 20 3a ff                       # IPv6: payload 32, ICMPv6, hop limit 255
    fd 77 00 00 00 00 00 00 00 00 00 00 00 00 01 00 # source: the VIP
    ${ipDst}                                       # destination
    88 00 00 00  ${flags} 00 00 00                 # NA, checksum (below), flags
    fd 77 00 00 00 00 00 00 00 00 00 00 00 00 01 00 # target: the VIP
    02 01 02 b1 b0 00 00 02                        # target link-layer address: our MAC
  `);
  frame.writeUInt16BE(icmpv6Checksum(frame.subarray(22, 38), frame.subarray(38, 54), frame.subarray(54)), 56);
  return frame;
}

describe("native fast-path replies", () => {
  it("answers an ARP request for a VIP with a unicast reply from our MAC", () => {
    expect(previewFastReply(arpRequest(), OUR_MAC, TABLE)).toEqual(
      hex(`
        02 b1 b0 00 00 01  02 b1 b0 00 00 02  08 06   # Ethernet: to the requester, from us, ARP
        00 01 08 00 06 04 00 02                      # Ethernet/IPv4, reply
        02 b1 b0 00 00 02  0a 4d 00 64               # sender: our MAC, 10.77.0.100
        02 b1 b0 00 00 01  0a 4d 00 01               # target: the requester
      `),
    );
  });

  it("answers a Neighbour Solicitation for a VIP with a solicited NA to the source link-layer address", () => {
    expect(previewFastReply(solicitation(), OUR_MAC, TABLE)).toEqual(
      expectedAdvertisement("02 b1 b0 00 00 01", "fd 77 00 00 00 00 00 00 00 00 00 00 00 00 00 01", "60"),
    );
  });

  it("answers a unicast NS without link-layer option to the frame's Ethernet source", () => {
    const ns = solicitation({ ethDst: OUR_MAC, dst: VIP6, ethSrc: mac("02:00:00:00:00:77"), options: Buffer.alloc(0) });
    expect(previewFastReply(ns, OUR_MAC, TABLE)).toEqual(
      expectedAdvertisement("02 00 00 00 00 77", "fd 77 00 00 00 00 00 00 00 00 00 00 00 00 00 01", "60"),
    );
  });

  it("answers a DAD probe for a VIP to all-nodes with Solicited clear", () => {
    expect(previewFastReply(dadProbe(), OUR_MAC, TABLE)).toEqual(
      expectedAdvertisement("33 33 00 00 00 01", "ff 02 00 00 00 00 00 00 00 00 00 00 00 00 00 01", "20"),
    );
  });

  it("accepts VIPs as bytes as well as text", () => {
    expect(previewFastReply(arpRequest(), OUR_MAC, { ipv4: [VIP4], ipv6: [] })).not.toBeNull();
    expect(previewFastReply(solicitation(), OUR_MAC, { ipv4: [], ipv6: [VIP6] })).not.toBeNull();
  });

  it("rejects a reply table entry that is not an address of its family, naming it", () => {
    expect(() => previewFastReply(arpRequest(), OUR_MAC, { ipv4: ["10.77.0.300"], ipv6: [] })).toThrow(
      'reply table: IPv4[0] is "10.77.0.300", not an IPv4 address',
    );
    expect(() => previewFastReply(arpRequest(), OUR_MAC, { ipv4: [], ipv6: ["fd77::1", "10.77.0.1"] })).toThrow(
      'reply table: IPv6[1] is "10.77.0.1", not an IPv6 address',
    );
    expect(() => previewFastReply(arpRequest(), OUR_MAC, { ipv4: [Buffer.alloc(16)], ipv6: [] })).toThrow(
      "reply table: IPv4[0] is 16 bytes",
    );
  });

  it("throws a TypeError when the frame or the MAC is not a Uint8Array", () => {
    const notBytes: unknown[] = [new Uint16Array(21), new Float64Array(6), new DataView(new ArrayBuffer(42)), [1, 2, 3], "ff", null];
    for (const value of notBytes) {
      expect(() => previewFastReply(value as Uint8Array, OUR_MAC, TABLE)).toThrow(TypeError);
      expect(() => previewFastReply(arpRequest(), value as Uint8Array, TABLE)).toThrow(TypeError);
    }
    expect(() => previewFastReply(new Uint16Array(21) as unknown as Uint8Array, OUR_MAC, TABLE)).toThrow(
      "usage: buildFastReply(frame: Uint8Array, mac: Uint8Array, ipv4[], ipv6[])",
    );
    // A plain Uint8Array is as good as a Buffer.
    expect(previewFastReply(new Uint8Array(arpRequest()), new Uint8Array(OUR_MAC), TABLE)).not.toBeNull();
  });

  // Each case: the frame, and whether it deserves an answer. The TypeScript responder must agree.
  const cases: [string, Buffer, boolean][] = [
    ["ARP request, broadcast", arpRequest(), true],
    ["ARP request, unicast to our MAC", arpRequest({ ethDst: OUR_MAC }), true],
    ["ARP probe from 0.0.0.0 (RFC 5227)", arpRequest({ senderIp: ipv4("0.0.0.0") }), true],
    ["ARP request with trailing Ethernet padding", Buffer.concat([arpRequest(), Buffer.alloc(18)]), true],
    ["ARP request unicast to another MAC", arpRequest({ ethDst: mac("02:00:00:00:00:99") }), false],
    ["ARP request for an address not in the table", arpRequest({ targetIp: ipv4("10.77.0.101") }), false],
    ["ARP reply for a VIP", arpRequest({ op: 2 }), false],
    ["ARP operation 3", arpRequest({ op: 3 }), false],
    ["gratuitous ARP request for a VIP", arpRequest({ senderIp: VIP4 }), false],
    ["ARP request from a multicast sender MAC", arpRequest({ senderMac: mac("03:00:00:00:00:01") }), false],
    ["ARP with hardware type 6", arpRequest({ hardwareType: 6 }), false],
    ["ARP with protocol type 0x86dd", arpRequest({ protocolType: 0x86dd }), false],
    ["ARP with hardware length 8", arpRequest({ hardwareLength: 8 }), false],
    ["ARP with protocol length 16", arpRequest({ protocolLength: 16 }), false],
    ["ARP truncated to 41 bytes", arpRequest().subarray(0, 41), false],
    ["ARP request from our own MAC", arpRequest({ ethSrc: OUR_MAC, senderMac: OUR_MAC }), false],
    ["802.1Q-tagged ARP request", Buffer.concat([BROADCAST, PEER_MAC, hex("81 00 00 64"), arpRequest().subarray(12)]), false],
    ["NS, multicast, with source link-layer option", solicitation(), true],
    ["NS, unicast to our MAC and the VIP", solicitation({ ethDst: OUR_MAC, dst: VIP6 }), true],
    ["NS with an unknown option kept", solicitation({ options: Buffer.concat([linkLayerOption(1, PEER_MAC), hex("0e 01 01 02 03 04 05 06")]) }), true],
    ["DAD probe", dadProbe(), true],
    ["NS for an address not in the table", solicitation({ body: ipv6("fd77::101"), dst: solicitedNode(ipv6("fd77::101")) }), false],
    ["NS with hop limit 64", solicitation({ hopLimit: 64 }), false],
    ["NS with a bad checksum", solicitation({ checksumError: 0x0101 }), false],
    ["NS with code 1", solicitation({ code: 1 }), false],
    ["NS with a zero-length option", solicitation({ options: hex("01 00 00 00 00 00 00 00") }), false],
    ["NS with a 16-byte source link-layer option", solicitation({ options: Buffer.concat([hex("01 02"), Buffer.alloc(14)]) }), false],
    ["NS with an option running past the end", solicitation({ options: hex("0e 02 00 00 00 00 00 00") }), false],
    ["NS with a multicast target", solicitation({ body: ipv6("ff02::1") }), false],
    ["NS from a multicast source", solicitation({ src: ipv6("ff02::2") }), false],
    ["NS unicast to another MAC", solicitation({ ethDst: mac("02:00:00:00:00:99"), dst: VIP6 }), false],
    ["NS whose source link-layer address is multicast", solicitation({ options: linkLayerOption(1, mac("33:33:00:00:00:01")) }), false],
    ["DAD probe with a source link-layer option", dadProbe({ options: linkLayerOption(1, PEER_MAC) }), false],
    ["DAD probe to the VIP itself rather than its solicited-node group", dadProbe({ dst: VIP6, ethDst: OUR_MAC }), false],
    ["NS behind a hop-by-hop header", solicitation({ nextHeader: 0 }), false],
    ["NS truncated inside the target", solicitation().subarray(0, 14 + 40 + 20), false],
    ["NS whose IPv6 payload length exceeds the frame", solicitation().subarray(0, solicitation().length - 4), false],
    ["NS from our own MAC", solicitation({ ethSrc: OUR_MAC, options: Buffer.alloc(0) }), false],
    ["Neighbour Advertisement for a VIP", solicitation({ type: 136, flags: 0x20000000, options: linkLayerOption(2, PEER_MAC) }), false],
    ["Router Solicitation", icmpv6Frame({ ethDst: multicastMac(ipv6("ff02::2")), ethSrc: PEER_MAC, src: PEER6, dst: ipv6("ff02::2"), type: 133, body: Buffer.alloc(0) }), false],
    ["IPv4 frame", ethernet(OUR_MAC, PEER_MAC, 0x0800, Buffer.alloc(28)), false],
    ["13-byte runt", arpRequest().subarray(0, 13), false],
  ];

  it.each(cases)("%s: answered=%s, as the TypeScript responder decides", (_name, frame, answers) => {
    const native = previewFastReply(frame, OUR_MAC, TABLE);
    const reference = respondToFrame(frame, { ourMac: OUR_MAC, announced: new Set(["10.77.0.100", "fd77::100"]) });
    expect(native !== null).toBe(answers);
    expect(native).toEqual(reference.action === "reply" ? reference.frame : null);
  });
});
