/**
 * ARP for Ethernet/IPv4 (RFC 826: htype 1, ptype 0x0800, hlen 6, plen 4) as plain values, plus builders for the
 * three frames the speaker sends.
 *
 * Gratuitous ARP, what each sender puts on the wire (sender IP = target IP = the address, Ethernet destination
 * broadcast in every case):
 *
 * | sender                          | op          | target MAC          |
 * |---------------------------------|-------------|---------------------|
 * | Linux kernel (arp_notify)       | 1 request   | 00:00:00:00:00:00   |
 * | iputils `arping -U`             | 1 request   | ff:ff:ff:ff:ff:ff   |
 * | iputils `arping -A`             | 2 reply     | sender's own MAC    |
 * | MetalLB (mdlayher/arp)          | 1 and 2     | ff:ff:ff:ff:ff:ff   |
 * | baremetal-lb `garpRequest`      | 1 request   | 00:00:00:00:00:00   |
 * | baremetal-lb `garpReply`        | 2 reply     | sender's own MAC    |
 *
 * Why: Linux's `arp_is_garp()` (net/ipv4/arp.c) treats a *reply* as gratuitous only when its target MAC equals
 * its sender MAC; only then does it override an entry updated less than `locktime` (1 s) ago. MetalLB's
 * broadcast-target reply is therefore ignored inside the locktime, ours is not. The request form matches the
 * kernel's own announcement (RFC 5227 section 2.3), and RFC 5944 section 4.6 specifies both forms exactly so.
 * Request-style GARPs always update an existing entry; Linux creates no new entry from either unless
 * `arp_accept` is set.
 */
import { BROADCAST_MAC, ETHERTYPE_ARP, encodeEthernet } from "./ethernet.ts";

/** ARP operation code of a request. */
export const ARP_REQUEST = 1;
/** ARP operation code of a reply. */
export const ARP_REPLY = 2;

/** An Ethernet/IPv4 ARP packet. MACs are 6 bytes, IPs 4 bytes; decoded arrays are views into the input. */
export interface ArpPacket {
  operation: typeof ARP_REQUEST | typeof ARP_REPLY;
  senderMac: Uint8Array;
  senderIp: Uint8Array;
  targetMac: Uint8Array;
  targetIp: Uint8Array;
}

/** Why an ARP payload was dropped. */
export type ArpDropReason =
  | "short-arp-packet"
  | "unsupported-hardware-type"
  | "unsupported-protocol-type"
  | "unsupported-address-length"
  | "unsupported-arp-operation";

/** Result of `decodeArp`. */
export type ArpDecodeResult = { ok: true; packet: ArpPacket } | { ok: false; reason: ArpDropReason };

const ZERO_MAC = new Uint8Array(6);

/**
 * Decodes the payload of an ARP Ethernet frame. Bytes after the 28-byte packet (Ethernet padding) are ignored.
 * Never throws.
 *
 * @example
 * const r = decodeArp(frame.payload);
 * if (r.ok && r.packet.operation === ARP_REQUEST) console.log(formatIpBytes(r.packet.targetIp));
 */
export function decodeArp(payload: Uint8Array): ArpDecodeResult {
  if (payload.length < 8) return { ok: false, reason: "short-arp-packet" };
  if (payload[0] !== 0 || payload[1] !== 1) return { ok: false, reason: "unsupported-hardware-type" };
  if (payload[2] !== 0x08 || payload[3] !== 0x00) return { ok: false, reason: "unsupported-protocol-type" };
  if (payload[4] !== 6 || payload[5] !== 4) return { ok: false, reason: "unsupported-address-length" };
  const op = (payload[6] << 8) | payload[7];
  if (op !== ARP_REQUEST && op !== ARP_REPLY) return { ok: false, reason: "unsupported-arp-operation" };
  if (payload.length < 28) return { ok: false, reason: "short-arp-packet" };
  return {
    ok: true,
    packet: {
      operation: op,
      senderMac: payload.subarray(8, 14),
      senderIp: payload.subarray(14, 18),
      targetMac: payload.subarray(18, 24),
      targetIp: payload.subarray(24, 28),
    },
  };
}

