/**
 * Sends raw Ethernet frames out of an interface, as any host on a LAN can: run inside a test namespace, it
 * reads one frame per line of stdin (hex), sends each one `--repeat` times (default 1) with `--gap-ms` between
 * sends (default 5), and prints one JSON line: {"sent":N}. Frames are built with lan-frames.ts; a forged
 * source address is the point (nothing here checks it).
 *
 * Usage: ip netns exec CLIENT node tools/netns/inject-frames.ts IFNAME [--repeat N] [--gap-ms MS] < frames.hex
 */
import { parseArgs } from "node:util";
import { openPacketSocket } from "../../speaker/l2/packet-socket.ts";

const { values, positionals } = parseArgs({ options: { repeat: { type: "string" }, "gap-ms": { type: "string" } }, allowPositionals: true, strict: true });
const [ifname] = positionals;
const repeat = Number(values.repeat ?? 1);
const gapMs = Number(values["gap-ms"] ?? 5);
if (!ifname || !Number.isInteger(repeat) || repeat < 1 || !Number.isFinite(gapMs) || gapMs < 0) {
  console.error("usage: inject-frames.ts IFNAME [--repeat N>=1] [--gap-ms MS>=0] < one hex frame per line");
  process.exit(2);
}

let input = "";
for await (const chunk of process.stdin) input += String(chunk);
const frames = input
  .split("\n")
  .map((l) => l.trim())
  .filter(Boolean)
  .map((hex, i) => {
    if (!/^([0-9a-f]{2})+$/i.test(hex) || hex.length < 28) throw new Error(`line ${i + 1}: not a hex Ethernet frame`);
    return Buffer.from(hex, "hex");
  });

// Receives nothing of interest (ARP only, ignored); the socket is for sending.
const socket = openPacketSocket(ifname, { protocols: "arp", onFrame: () => {} });
let sent = 0;
for (let r = 0; r < repeat; r++) {
  for (const frame of frames) {
    socket.send(frame);
    sent++;
    if (gapMs > 0) await new Promise((resolve) => setTimeout(resolve, gapMs));
  }
}
socket.close();
console.log(JSON.stringify({ sent }));
