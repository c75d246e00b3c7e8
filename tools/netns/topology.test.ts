import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTopology, type Topology } from "./topology.ts";
import { requireNetns } from "../../test/support/requirements.ts";
import { run, runIn } from "./run.ts";

const skip = await requireNetns(["ping", "curl"]);

describe.skipIf(skip)("test LAN topology", () => {
  let topo: Topology;
  beforeAll(async () => {
    topo = await buildTopology({ prefix: "blbtopo", nodeNames: ["node-1", "node-2"], index: 201 });
  });
  afterAll(async () => {
    await topo?.destroy();
  });

  it("connects the client to every node over IPv4 and IPv6", async () => {
    for (const node of topo.nodes) {
      expect((await runIn(topo.client.ns, ["ping", "-c1", "-W2", node.ipv4])).code).toBe(0);
      expect((await runIn(topo.client.ns, ["ping", "-6", "-c1", "-W2", node.ipv6])).code).toBe(0);
    }
  });

  it("lets the host reach the infra namespace over its private link", async () => {
    expect((await run(["ping", "-c1", "-W2", topo.infraHostAddress])).code).toBe(0);
  });

  it("routes nodes to a server on the host's end of the link", async () => {
    const { createServer } = await import("node:http");
    const server = createServer((_req, res) => res.end("host"));
    await new Promise<void>((r) => server.listen(0, topo.hostAddress, () => r()));
    const port = (server.address() as { port: number }).port;
    try {
      const r = await runIn(topo.nodes[0].ns, ["curl", "-s", "--max-time", "3", `http://${topo.hostAddress}:${port}/`]);
      expect(r.stdout).toBe("host");
    } finally {
      server.close();
    }
  });

  it("cuts a node off when its link goes down, and removes everything on destroy", async () => {
    await topo.linkDown(topo.nodes[1]);
    expect((await runIn(topo.client.ns, ["ping", "-c1", "-W1", topo.nodes[1].ipv4])).code).not.toBe(0);
    await topo.linkUp(topo.nodes[1]);
    await topo.destroy();
    const left = await run(["ip", "netns", "list"]);
    expect(left.stdout).not.toContain("blbtopo-");
  });
});
