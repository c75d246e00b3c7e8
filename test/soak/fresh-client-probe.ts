/**
 * A fresh client's view of a VIP, run inside the client namespace: every INTERVAL_MS it forgets the VIP's
 * neighbour entry (`ip neigh del VIP dev IFNAME`, so the request resolves the VIP by ARP as a new client would,
 * instead of reusing a cached MAC that keeps working ~30 s after nobody answers) and then sends one request
 * with `curl --connect-timeout 0.3 --max-time 0.6`. Requests overlap (each is independent; at most 8 in
 * flight). One line per request on stdout:
 *
 *   <startEpochMs> <endEpochMs> ok <node>            the backend answered "served by <node>"
 *   <startEpochMs> <endEpochMs> fail <reason>        connect-timeout, connect-failed (no route, refused), timeout-after-connect, exit-N
 *
 * Times are wall-clock milliseconds (performance.timeOrigin + now), comparable with the parent's. It stops
 * after SECONDS, on SIGTERM, or when stdin closes.
 *
 * Usage: ip netns exec CLIENT node test/soak/fresh-client-probe.ts IFNAME VIP PORT INTERVAL_MS SECONDS
 */
import { execFile } from "node:child_process";
import { performance } from "node:perf_hooks";

const [ifname, vip, portText, intervalText, secondsText] = process.argv.slice(2);
const [port, intervalMs, seconds] = [portText, intervalText, secondsText].map(Number);
if (!ifname || !vip || ![port, intervalMs, seconds].every((n) => Number.isFinite(n) && n > 0)) {
  console.error("usage: fresh-client-probe.ts IFNAME VIP PORT INTERVAL_MS SECONDS (numbers > 0)");
  process.exit(2);
}
const maxInFlight = 8;
const connectTimeout = "0.3";
const maxTime = "0.6";
const epochMs = () => performance.timeOrigin + performance.now();
const url = vip.includes(":") ? `http://[${vip}]:${port}/` : `http://${vip}:${port}/`;
let inFlight = 0;
let stopped = false;

function exec(argv: string[]): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile(argv[0], argv.slice(1), { timeout: 5_000 }, (err, stdout) => {
      const code = err ? (typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : -1) : 0;
      resolve({ code, stdout: String(stdout) });
    });
  });
}

/** Why curl failed, from its exit code and whether the TCP connection was made. */
function failureReason(code: number, connectSeconds: number): string {
  if (code === 28) return connectSeconds > 0 ? "timeout-after-connect" : "connect-timeout";
  if (code === 7) return "connect-failed";
  return `exit-${code}`;
}

async function attempt(): Promise<void> {
  inFlight++;
  const start = epochMs();
  try {
    // Fails harmlessly when there is no entry.
    await exec(["ip", "neigh", "del", vip, "dev", ifname]);
    const r = await exec(["curl", "-s", "--connect-timeout", connectTimeout, "--max-time", maxTime, "-w", "\\n%{time_connect}", url]);
    const lines = r.stdout.trimEnd().split("\n");
    const connectSeconds = Number(lines.pop() ?? "0") || 0;
    const node = /served by (\S+)/.exec(lines.join("\n"))?.[1];
    const result = r.code === 0 && node ? `ok ${node}` : `fail ${r.code === 0 ? "bad-response" : failureReason(r.code, connectSeconds)}`;
    process.stdout.write(`${start.toFixed(1)} ${epochMs().toFixed(1)} ${result}\n`);
  } finally {
    inFlight--;
  }
}

const loop = setInterval(() => {
  if (!stopped && inFlight < maxInFlight) void attempt();
}, intervalMs);
const stop = () => {
  if (stopped) return;
  stopped = true;
  clearInterval(loop);
  // Let requests in flight report, then leave.
  setTimeout(() => process.exit(0), 1_500).unref();
};
setTimeout(stop, seconds * 1000).unref();
process.on("SIGTERM", stop);
process.stdin.on("end", stop);
process.stdin.resume();
void attempt();
