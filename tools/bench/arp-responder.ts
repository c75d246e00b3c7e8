/**
 * Benchmark helper for arp-rtt.ts: answers ARP for one VIP on an interface, the way the speaker would, until
 * stdin ends. Run inside the node's network namespace:
 *
 *   ip netns exec NS node tools/bench/arp-responder.ts spk0 js 10.78.0.100      # JS decides and sends
 *   ip netns exec NS node tools/bench/arp-responder.ts spk0 native 10.78.0.100  # the addon's fast path answers
 *
 * Prints "ready" once the socket is open; on exit prints one JSON line with the frame counts.
 */
import { openPacketSocket } from "../../speaker/l2/packet-socket.ts";
import { respondToFrame } from "../../speaker/wire/responder.ts";

const [ifname, mode, vip] = process.argv.slice(2);
if (ifname === undefined || (mode !== "js" && mode !== "native") || vip === undefined) {
  console.error("usage: arp-responder.ts IFNAME js|native VIP");
  process.exit(2);
}

const counts = { frames: 0, answeredNatively: 0, answeredByJs: 0 };
let context: Parameters<typeof respondToFrame>[1] | undefined;
const socket = openPacketSocket(ifname, {
  protocols: "arp",
  onFrame: (frame, info) => {
    counts.frames++;
    if (info.answered) {
      counts.answeredNatively++;
      return;
    }
    if (mode !== "js" || context === undefined) return;
    const decision = respondToFrame(frame, context);
    if (decision.action === "reply") {
      socket.send(decision.frame);
      counts.answeredByJs++;
    }
  },
  onError: (error) => console.error(`arp-responder: ${error.message}`),
});
context = { ourMac: socket.mac, announced: new Set([vip]) };
if (mode === "native") {
  socket.setReplyTable({ ipv4: [vip], ipv6: [] });
  socket.setFastPath(true);
}
console.log("ready");
process.stdin.on("data", () => {});
process.stdin.on("end", () => {
  socket.close();
  console.log(JSON.stringify(counts));
});
