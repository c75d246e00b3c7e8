/**
 * IPv6 Neighbour Discovery (RFC 4861) as plain values: an IPv6 header carrying an ICMPv6 Neighbour Solicitation
 * (type 135) or Neighbour Advertisement (type 136), with the ICMPv6 checksum over the IPv6 pseudo-header
 * (RFC 8200 section 8.1) verified on decode and computed on encode.
 *
 * Decoding applies RFC 4861's validity checks (sections 7.1.1 and 7.1.2): hop limit 255, code 0, ICMPv6 length
 * >= 24, valid checksum, target not multicast, no zero-length option; for a solicitation from the unspecified
 * address, a solicited-node multicast destination and no source link-layer option; for an advertisement to a
 * multicast destination, the Solicited flag clear. A multicast source is dropped as well (RFC 4291 2.7).
 * Options other than the link-layer ones (for example the RFC 7527 nonce in Linux's DAD probes) are kept as
 * they are, in order, so encoding gives the same bytes back.
 *
 * The advertisements we build use the target address as their IPv6 source, as Linux does for its own addresses
 * (see the captured fixtures). The VIP is never bound to an interface, but nothing on the receiving side
 * requires that; MetalLB uses the link-local address instead.
 */
import { ETHERTYPE_IPV6, encodeEthernet } from "./ethernet.ts";

/** ICMPv6 type of a Neighbour Solicitation. */
export const ICMPV6_NEIGHBOR_SOLICITATION = 135;
/** ICMPv6 type of a Neighbour Advertisement. */
export const ICMPV6_NEIGHBOR_ADVERTISEMENT = 136;
/** ff02::1, the all-nodes multicast address. Treat as read-only. */
export const ALL_NODES_ADDRESS: Uint8Array = Uint8Array.of(0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1);

/**
 * One NDP option. Link-layer options (types 1 and 2, length 1) carry a 6-byte MAC; any other option is kept raw
 * (`body` is the option without its 2-byte type/length header, so `body.length + 2` is a multiple of 8).
 */
export type NdpOption =
  | { kind: "source-link-layer"; mac: Uint8Array }
  | { kind: "target-link-layer"; mac: Uint8Array }
  | { kind: "other"; type: number; body: Uint8Array };

/** A Neighbour Solicitation: "who has `target`?". */
export interface NeighborSolicitation {
  type: "neighbor-solicitation";
  target: Uint8Array;
  options: NdpOption[];
}

/** A Neighbour Advertisement: "`target` is at (target link-layer option)", with the R, S and O flags. */
export interface NeighborAdvertisement {
  type: "neighbor-advertisement";
  router: boolean;
  solicited: boolean;
  override: boolean;
  target: Uint8Array;
  options: NdpOption[];
}

/**
 * An IPv6 packet carrying an NS or NA. Addresses are 16 bytes (views into the input when decoded). The hop limit
 * is always 255 (anything else is dropped on decode and never encoded).
 */
export interface NdpPacket {
  source: Uint8Array;
  destination: Uint8Array;
  trafficClass: number;
  flowLabel: number;
  message: NeighborSolicitation | NeighborAdvertisement;
}

/** Why an IPv6 payload was dropped. "not-icmpv6" and "not-neighbor-discovery" are valid traffic that is not NDP. */
export type NdpDropReason =
  | "short-ipv6-header"
  | "not-ipv6"
  | "not-icmpv6"
  | "truncated-ipv6-payload"
  | "short-icmpv6-message"
  | "not-neighbor-discovery"
  | "bad-hop-limit"
  | "bad-icmpv6-code"
  | "bad-checksum"
  | "multicast-source"
  | "multicast-target"
  | "bad-option-length"
  | "bad-link-layer-option"
  | "dad-with-source-link-layer"
  | "dad-not-to-solicited-node"
  | "solicited-flag-on-multicast";

/** Result of `decodeNdp`. */
export type NdpDecodeResult = { ok: true; packet: NdpPacket } | { ok: false; reason: NdpDropReason };

const IPV6_HEADER = 40;
const NEXT_HEADER_ICMPV6 = 58;
const FLAG_ROUTER = 0x80;
const FLAG_SOLICITED = 0x40;
const FLAG_OVERRIDE = 0x20;
const ALL_NODES_MAC = Uint8Array.of(0x33, 0x33, 0, 0, 0, 1);

