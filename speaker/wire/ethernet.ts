/**
 * Ethernet II frames as plain values: `decodeEthernet(bytes)` and `encodeEthernet(frame)` are inverses.
 *
 * 802.1Q: one VLAN tag (TPID 0x8100) is decoded and reported in `frame.vlan`, so a tagged frame is visible in
 * counters rather than silently mangled; the responder then ignores it ("vlan-tagged"). A VLAN is served by its
 * own sub-interface (eth0.100), where the kernel hands frames over untagged, so answering a tagged frame on the
 * parent interface would answer in the wrong broadcast domain. A second (QinQ) tag stays in the payload with
 * etherType 0x8100 and is ignored as an unsupported EtherType.
 *
 * Frames are encoded without padding to the 60-byte minimum: the NIC pads short frames, exactly as it does for the
 * kernel's own 42-byte ARP frames (see the captured fixtures).
 */

/** EtherType of ARP. */
export const ETHERTYPE_ARP = 0x0806;
/** EtherType of IPv6. */
export const ETHERTYPE_IPV6 = 0x86dd;
/** Tag protocol identifier of an 802.1Q VLAN tag. */
export const ETHERTYPE_VLAN = 0x8100;
/** ff:ff:ff:ff:ff:ff. Treat as read-only. */
export const BROADCAST_MAC: Uint8Array = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff);

/** An 802.1Q tag: VLAN id (0-4095), priority code point (0-7) and drop-eligible indicator. */
export interface VlanTag {
  id: number;
  priority: number;
  dropEligible: boolean;
}

/**
 * One Ethernet II frame. `destination` and `source` are 6 bytes. In a decoded frame the byte arrays are views
 * into the input buffer (no copy): copy them if the buffer is reused.
 */
export interface EthernetFrame {
  destination: Uint8Array;
  source: Uint8Array;
  vlan?: VlanTag;
  etherType: number;
  payload: Uint8Array;
}

/** Why a frame could not be decoded: "short-buffer" (< 14 bytes) or "short-vlan-header" (tagged, < 18 bytes). */
export type EthernetDropReason = "short-buffer" | "short-vlan-header";

/** Result of `decodeEthernet`. */
export type EthernetDecodeResult = { ok: true; frame: EthernetFrame } | { ok: false; reason: EthernetDropReason };

/**
 * Decodes an Ethernet II frame (without FCS). Never throws.
 *
 * @example
 * const r = decodeEthernet(bytes);
 * if (r.ok && r.frame.etherType === ETHERTYPE_ARP) handleArp(r.frame.payload);
 */
export function decodeEthernet(buf: Uint8Array): EthernetDecodeResult {
  if (buf.length < 14) return { ok: false, reason: "short-buffer" };
  const destination = buf.subarray(0, 6);
  const source = buf.subarray(6, 12);
  const type = (buf[12] << 8) | buf[13];
  if (type !== ETHERTYPE_VLAN) {
    return { ok: true, frame: { destination, source, etherType: type, payload: buf.subarray(14) } };
  }
  if (buf.length < 18) return { ok: false, reason: "short-vlan-header" };
  const tci = (buf[14] << 8) | buf[15];
  const vlan: VlanTag = { id: tci & 0x0fff, priority: tci >> 13, dropEligible: (tci & 0x1000) !== 0 };
  const etherType = (buf[16] << 8) | buf[17];
  return { ok: true, frame: { destination, source, vlan, etherType, payload: buf.subarray(18) } };
}

/**
 * Encodes a frame: destination, source, optional 802.1Q tag, EtherType, payload. Throws a RangeError naming the
 * field if an address is not 6 bytes or a number is out of range (a programming error, not wire input).
 *
 * @example encodeEthernet({ destination: BROADCAST_MAC, source: mac, etherType: ETHERTYPE_ARP, payload: arp })
 */
export function encodeEthernet(frame: EthernetFrame): Buffer {
  requireLength("destination", frame.destination, 6);
  requireLength("source", frame.source, 6);
  requireRange("etherType", frame.etherType, 0xffff);
  const header = frame.vlan ? 18 : 14;
  const out = Buffer.allocUnsafe(header + frame.payload.length);
  out.set(frame.destination, 0);
  out.set(frame.source, 6);
  if (frame.vlan) {
    requireRange("vlan.id", frame.vlan.id, 0x0fff);
    requireRange("vlan.priority", frame.vlan.priority, 7);
    out.writeUInt16BE(ETHERTYPE_VLAN, 12);
    out.writeUInt16BE((frame.vlan.priority << 13) | (frame.vlan.dropEligible ? 0x1000 : 0) | frame.vlan.id, 14);
  }
  out.writeUInt16BE(frame.etherType, header - 2);
  out.set(frame.payload, header);
  return out;
}

function requireLength(field: string, value: Uint8Array, length: number): void {
  if (value.length !== length) {
    throw new RangeError(`Ethernet frame ${field} must be ${length} bytes, got ${value.length}`);
  }
}

function requireRange(field: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`Ethernet frame ${field} must be an integer in 0..${max}, got ${value}`);
  }
}
