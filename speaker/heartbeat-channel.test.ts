import { afterEach, describe, expect, it } from "vitest";
import { openHeartbeatChannel, type HeartbeatChannel } from "./heartbeat-channel.ts";
import type { Heartbeat } from "./heartbeat-message.ts";

const open: HeartbeatChannel[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
});

async function waitFor(cond: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
}

describe("heartbeat channel over loopback (delivery between nodes is covered end to end)", () => {
  it("refuses a port already in use with a message that names the flag", async () => {
    const port = 20000 + (process.pid % 20000);
    const first = await openHeartbeatChannel({
      node: "b", identity: "b-1", port, intervalMs: 1000, peers: () => [],
      onHeartbeat: () => {}, onDrop: () => {}, onError: () => {},
    });
    open.push(first);
    const second = await openHeartbeatChannel({
      node: "a", identity: "a-1", port, intervalMs: 1000, peers: () => [],
      onHeartbeat: () => {}, onDrop: () => {}, onError: () => {},
    }).catch((e: Error) => e);
    expect(second).toBeInstanceOf(Error);
    expect((second as Error).message).toContain("--heartbeat-port");
  });

  it("counts malformed datagrams as drops and ignores its own node name", async () => {
    const { createSocket } = await import("node:dgram");
    const drops: string[] = [];
    const got: Heartbeat[] = [];
    const port = 21000 + (process.pid % 20000);
    const ch = await openHeartbeatChannel({
      node: "me", identity: "me-1", port, intervalMs: 1000, peers: () => [],
      onHeartbeat: (hb) => got.push(hb), onDrop: (r) => drops.push(r), onError: () => {},
    });
    open.push(ch);
    const s = createSocket("udp4");
    const send = (text: string) => new Promise<void>((r) => s.send(Buffer.from(text), port, "127.0.0.1", () => r()));
    await send("nonsense");
    await send('{"v":1,"node":"me","id":"me-1","seq":1,"leaving":false}');
    await send('{"v":1,"node":"peer","id":"peer-1","seq":1,"leaving":true}');
    await waitFor(() => got.length >= 1 && drops.length >= 1);
    s.close();
    expect(drops).toEqual(["not-json"]);
    expect(got).toEqual([{ node: "peer", identity: "peer-1", seq: 1, leaving: true }]);
  });
});