/**
 * Encodes an ARP packet (28 bytes). Throws a RangeError naming the field if an address has the wrong length.
 *
 * @example encodeArp({ operation: ARP_REQUEST, senderMac, senderIp, targetMac: new Uint8Array(6), targetIp })
 */
export function encodeArp(packet: ArpPacket): Buffer {
  requireLength("senderMac", packet.senderMac, 6);
  requireLength("senderIp", packet.senderIp, 4);
  requireLength("targetMac", packet.targetMac, 6);
  requireLength("targetIp", packet.targetIp, 4);
  if (packet.operation !== ARP_REQUEST && packet.operation !== ARP_REPLY) {
    throw new RangeError(`ARP operation must be 1 (request) or 2 (reply), got ${String(packet.operation)}`);
  }
  const out = Buffer.allocUnsafe(28);
  out.writeUInt16BE(1, 0); // hardware type: Ethernet
  out.writeUInt16BE(0x0800, 2); // protocol type: IPv4
  out[4] = 6;
  out[5] = 4;
  out.writeUInt16BE(packet.operation, 6);
  out.set(packet.senderMac, 8);
  out.set(packet.senderIp, 14);
  out.set(packet.targetMac, 18);
  out.set(packet.targetIp, 24);
  return out;
}

/**
 * The Ethernet frame answering `request`: "request.targetIp is-at ourMac", sent unicast to the requester
 * (Ethernet destination and target MAC = the request's sender MAC), as the kernel and MetalLB do.
 *
 * @example socket.send(arpReply(ourMac, decoded.packet))
 */
export function arpReply(ourMac: Uint8Array, request: ArpPacket): Buffer {
  const arp = encodeArp({
    operation: ARP_REPLY,
    senderMac: ourMac,
    senderIp: request.targetIp,
    targetMac: request.senderMac,
    targetIp: request.senderIp,
  });
  return encodeEthernet({ destination: request.senderMac, source: ourMac, etherType: ETHERTYPE_ARP, payload: arp });
}

/**
 * A request-style gratuitous ARP frame for `ip` (4 bytes): op 1, sender = target = ip, target MAC zero,
 * Ethernet broadcast. Byte-identical to the kernel's own announcement.
 *
 * @example socket.send(garpRequest(ourMac, Uint8Array.of(192, 0, 2, 10)))
 */
export function garpRequest(ourMac: Uint8Array, ip: Uint8Array): Buffer {
  return gratuitous(ARP_REQUEST, ourMac, ip, ZERO_MAC);
}

/**
 * A reply-style gratuitous ARP frame for `ip` (4 bytes): op 2, sender = target = ip, target MAC = our MAC
 * (so Linux overrides its locktime, see the module comment), Ethernet broadcast.
 *
 * @example socket.send(garpReply(ourMac, Uint8Array.of(192, 0, 2, 10)))
 */
export function garpReply(ourMac: Uint8Array, ip: Uint8Array): Buffer {
  return gratuitous(ARP_REPLY, ourMac, ip, ourMac);
}

function gratuitous(operation: ArpPacket["operation"], mac: Uint8Array, ip: Uint8Array, targetMac: Uint8Array): Buffer {
  const arp = encodeArp({ operation, senderMac: mac, senderIp: ip, targetMac, targetIp: ip });
  return encodeEthernet({ destination: BROADCAST_MAC, source: mac, etherType: ETHERTYPE_ARP, payload: arp });
}

function requireLength(field: string, value: Uint8Array, length: number): void {
  if (value.length !== length) throw new RangeError(`ARP ${field} must be ${length} bytes, got ${value.length}`);
}
