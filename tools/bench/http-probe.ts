/**
 * A bounded HTTP probe loop for the failover benchmark, run inside the client namespace: every
 * INTERVAL_MS it opens a new TCP connection to HOST:PORT (as `curl --connect-timeout` /
 * `--max-time` would: CONNECT_MS to connect, MAX_MS in all), sends `GET /`, and prints one line per
 * attempt on stdout:
 *
 *   <startEpochMs> <endEpochMs> <result>
 *
 * where result is the backend's node name ("served by node-2" → `node-2`) or `fail:<reason>`. Times
 * are wall-clock milliseconds with microsecond fraction (performance.timeOrigin + now), so the
 * parent can line them up with its own clock. It stops after SECONDS, on SIGTERM, or when stdin
 * closes.
 *
 * With FORGET_DEV, each attempt first deletes HOST's neighbour entry on that interface (`ip neigh del`), so
 * every attempt resolves HOST afresh, as a new client on the LAN would: a cached entry keeps reaching a node
 * for about 30 s after it stopped answering.
 *
 * Usage: ip netns exec CLIENT node tools/bench/http-probe.ts HOST PORT INTERVAL_MS CONNECT_MS MAX_MS SECONDS [FORGET_DEV]
 */
import { execFile } from "node:child_process";
import { connect } from "node:net";
import { performance } from "node:perf_hooks";

const [host, portText, intervalText, connectText, maxText, secondsText, forgetDev] = process.argv.slice(2);
const numbers = [portText, intervalText, connectText, maxText, secondsText].map(Number);
if (!host || numbers.some((n) => !Number.isFinite(n) || n <= 0)) {
  console.error("usage: http-probe.ts HOST PORT INTERVAL_MS CONNECT_MS MAX_MS SECONDS [FORGET_DEV] (all numbers > 0)");
  process.exit(2);
}
const [port, intervalMs, connectMs, maxMs, seconds] = numbers;
const epochMs = () => performance.timeOrigin + performance.now();

/** One attempt; with FORGET_DEV, once HOST's neighbour entry is gone (deleting a missing entry fails, which is fine). */
function attempt(): void {
  if (forgetDev) execFile("ip", ["neigh", "del", host, "dev", forgetDev], { timeout: 1_000 }, () => connectOnce());
  else connectOnce();
}

function connectOnce(): void {
  const start = epochMs();
  let done = false;
  let body = "";
  const finish = (result: string) => {
    if (done) return;
    done = true;
    clearTimeout(connectTimer);
    clearTimeout(maxTimer);
    socket.destroy();
    process.stdout.write(`${start.toFixed(3)} ${epochMs().toFixed(3)} ${result}\n`);
  };
  const socket = connect({ host, port });
  const connectTimer = setTimeout(() => finish("fail:connect-timeout"), connectMs);
  const maxTimer = setTimeout(() => finish("fail:max-time"), maxMs);
  socket.setNoDelay(true);
  socket.on("connect", () => {
    clearTimeout(connectTimer);
    socket.write(`GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
  });
  socket.on("data", (chunk: Buffer) => {
    body += chunk.toString("latin1");
  });
  socket.on("end", () => {
    const node = /served by (\S+)/.exec(body)?.[1];
    finish(node && body.startsWith("HTTP/1.1 200") ? node : "fail:bad-response");
  });
  socket.on("error", (err: NodeJS.ErrnoException) => finish(`fail:${err.code ?? "error"}`));
}

const loop = setInterval(attempt, intervalMs);
const stop = () => {
  clearInterval(loop);
  // Let in-flight attempts report, then leave.
  setTimeout(() => process.exit(0), maxMs + 10).unref();
};
setTimeout(stop, seconds * 1000).unref();
process.on("SIGTERM", stop);
process.stdin.on("end", stop);
process.stdin.resume();
attempt();