/**
 * Decodes the payload of an IPv6 Ethernet frame as an NS or NA, validating it as RFC 4861 requires. Bytes after
 * the IPv6 payload length (Ethernet padding) are ignored. Never throws.
 *
 * @example
 * const r = decodeNdp(frame.payload);
 * if (r.ok && r.packet.message.type === "neighbor-solicitation") console.log(formatIpBytes(r.packet.message.target));
 */
export function decodeNdp(buf: Uint8Array): NdpDecodeResult {
  if (buf.length < IPV6_HEADER) return { ok: false, reason: "short-ipv6-header" };
  if (buf[0] >> 4 !== 6) return { ok: false, reason: "not-ipv6" };
  if (buf[6] !== NEXT_HEADER_ICMPV6) return { ok: false, reason: "not-icmpv6" };
  const payloadLength = (buf[4] << 8) | buf[5];
  if (payloadLength > buf.length - IPV6_HEADER) return { ok: false, reason: "truncated-ipv6-payload" };
  if (payloadLength < 4) return { ok: false, reason: "short-icmpv6-message" };
  const icmp = buf.subarray(IPV6_HEADER, IPV6_HEADER + payloadLength);
  const type = icmp[0];
  if (type !== ICMPV6_NEIGHBOR_SOLICITATION && type !== ICMPV6_NEIGHBOR_ADVERTISEMENT) {
    return { ok: false, reason: "not-neighbor-discovery" };
  }
  if (buf[7] !== 255) return { ok: false, reason: "bad-hop-limit" };
  if (payloadLength < 24) return { ok: false, reason: "short-icmpv6-message" };
  if (icmp[1] !== 0) return { ok: false, reason: "bad-icmpv6-code" };
  const source = buf.subarray(8, 24);
  const destination = buf.subarray(24, 40);
  if (onesComplementSum(pseudoHeaderSum(source, destination, payloadLength), icmp) !== 0xffff) {
    return { ok: false, reason: "bad-checksum" };
  }
  if (source[0] === 0xff) return { ok: false, reason: "multicast-source" };
  const target = icmp.subarray(8, 24);
  if (target[0] === 0xff) return { ok: false, reason: "multicast-target" };
  const parsed = decodeOptions(icmp.subarray(24));
  if (!Array.isArray(parsed)) return { ok: false, reason: parsed };
  const options = parsed;
  const trafficClass = ((buf[0] & 0x0f) << 4) | (buf[1] >> 4);
  const flowLabel = ((buf[1] & 0x0f) << 16) | (buf[2] << 8) | buf[3];
  let message: NeighborSolicitation | NeighborAdvertisement;
  if (type === ICMPV6_NEIGHBOR_SOLICITATION) {
    if (isUnspecified(source)) {
      if (options.some((o) => o.kind === "source-link-layer")) return { ok: false, reason: "dad-with-source-link-layer" };
      if (!isSolicitedNodeMulticast(destination)) return { ok: false, reason: "dad-not-to-solicited-node" };
    }
    message = { type: "neighbor-solicitation", target, options };
  } else {
    const flags = icmp[4];
    const solicited = (flags & FLAG_SOLICITED) !== 0;
    if (solicited && destination[0] === 0xff) return { ok: false, reason: "solicited-flag-on-multicast" };
    message = {
      type: "neighbor-advertisement",
      router: (flags & FLAG_ROUTER) !== 0,
      solicited,
      override: (flags & FLAG_OVERRIDE) !== 0,
      target,
      options,
    };
  }
  return { ok: true, packet: { source, destination, trafficClass, flowLabel, message } };
}

/**
 * Encodes an NS or NA as an IPv6 packet (hop limit 255, checksum computed). Throws a RangeError naming the field
 * if an address or option has the wrong size (a programming error, not wire input).
 *
 * @example encodeNdp({ source, destination: ALL_NODES_ADDRESS, trafficClass: 0, flowLabel: 0, message: na })
 */
