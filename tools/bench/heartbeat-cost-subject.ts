/**
 * The speaker under measurement in heartbeat-cost.ts: the speaker's real heartbeat path and nothing else. It
 * runs the heartbeat channel (heartbeat-channel.ts over the native thread: sign, send to every peer,
 * authenticate, replay-check, relay), records what arrives in MembershipEvidence and computes the membership
 * view after every batch of heartbeats, as the speaker's decision does (speaker.ts, `onBatch`). After a
 * warm-up it measures its own CPU time and datagram counts for SECONDS and prints one JSON line.
 *
 * Usage: node tools/bench/heartbeat-cost-subject.ts PORT PEER_PORT PEERS INTERVAL_MS TIMEOUT_MS SECONDS KEY_HEX
 * (PEERS: comma-separated IPv4 addresses.)
 */
import { performance } from "node:perf_hooks";
import { openHeartbeatChannel } from "../../speaker/cluster/heartbeat-channel.ts";
import { heartbeatKeyOf } from "../../speaker/cluster/heartbeat-message.ts";
import { MembershipEvidence } from "../../speaker/cluster/membership-evidence.ts";
import { viewMembership } from "../../speaker/cluster/membership-view.ts";

const [portText, peerPortText, peerList, intervalText, timeoutText, secondsText, keyHex] = process.argv.slice(2);
const [port, peerPort, intervalMs, timeoutMs, seconds] = [portText, peerPortText, intervalText, timeoutText, secondsText].map(Number);
if (![port, peerPort, intervalMs, timeoutMs, seconds].every((n) => Number.isFinite(n) && n > 0) || !peerList || !keyHex) {
  console.error("usage: heartbeat-cost-subject.ts PORT PEER_PORT PEERS INTERVAL_MS TIMEOUT_MS SECONDS KEY_HEX");
  process.exit(2);
}
const peers = peerList.split(",");
const key = heartbeatKeyOf(Buffer.from(keyHex, "hex"));
const keys = { signing: key, accepted: new Map([[key.idHex, key]]) };
const node = "subject";
const evidence = new MembershipEvidence(node);
const timing = { heartbeatIntervalMs: intervalMs, heartbeatTimeoutMs: timeoutMs, leaseRenewMs: 1000 };
const counts = { sent: 0, received: 0, dropped: 0 };
let live = 0;

const channel = await openHeartbeatChannel({
  node,
  identity: "subject-1",
  startedAt: Date.now(),
  port,
  peerPort,
  intervalMs,
  relayWithinMs: timeoutMs,
  stallLimitMs: 2_000,
  peers: () => peers,
  keys: () => keys,
  onSent: (seq, at, candidate) => {
    evidence.sent(seq, at, candidate);
    counts.sent += peers.length;
  },
  onHeartbeat: (hb, _from, at) => {
    counts.received++;
    evidence.heartbeat(hb, at);
  },
  // As the speaker does: one decision per batch of heartbeats.
  onBatch: () => {
    live = viewMembership(evidence, { nowMs: performance.now(), selfCandidate: true, timing }).live.size;
  },
  onDrop: () => counts.dropped++,
  onError: (err) => console.error(`heartbeat-cost-subject: ${err.message}`),
});
channel.setSelf(true, true);

await new Promise((r) => setTimeout(r, 2_000));
const before = { ...counts };
const cpu = process.cpuUsage();
const started = performance.now();
await new Promise((r) => setTimeout(r, seconds * 1000));
const used = process.cpuUsage(cpu);
const elapsed = (performance.now() - started) / 1000;
await channel.close();
process.stdout.write(
  `${JSON.stringify({
    cpuPercent: Math.round(((used.user + used.system) / 1e6 / elapsed) * 1000) / 10,
    sentPerSecond: Math.round((counts.sent - before.sent) / elapsed),
    receivedPerSecond: Math.round((counts.received - before.received) / elapsed),
    dropped: counts.dropped - before.dropped,
    live,
  })}\n`,
);
process.exit(0);
