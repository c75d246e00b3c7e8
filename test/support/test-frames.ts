/**
 * Test helper: hand-built Ethernet frames (ARP, NDP, a few others) for the packet-socket tests and the ARP RTT
 * benchmark. Written independently of the speaker's codecs so tests can check one against the other.
 *
 * @example
 * const request = arpFrame({ op: 1, ethDst: BROADCAST, ethSrc: mac("02:00:00:00:00:01"),
 *   senderMac: mac("02:00:00:00:00:01"), senderIp: ipv4("10.0.0.1"), targetMac: ZERO_MAC, targetIp: ipv4("10.0.0.9") });
 */
import { isIPv4, isIPv6 } from "node:net";

export const BROADCAST = Buffer.from("ffffffffffff", "hex");
export const ZERO_MAC = Buffer.alloc(6);

/** "02:00:00:00:00:01" → 6 bytes. */
export function mac(text: string): Buffer {
  const bytes = Buffer.from(text.replaceAll(":", ""), "hex");
  if (bytes.length !== 6) throw new RangeError(`not a MAC address: ${text}`);
  return bytes;
}

/** "10.0.0.1" → 4 bytes. */
export function ipv4(text: string): Buffer {
  if (!isIPv4(text)) throw new RangeError(`not an IPv4 address: ${text}`);
  return Buffer.from(text.split(".").map(Number));
}

/** "fd00::1" → 16 bytes (no embedded IPv4 form). */
export function ipv6(text: string): Buffer {
  if (!isIPv6(text) || text.includes(".")) throw new RangeError(`not a plain IPv6 address: ${text}`);
  const [head, tail] = text.includes("::") ? text.split("::") : [text, undefined];
  const groups = (part: string | undefined) => (part ? part.split(":") : []);
  const missing = 8 - groups(head).length - groups(tail).length;
  const all = tail === undefined ? groups(head) : [...groups(head), ...Array<string>(missing).fill("0"), ...groups(tail)];
  const out = Buffer.alloc(16);
  all.forEach((group, i) => out.writeUInt16BE(Number.parseInt(group, 16), i * 2));
  return out;
}

/** Bytes from hex with spaces, newlines and `# comments` allowed. */
export function hex(text: string): Buffer {
  return Buffer.from(text.replace(/#.*$/gm, "").replace(/\s+/g, ""), "hex");
}

export function ethernet(dst: Uint8Array, src: Uint8Array, etherType: number, payload: Uint8Array): Buffer {
  const header = Buffer.alloc(14);
  header.set(dst, 0);
  header.set(src, 6);
  header.writeUInt16BE(etherType, 12);
  return Buffer.concat([header, payload]);
}

export interface ArpFields {
  ethDst: Uint8Array;
  ethSrc: Uint8Array;
  op: number;
  senderMac: Uint8Array;
  senderIp: Uint8Array;
  targetMac: Uint8Array;
  targetIp: Uint8Array;
  hardwareType?: number;
  protocolType?: number;
  hardwareLength?: number;
  protocolLength?: number;
}

export function arpFrame(f: ArpFields): Buffer {
  const arp = Buffer.alloc(28);
  arp.writeUInt16BE(f.hardwareType ?? 1, 0);
  arp.writeUInt16BE(f.protocolType ?? 0x0800, 2);
  arp[4] = f.hardwareLength ?? 6;
  arp[5] = f.protocolLength ?? 4;
  arp.writeUInt16BE(f.op, 6);
  arp.set(f.senderMac, 8);
  arp.set(f.senderIp, 14);
  arp.set(f.targetMac, 18);
  arp.set(f.targetIp, 24);
  return ethernet(f.ethDst, f.ethSrc, 0x0806, arp);
}

/** The ICMPv6 checksum (RFC 8200 §8.1) of `message`, whose checksum field must be zero. */
export function icmpv6Checksum(src: Uint8Array, dst: Uint8Array, message: Uint8Array): number {
  const pseudo = Buffer.alloc(40);
  pseudo.set(src, 0);
  pseudo.set(dst, 16);
  pseudo.writeUInt32BE(message.length, 32);
  pseudo[39] = 58;
  const data = Buffer.concat([pseudo, message, Buffer.alloc(message.length % 2)]);
  let sum = 0;
  for (let i = 0; i < data.length; i += 2) sum += data.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

export interface Icmpv6Fields {
  ethDst: Uint8Array;
  ethSrc: Uint8Array;
  src: Uint8Array;
  dst: Uint8Array;
  type: number;
  code?: number;
  /** The 4 bytes after the checksum (NA flags, reserved). */
  flags?: number;
  /** The message body after those 4 bytes (the target for NS/NA). */
  body: Uint8Array;
  /** Raw options appended after the body. */
  options?: Uint8Array;
  hopLimit?: number;
  /** XORed into the computed checksum (non-zero to corrupt it). */
  checksumError?: number;
  nextHeader?: number;
}

/** An Ethernet/IPv6 frame carrying one ICMPv6 message, checksum computed. */
export function icmpv6Frame(f: Icmpv6Fields): Buffer {
  const message = Buffer.concat([Buffer.alloc(8), f.body, f.options ?? Buffer.alloc(0)]);
  message[0] = f.type;
  message[1] = f.code ?? 0;
  message.writeUInt32BE(f.flags ?? 0, 4);
  message.writeUInt16BE(icmpv6Checksum(f.src, f.dst, message) ^ (f.checksumError ?? 0), 2);
  const header = Buffer.alloc(40);
  header[0] = 0x60;
  header.writeUInt16BE(message.length, 4);
  header[6] = f.nextHeader ?? 58;
  header[7] = f.hopLimit ?? 255;
  header.set(f.src, 8);
  header.set(f.dst, 24);
  return ethernet(f.ethDst, f.ethSrc, 0x86dd, Buffer.concat([header, message]));
}

/** A link-layer address option: 1 = source, 2 = target. */
export function linkLayerOption(type: 1 | 2, address: Uint8Array): Buffer {
  return Buffer.concat([Buffer.of(type, 1), address]);
}

/** ff02::1:ffXX:XXXX for `address`. */
export function solicitedNode(address: Uint8Array): Buffer {
  const out = ipv6("ff02::1:ff00:0");
  out.set(address.subarray(13), 13);
  return out;
}

/** 33:33 + the low 32 bits of an IPv6 multicast address. */
export function multicastMac(group: Uint8Array): Buffer {
  return Buffer.concat([Buffer.of(0x33, 0x33), group.subarray(12)]);
}
