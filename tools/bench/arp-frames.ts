/**
 * The ARP frames the benchmarks' requesters send and the replies they look for, as bytes (Ethernet II, IPv4 over
 * Ethernet). IPv4 addresses are unsigned 32-bit numbers here, so a requester can count through them.
 *
 * @example
 * const frame = arpRequestFrame(socket.mac, ipv4ToNumber("192.168.126.100"), ipv4ToNumber("10.77.0.1"));
 * socket.send(frame);
 * arpReplyOf(received); // { senderIp: 10.77.0.1 as a number, targetIp: 192.168.126.100 as a number } for the answer
 */

/** "10.77.0.1" → 0x0a4d0001. */
export function ipv4ToNumber(ip: string): number {
  const parts = ip.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new Error(`"${ip}" is not an IPv4 address`);
  return ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0;
}

/** 0x0a4d0001 → "10.77.0.1". */
export function numberToIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

/** A broadcast who-has `targetIp` from `mac` / `senderIp` (42 bytes; the target MAC stays zero). */
export function arpRequestFrame(mac: Uint8Array, senderIp: number, targetIp: number): Buffer {
  const frame = Buffer.alloc(42);
  frame.fill(0xff, 0, 6); // Ethernet broadcast
  frame.set(mac, 6);
  frame.writeUInt16BE(0x0806, 12);
  frame.write("0001080006040001", 14, "hex"); // Ethernet, IPv4, 6-byte and 4-byte addresses, request
  frame.set(mac, 22);
  frame.writeUInt32BE(senderIp >>> 0, 28);
  frame.writeUInt32BE(targetIp >>> 0, 38);
  return frame;
}

/** Sender and target IP of an ARP reply (IPv4 over Ethernet, no VLAN tag), or undefined for any other frame. */
export function arpReplyOf(frame: Uint8Array): { senderIp: number; targetIp: number } | undefined {
  if (frame.length < 42) return undefined;
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  if (view.getUint16(12) !== 0x0806 || view.getUint32(14) !== 0x00010800 || view.getUint16(18) !== 0x0604 || view.getUint16(20) !== 2) return undefined;
  return { senderIp: view.getUint32(28), targetIp: view.getUint32(38) };
}
