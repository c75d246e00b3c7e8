/**
 * Benchmark helper for arp-flood.ts, run inside the client's network namespace: sends who-has requests out of
 * IFNAME at RATE per second for SECONDS, request n asking for VIP (FIRST_VIP + n mod VIP_COUNT) from sender IP
 * (FIRST_SENDER + floor(n / VIP_COUNT)), so that each (VIP, sender) pair, and so each reply, names exactly one
 * request. The same packet socket counts the replies that answer a request sent (each at most once).
 *
 * Prints `sending` when the first request goes out and `sent` after the last (the caller samples the responder's
 * CPU between the two), then, after GRACE_MS for late replies, one JSON line: requests sent, the send window and
 * rate achieved, replies matched, duplicate replies, and send errors (ENOBUFS and the like; the request is
 * retried on the next tick). Requests go out in batches every millisecond, as many as the rate owes by then.
 *
 *   ip netns exec NS node tools/bench/arp-flood-requester.ts eth0 20000 10 10.77.0.1 10000 192.168.126.150 500
 */
import { openPacketSocket } from "../../speaker/l2/packet-socket.ts";
import { arpReplyOf, arpRequestFrame, ipv4ToNumber } from "./arp-frames.ts";

const [ifname, rateText, secondsText, firstVipText, vipCountText, firstSenderText, graceText] = process.argv.slice(2);
if ([ifname, rateText, secondsText, firstVipText, vipCountText, firstSenderText, graceText].some((a) => a === undefined)) {
  console.error("usage: arp-flood-requester.ts IFNAME RATE SECONDS FIRST_VIP VIP_COUNT FIRST_SENDER GRACE_MS");
  process.exit(2);
}
const rate = Number(rateText);
const total = Math.round(rate * Number(secondsText));
const firstVip = ipv4ToNumber(firstVipText);
const vipCount = Number(vipCountText);
const firstSender = ipv4ToNumber(firstSenderText);
const senders = Math.ceil(total / vipCount);

/** answered[n] = 1 once request n got its reply. */
const answered = new Uint8Array(total);
let sent = 0;
let matched = 0;
let duplicates = 0;
let sendErrors = 0;

const socket = openPacketSocket(ifname, {
  protocols: "arp",
  onFrame: (frame, info) => {
    if (info.packetType === "outgoing") return;
    const reply = arpReplyOf(frame);
    if (!reply) return;
    const vip = reply.senderIp - firstVip;
    const round = reply.targetIp - firstSender;
    if (vip < 0 || vip >= vipCount || round < 0 || round >= senders) return;
    const n = round * vipCount + vip;
    if (n >= sent) return;
    if (answered[n]) duplicates++;
    else {
      answered[n] = 1;
      matched++;
    }
  },
});
const frame = arpRequestFrame(socket.mac, firstSender, firstVip);

const started = performance.now();
let finished = started;
process.stdout.write("sending\n");
const tick = () => {
  const owed = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate));
  while (sent < owed) {
    frame.writeUInt32BE((firstSender + Math.floor(sent / vipCount)) >>> 0, 28);
    frame.writeUInt32BE((firstVip + (sent % vipCount)) >>> 0, 38);
    try {
      socket.send(frame);
    } catch {
      sendErrors++;
      break; // the queue is full: try again next tick
    }
    sent++;
  }
  if (sent < total) {
    setTimeout(tick, 1);
    return;
  }
  finished = performance.now();
  process.stdout.write("sent\n");
  setTimeout(() => {
    socket.close();
    const sendSeconds = (finished - started) / 1000;
    process.stdout.write(`${JSON.stringify({ sent, sendSeconds, sendRate: sent / sendSeconds, matched, duplicates, sendErrors })}\n`);
  }, Number(graceText));
};
tick();
