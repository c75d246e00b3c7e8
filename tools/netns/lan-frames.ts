/**
 * Raw frames for tests that act as a host on the test LAN: build an Ethernet/IPv4/UDP frame with any source
 * address (a forged or replayed datagram), re-address a captured frame, and read the frames of a pcap file
 * written by `tcpdump -w`. Pure: bytes in, values out. tools/netns/inject-frames.ts sends the frames.
 *
 * @example
 * const frame = udpFrame({ srcMac: client.mac, dstMac: node.mac, srcIp: owner.ipv4, dstIp: node.ipv4, srcPort: 7947, dstPort: 7947, payload });
 * const captured = readPcap(await readFile("/tmp/x.pcap")).map((r) => udpOfFrame(r.frame));
 */

/** An IPv4 UDP datagram in a frame. */
export interface UdpFrameSpec {
  srcMac: string;
  dstMac: string;
  srcIp: string;
  dstIp: string;
  srcPort: number;
  dstPort: number;
  payload: Uint8Array;
}

/** One captured frame and its capture time (wall-clock ms). */
export interface PcapRecord {
  at: number;
  frame: Buffer;
}

/** The UDP part of a captured IPv4 frame. */
export interface CapturedUdp {
  srcIp: string;
  dstIp: string;
  srcPort: number;
  dstPort: number;
  payload: Buffer;
  /** The whole IPv4 packet, exactly as captured. */
  ipPacket: Buffer;
}

function macBytes(mac: string): Buffer {
  const b = Buffer.from(mac.split(":").map((h) => parseInt(h, 16)));
  if (b.length !== 6 || mac.split(":").some((h) => !/^[0-9a-f]{2}$/i.test(h))) throw new Error(`not a MAC address: "${mac}"`);
  return b;
}

function ipv4Bytes(ip: string): Buffer {
  const parts = ip.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new Error(`not an IPv4 address: "${ip}"`);
  return Buffer.from(parts);
}

function checksum(...chunks: Uint8Array[]): number {
  let sum = 0;
  for (const bytes of chunks) {
    for (let i = 0; i < bytes.length; i += 2) sum += (bytes[i] << 8) | (i + 1 < bytes.length ? bytes[i + 1] : 0);
  }
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** An Ethernet frame carrying an IPv4 packet. */
export function ethernetFrame(srcMac: string, dstMac: string, ipPacket: Uint8Array): Buffer {
  const header = Buffer.alloc(14);
  macBytes(dstMac).copy(header, 0);
  macBytes(srcMac).copy(header, 6);
  header.writeUInt16BE(0x0800, 12);
  return Buffer.concat([header, ipPacket]);
}

/** An Ethernet/IPv4/UDP frame with correct IP and UDP checksums. */
export function udpFrame(spec: UdpFrameSpec): Buffer {
  const src = ipv4Bytes(spec.srcIp);
  const dst = ipv4Bytes(spec.dstIp);
  const udp = Buffer.alloc(8 + spec.payload.length);
  udp.writeUInt16BE(spec.srcPort, 0);
  udp.writeUInt16BE(spec.dstPort, 2);
  udp.writeUInt16BE(udp.length, 4);
  Buffer.from(spec.payload).copy(udp, 8);
  const pseudo = Buffer.alloc(12);
  src.copy(pseudo, 0);
  dst.copy(pseudo, 4);
  pseudo[9] = 17;
  pseudo.writeUInt16BE(udp.length, 10);
  udp.writeUInt16BE(checksum(pseudo, udp) || 0xffff, 6);
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + udp.length, 2);
  // Identification 0: with don't-fragment set it is never used.
  ip.writeUInt16BE(0x4000, 6); // don't fragment
  ip[8] = 64;
  ip[9] = 17;
  src.copy(ip, 12);
  dst.copy(ip, 16);
  ip.writeUInt16BE(checksum(ip), 10);
  return ethernetFrame(spec.srcMac, spec.dstMac, Buffer.concat([ip, udp]));
}

/** The IPv4 UDP datagram in an Ethernet frame, or undefined for anything else. */
export function udpOfFrame(frame: Buffer): CapturedUdp | undefined {
  if (frame.length < 14 + 20 + 8 || frame.readUInt16BE(12) !== 0x0800) return undefined;
  const ipPacket = frame.subarray(14);
  const ihl = (ipPacket[0] & 0x0f) * 4;
  if (ipPacket[0] >> 4 !== 4 || ipPacket[9] !== 17 || ipPacket.length < ihl + 8) return undefined;
  const total = Math.min(ipPacket.readUInt16BE(2), ipPacket.length);
  const udp = ipPacket.subarray(ihl, total);
  const ip = (o: number) => `${ipPacket[o]}.${ipPacket[o + 1]}.${ipPacket[o + 2]}.${ipPacket[o + 3]}`;
  return {
    srcIp: ip(12),
    dstIp: ip(16),
    srcPort: udp.readUInt16BE(0),
    dstPort: udp.readUInt16BE(2),
    payload: Buffer.from(udp.subarray(8, udp.readUInt16BE(4))),
    ipPacket: Buffer.from(ipPacket.subarray(0, total)),
  };
}

/**
 * The frames of a classic pcap file (microsecond or nanosecond timestamps, either byte order, Ethernet link
 * type). A truncated last record is left out; anything that is not such a file throws.
 */
export function readPcap(file: Buffer): PcapRecord[] {
  if (file.length < 24) throw new Error(`pcap: ${file.length} bytes is shorter than the 24-byte file header`);
  const magic = file.readUInt32LE(0);
  const variants: Record<number, { le: boolean; nanos: boolean }> = {
    0xa1b2c3d4: { le: true, nanos: false },
    0xd4c3b2a1: { le: false, nanos: false },
    0xa1b23c4d: { le: true, nanos: true },
    0x4d3cb2a1: { le: false, nanos: true },
  };
  const v = variants[magic];
  if (!v) throw new Error(`pcap: unknown magic number 0x${magic.toString(16)}`);
  const u32 = (o: number) => (v.le ? file.readUInt32LE(o) : file.readUInt32BE(o));
  const linkType = u32(20);
  if (linkType !== 1) throw new Error(`pcap: link type ${linkType}, expected 1 (Ethernet)`);
  const out: PcapRecord[] = [];
  for (let o = 24; o + 16 <= file.length; ) {
    const caplen = u32(o + 8);
    if (o + 16 + caplen > file.length) break;
    const at = u32(o) * 1000 + u32(o + 4) / (v.nanos ? 1e6 : 1e3);
    out.push({ at, frame: Buffer.from(file.subarray(o + 16, o + 16 + caplen)) });
    o += 16 + caplen;
  }
  return out;
}
