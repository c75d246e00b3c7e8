/**
 * Who answers ARP for a VIP, sampled continuously from a LAN host (run inside the client namespace): every
 * INTERVAL_MS it broadcasts one ARP request per VIP out of IFNAME, each from its own sender IP (SENDER_BASE plus a
 * sequence number modulo SENDER_COUNT), so that every reply names the exact request it answers: a request
 * answered by two MACs is two answerers at the same moment, never a handover seen across two requests. This is
 * `arping` with exact attribution (arping numbers replies, not requests). The sender IPs must be unused addresses
 * of the test LAN; nobody's neighbour table learns them (Linux creates no entry from a request not addressed to
 * it).
 *
 * Two intervals after each request (so late replies still count), one line on stdout:
 *
 *   <sentEpochMs> <vip> <mac>[,<mac>...]      the MACs that answered, in order of arrival
 *   <sentEpochMs> <vip> -                     nobody answered
 *
 * It stops after SECONDS, on SIGTERM, or when stdin closes.
 *
 * Usage: ip netns exec CLIENT node test/soak/arp-sampler.ts IFNAME INTERVAL_MS SECONDS SENDER_BASE SENDER_COUNT VIP...
 */
import { performance } from "node:perf_hooks";
import { parseIp } from "../../shared/ip/address.ts";
import { formatIpBytes, ipToBytes } from "../../shared/ip/bytes.ts";
import { ARP_REPLY, ARP_REQUEST, decodeArp, encodeArp } from "../../speaker/wire/arp.ts";
import { BROADCAST_MAC, ETHERTYPE_ARP, decodeEthernet, encodeEthernet } from "../../speaker/wire/ethernet.ts";
import { formatMac } from "../../speaker/wire/mac.ts";
import { openPacketSocket } from "../../speaker/l2/packet-socket.ts";

const [ifname, intervalText, secondsText, senderBaseText, senderCountText, ...vips] = process.argv.slice(2);
const [intervalMs, seconds, senderCount] = [intervalText, secondsText, senderCountText].map(Number);
const bytesOf = (text: string) => {
  const parsed = parseIp(text);
  return parsed.ok ? ipToBytes(parsed.ip) : undefined;
};
const senderBase = senderBaseText ? bytesOf(senderBaseText) : undefined;
const vipBytes = vips.map(bytesOf);
if (
  !ifname ||
  ![intervalMs, seconds, senderCount].every((n) => Number.isFinite(n) && n > 0) ||
  senderBase?.length !== 4 ||
  vips.length === 0 ||
  vipBytes.some((b) => b?.length !== 4)
) {
  console.error("usage: arp-sampler.ts IFNAME INTERVAL_MS SECONDS SENDER_BASE SENDER_COUNT VIP... (IPv4 addresses, numbers > 0)");
  process.exit(2);
}
const base = Buffer.from(senderBase).readUInt32BE(0);
const epochMs = () => performance.timeOrigin + performance.now();

interface Pending {
  vip: string;
  sentAt: number;
  macs: string[];
}
/** Outstanding requests by sender IP (as text). */
const pending = new Map<string, Pending>();
let sequence = 0;

const socket = openPacketSocket(ifname, {
  protocols: "arp",
  onFrame: (bytes) => {
    const eth = decodeEthernet(bytes);
    if (!eth.ok || eth.frame.etherType !== ETHERTYPE_ARP) return;
    const arp = decodeArp(eth.frame.payload);
    if (!arp.ok || arp.packet.operation !== ARP_REPLY) return;
    const p = pending.get(formatIpBytes(arp.packet.targetIp));
    if (!p || formatIpBytes(arp.packet.senderIp) !== p.vip) return;
    const mac = formatMac(arp.packet.senderMac);
    if (!p.macs.includes(mac)) p.macs.push(mac);
  },
  onError: (error) => console.error(`arp-sampler: ${error.code ?? ""} ${error.message}`),
});
const ourMac = socket.mac;

function flushOlderThan(cutoff: number): void {
  for (const [sender, p] of pending) {
    if (p.sentAt > cutoff) continue;
    pending.delete(sender);
    process.stdout.write(`${p.sentAt.toFixed(1)} ${p.vip} ${p.macs.length > 0 ? p.macs.join(",") : "-"}\n`);
  }
}

function round(): void {
  const now = epochMs();
  flushOlderThan(now - 2 * intervalMs);
  for (const [i, vip] of vips.entries()) {
    const senderIp = Buffer.alloc(4);
    senderIp.writeUInt32BE((base + (sequence++ % senderCount)) >>> 0, 0);
    const frame = encodeEthernet({
      destination: BROADCAST_MAC,
      source: ourMac,
      etherType: ETHERTYPE_ARP,
      payload: encodeArp({ operation: ARP_REQUEST, senderMac: ourMac, senderIp, targetMac: new Uint8Array(6), targetIp: vipBytes[i]! }),
    });
    pending.set(formatIpBytes(senderIp), { vip, sentAt: epochMs(), macs: [] });
    try {
      socket.send(frame);
    } catch (err) {
      // ENETDOWN and the like: the request is lost, so the round shows nobody answering.
      console.error(`arp-sampler: send failed: ${(err as Error).message}`);
    }
  }
}

const timer = setInterval(round, intervalMs);
let stopped = false;
const stop = () => {
  if (stopped) return;
  stopped = true;
  clearInterval(timer);
  setTimeout(() => {
    flushOlderThan(Infinity);
    socket.close();
    process.exit(0);
  }, 2 * intervalMs).unref();
};
setTimeout(stop, seconds * 1000).unref();
process.on("SIGTERM", stop);
process.stdin.on("end", stop);
process.stdin.resume();
round();
