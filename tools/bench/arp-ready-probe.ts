/**
 * Benchmark helper for speaker-ready.ts, run inside the client's network namespace: asks who-has for each VIP every
 * INTERVAL_MS from the client's own MAC and SENDER_IP (as a client with an empty neighbour table would, but
 * without the kernel's retry back-off) until that VIP is answered, and polls READYZ_URL every 20 ms until it
 * answers 200. Only a reply naming the VIP as sender and SENDER_IP as target counts (a gratuitous ARP does not).
 * Prints, one JSON line each, `{"probing":EPOCH_MS}` once the socket is open, `{"vip":IP,"at":EPOCH_MS}` for each
 * VIP's first reply and `{"readyz":EPOCH_MS}`, then `{"done":true}` and exits; it also exits when stdin closes.
 *
 *   ip netns exec NS node tools/bench/arp-ready-probe.ts eth0 192.168.126.100 10 http://192.168.126.11:7473/readyz 10.77.0.1 10.77.0.2
 */
import { request } from "node:http";
import { openPacketSocket } from "../../speaker/l2/packet-socket.ts";
import { arpReplyOf, arpRequestFrame, ipv4ToNumber, numberToIpv4 } from "./arp-frames.ts";

const [ifname, senderText, intervalText, readyzUrl, ...vipTexts] = process.argv.slice(2);
if (ifname === undefined || senderText === undefined || intervalText === undefined || readyzUrl === undefined || vipTexts.length === 0) {
  console.error("usage: arp-ready-probe.ts IFNAME SENDER_IP INTERVAL_MS READYZ_URL VIP...");
  process.exit(2);
}
const epochMs = () => performance.timeOrigin + performance.now();
const print = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`);
const sender = ipv4ToNumber(senderText);
const pending = new Set(vipTexts.map(ipv4ToNumber));
let readyzSeen = false;

const finishIfDone = () => {
  if (pending.size > 0 || !readyzSeen) return;
  print({ done: true });
  process.exit(0);
};

const socket = openPacketSocket(ifname, {
  protocols: "arp",
  onFrame: (frame, info) => {
    if (info.packetType === "outgoing") return;
    const reply = arpReplyOf(frame);
    if (!reply || reply.targetIp !== sender || !pending.has(reply.senderIp)) return;
    pending.delete(reply.senderIp);
    print({ vip: numberToIpv4(reply.senderIp), at: epochMs() });
    finishIfDone();
  },
});
const requests = new Map([...pending].map((vip) => [vip, arpRequestFrame(socket.mac, sender, vip)]));

print({ probing: epochMs() });
setInterval(() => {
  for (const vip of pending) socket.send(requests.get(vip)!);
}, Number(intervalText));

const pollReadyz = () => {
  const req = request(readyzUrl, { timeout: 500 }, (res) => {
    res.resume();
    if (res.statusCode === 200 && !readyzSeen) {
      readyzSeen = true;
      print({ readyz: epochMs() });
      finishIfDone();
    } else setTimeout(pollReadyz, 20);
  });
  req.on("timeout", () => req.destroy());
  req.on("error", () => setTimeout(pollReadyz, 20));
  req.end();
};
pollReadyz();

process.stdin.resume().on("end", () => process.exit(0));
