/**
 * Benchmark helper for arp-rtt.ts: sends COUNT ARP requests for VIP out of IFNAME, one every INTERVAL_MS,
 * each from a different sender IP (BASE_IP + i) so that every reply names the request it answers. Run inside
 * the client's network namespace; prints "done" when the last request has gone out.
 *
 *   ip netns exec NS node tools/bench/arp-requester.ts cli0 10.78.0.100 10.78.1.0 220 10
 */
import { openPacketSocket } from "../../speaker/l2/packet-socket.ts";

const [ifname, vip, baseIp, countText, intervalText] = process.argv.slice(2);
if (ifname === undefined || vip === undefined || baseIp === undefined || countText === undefined || intervalText === undefined) {
  console.error("usage: arp-requester.ts IFNAME VIP BASE_IP COUNT INTERVAL_MS");
  process.exit(2);
}
const count = Number(countText);
const toBytes = (ip: string) => Buffer.from(ip.split(".").map(Number));
const base = toBytes(baseIp).readUInt32BE(0);

const socket = openPacketSocket(ifname, { protocols: "arp", onFrame: () => {} });
const mac = socket.mac;
const request = Buffer.alloc(42);
request.fill(0xff, 0, 6); // Ethernet broadcast
mac.copy(request, 6);
request.writeUInt16BE(0x0806, 12);
Buffer.from("0001080006040001", "hex").copy(request, 14); // Ethernet/IPv4, request
mac.copy(request, 22); // sender MAC
toBytes(vip).copy(request, 38); // target IP (target MAC stays zero)

let sent = 0;
const timer = setInterval(() => {
  request.writeUInt32BE((base + sent) >>> 0, 28); // sender IP: unique per request
  socket.send(request);
  if (++sent === count) {
    clearInterval(timer);
    socket.close();
    console.log("done");
  }
}, Number(intervalText));