export function encodeNdp(packet: NdpPacket): Buffer {
  const { message } = packet;
  requireLength("source", packet.source, 16);
  requireLength("destination", packet.destination, 16);
  requireLength("target", message.target, 16);
  requireRange("trafficClass", packet.trafficClass, 0xff);
  requireRange("flowLabel", packet.flowLabel, 0xfffff);
  let optionsLength = 0;
  for (const o of message.options) optionsLength += optionSize(o);
  const icmpLength = 24 + optionsLength;
  const out = Buffer.alloc(IPV6_HEADER + icmpLength);
  out.writeUInt32BE(((6 << 28) | (packet.trafficClass << 20) | packet.flowLabel) >>> 0, 0);
  out.writeUInt16BE(icmpLength, 4);
  out[6] = NEXT_HEADER_ICMPV6;
  out[7] = 255;
  out.set(packet.source, 8);
  out.set(packet.destination, 24);
  const icmp = out.subarray(IPV6_HEADER);
  if (message.type === "neighbor-solicitation") {
    icmp[0] = ICMPV6_NEIGHBOR_SOLICITATION;
  } else {
    icmp[0] = ICMPV6_NEIGHBOR_ADVERTISEMENT;
    icmp[4] =
      (message.router ? FLAG_ROUTER : 0) | (message.solicited ? FLAG_SOLICITED : 0) | (message.override ? FLAG_OVERRIDE : 0);
  }
  icmp.set(message.target, 8);
  let at = 24;
  for (const o of message.options) {
    if (o.kind === "other") {
      icmp[at] = o.type;
      icmp[at + 1] = (o.body.length + 2) / 8;
      icmp.set(o.body, at + 2);
      at += o.body.length + 2;
    } else {
      requireLength(`${o.kind} option`, o.mac, 6);
      icmp[at] = o.kind === "source-link-layer" ? 1 : 2;
      icmp[at + 1] = 1;
      icmp.set(o.mac, at + 2);
      at += 8;
    }
  }
  const checksum = ~onesComplementSum(pseudoHeaderSum(packet.source, packet.destination, icmpLength), icmp) & 0xffff;
  icmp.writeUInt16BE(checksum, 2);
  return out;
}

/**
 * The ICMPv6 checksum of `icmp` (its checksum field must be zero) sent from `source` to `destination`.
 *
 * @example icmpv6Checksum(src, ALL_NODES_ADDRESS, icmpWithZeroChecksum) // 0xf90c for the captured unsolicited NA
 */
export function icmpv6Checksum(source: Uint8Array, destination: Uint8Array, icmp: Uint8Array): number {
  return ~onesComplementSum(pseudoHeaderSum(source, destination, icmp.length), icmp) & 0xffff;
}

/**
 * The MAC from the first source (NS) or target (NA) link-layer address option, if any.
 *
 * @example linkLayerAddress(ns.options, "source-link-layer") // Uint8Array(6) or undefined
 */
export function linkLayerAddress(
  options: readonly NdpOption[],
  kind: "source-link-layer" | "target-link-layer",
): Uint8Array | undefined {
  for (const o of options) if (o.kind === kind) return o.mac;
  return undefined;
}

/**
 * The solicited-node multicast address ff02::1:ffXX:XXXX of a 16-byte IPv6 address (its low 24 bits).
 *
 * @example formatIpBytes(solicitedNodeMulticast(vipBytes)) // "ff02::1:ff00:b" for 2001:db8::b
 */
export function solicitedNodeMulticast(ip: Uint8Array): Uint8Array {
  requireLength("address", ip, 16);
  const out = Uint8Array.of(0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0, 0, 0);
  out.set(ip.subarray(13, 16), 13);
  return out;
}

/**
 * The Ethernet multicast MAC of an IPv6 multicast address: 33:33 and its low 32 bits (RFC 2464 section 7).
 * For a solicited-node address that is 33:33:ff:xx:xx:xx.
 *
 * @example formatMac(ipv6MulticastMac(solicitedNodeMulticast(vip))) // "33:33:ff:00:00:0b"
 */
export function ipv6MulticastMac(group: Uint8Array): Uint8Array {
  requireLength("multicast group", group, 16);
  return Uint8Array.of(0x33, 0x33, group[12], group[13], group[14], group[15]);
}

/**
 * The Ethernet frame answering a decoded Neighbour Solicitation for an address we announce (RFC 4861 7.2.4):
 * an NA with Override set, Router clear and our MAC as target link-layer option. To a solicitation from a
 * unicast address it goes back to that address and to its link-layer address (the source link-layer option,
 * else the frame's Ethernet source) with Solicited set; to a DAD probe (source ::) it goes to ff02::1 with
 * Solicited clear, as the RFC requires. Throws a RangeError if `solicitation` does not carry an NS.
 *
 * @example socket.send(solicitedAdvertisement(ourMac, decoded.packet, frame.source))
 */
