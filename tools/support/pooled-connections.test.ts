import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { reuseConnections } from "./pooled-connections.ts";

let server: Server;
let connections = 0;
let url = "";

beforeEach(async () => {
  connections = 0;
  server = createServer((req, res) => {
    const name = (req.url ?? "").split("/").pop();
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ apiVersion: "v1", kind: "Namespace", metadata: { name } }));
  });
  server.on("connection", () => connections++);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** A kubeconfig like kube-sim's: plain HTTP with insecure-skip-tls-verify and a bearer token. */
function kubeconfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "sim", server: url, skipTLSVerify: true }],
    users: [{ name: "admin", token: "t" }],
    contexts: [{ name: "sim", cluster: "sim", user: "admin" }],
    currentContext: "sim",
  });
  return kc;
}

async function readForty(kc: KubeConfig): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  for (let i = 0; i < 40; i++) expect((await core.readNamespace({ name: `ns-${i}` })).metadata?.name).toBe(`ns-${i}`);
}

describe("reuseConnections", () => {
  it("sends forty sequential requests over at most two kept-alive connections", async () => {
    // undici frees a connection a tick after the response ends, so the next request may open a
    // second one; from then on the two alternate.
    await readForty(reuseConnections(kubeconfig()));
    expect(connections).toBeGreaterThanOrEqual(1);
    expect(connections).toBeLessThanOrEqual(2);
  });

  it("is needed: without it, client-node opens a connection per request", async () => {
    await readForty(kubeconfig());
    expect(connections).toBe(40);
  });
});