export function solicitedAdvertisement(ourMac: Uint8Array, solicitation: NdpPacket, ethernetSource: Uint8Array): Buffer {
  const ns = solicitation.message;
  if (ns.type !== "neighbor-solicitation") {
    throw new RangeError(`solicitedAdvertisement needs a neighbor-solicitation, got a ${ns.type}`);
  }
  const dad = isUnspecified(solicitation.source);
  const ip = encodeNdp({
    source: ns.target,
    destination: dad ? ALL_NODES_ADDRESS : solicitation.source,
    trafficClass: 0,
    flowLabel: 0,
    message: advertisement(ourMac, ns.target, !dad),
  });
  const destination = dad ? ALL_NODES_MAC : (linkLayerAddress(ns.options, "source-link-layer") ?? ethernetSource);
  return encodeEthernet({ destination, source: ourMac, etherType: ETHERTYPE_IPV6, payload: ip });
}

/**
 * The unsolicited Neighbour Advertisement announcing `ip` (16 bytes) at our MAC: to ff02::1 (Ethernet
 * 33:33:00:00:00:01), Override set, Solicited and Router clear, target link-layer option. Byte-identical to the
 * kernel's own announcement with `ndisc_notify`.
 *
 * @example socket.send(unsolicitedAdvertisement(ourMac, ipToBytes(vip)))
 */
export function unsolicitedAdvertisement(ourMac: Uint8Array, ip: Uint8Array): Buffer {
  const packet = encodeNdp({
    source: ip,
    destination: ALL_NODES_ADDRESS,
    trafficClass: 0,
    flowLabel: 0,
    message: advertisement(ourMac, ip, false),
  });
  return encodeEthernet({ destination: ALL_NODES_MAC, source: ourMac, etherType: ETHERTYPE_IPV6, payload: packet });
}

function advertisement(ourMac: Uint8Array, target: Uint8Array, solicited: boolean): NeighborAdvertisement {
  return {
    type: "neighbor-advertisement",
    router: false,
    solicited,
    override: true,
    target,
    options: [{ kind: "target-link-layer", mac: ourMac }],
  };
}

function decodeOptions(buf: Uint8Array): NdpOption[] | "bad-option-length" | "bad-link-layer-option" {
  const options: NdpOption[] = [];
  let at = 0;
  while (at < buf.length) {
    if (buf.length - at < 2) return "bad-option-length";
    const type = buf[at];
    const size = buf[at + 1] * 8;
    if (size === 0 || at + size > buf.length) return "bad-option-length";
    if (type === 1 || type === 2) {
      if (size !== 8) return "bad-link-layer-option";
      const mac = buf.subarray(at + 2, at + 8);
      options.push(type === 1 ? { kind: "source-link-layer", mac } : { kind: "target-link-layer", mac });
    } else {
      options.push({ kind: "other", type, body: buf.subarray(at + 2, at + size) });
    }
    at += size;
  }
  return options;
}

function optionSize(o: NdpOption): number {
  if (o.kind !== "other") return 8;
  const size = o.body.length + 2;
  if (size % 8 !== 0 || size > 255 * 8 || !Number.isInteger(o.type) || o.type < 0 || o.type > 255) {
    throw new RangeError(`NDP option type ${o.type}: body must be 6, 14, 22, ... bytes (got ${o.body.length})`);
  }
  return size;
}

function pseudoHeaderSum(source: Uint8Array, destination: Uint8Array, upperLength: number): number {
  let sum = 0;
  for (let i = 0; i < 16; i += 2) sum += ((source[i] << 8) | source[i + 1]) + ((destination[i] << 8) | destination[i + 1]);
  return sum + (upperLength >>> 16) + (upperLength & 0xffff) + NEXT_HEADER_ICMPV6;
}

/** Adds `data` as big-endian 16-bit words (an odd last byte is padded with zero) to `sum`, folded to 16 bits. */
function onesComplementSum(sum: number, data: Uint8Array): number {
  const even = data.length & ~1;
  for (let i = 0; i < even; i += 2) sum += (data[i] << 8) | data[i + 1];
  if (even !== data.length) sum += data[even] << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

function isUnspecified(ip: Uint8Array): boolean {
  for (let i = 0; i < 16; i++) if (ip[i] !== 0) return false;
  return true;
}

function isSolicitedNodeMulticast(ip: Uint8Array): boolean {
  // ff02:0000:0000:0000:0000:0001:ffXX:XXXX
  if (ip[0] !== 0xff || ip[1] !== 0x02 || ip[11] !== 1 || ip[12] !== 0xff) return false;
  for (let i = 2; i < 11; i++) if (ip[i] !== 0) return false;
  return true;
}

function requireLength(field: string, value: Uint8Array, length: number): void {
  if (value.length !== length) throw new RangeError(`NDP ${field} must be ${length} bytes, got ${value.length}`);
}

function requireRange(field: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`NDP ${field} must be an integer in 0..${max}, got ${value}`);
  }
}
