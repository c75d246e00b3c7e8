import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { http } from "../http-modules.ts";
import type { Registry } from "prom-client";

/** What /healthz and /readyz report: `true`, or the reason the process is not healthy/ready. */
export type Probe = () => true | string;

export interface OpsServer {
  /** The port actually bound (useful with port 0). */
  port: number;
  close(): Promise<void>;
}

/**
 * Serves `/metrics` (Prometheus text), `/healthz` and `/readyz` on one port.
 * A probe that returns a string answers 503 with that string as the body.
 *
 * @example
 * const ops = await startOpsServer({ port: 7472, registry, healthz: () => true, readyz: () => synced || "informers not synced" });
 */
export async function startOpsServer(opts: {
  port: number;
  host?: string;
  registry: Registry;
  healthz: Probe;
  readyz: Probe;
}): Promise<OpsServer> {
  const server: Server = http.createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    if (path === "/metrics") {
      opts.registry.metrics().then(
        (text) => res.writeHead(200, { "content-type": opts.registry.contentType }).end(text),
        (err: unknown) => res.writeHead(500, { "content-type": "text/plain" }).end(String(err)),
      );
      return;
    }
    const probe = path === "/healthz" ? opts.healthz : path === "/readyz" ? opts.readyz : undefined;
    if (!probe) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found: try /metrics, /healthz or /readyz\n");
      return;
    }
    const verdict = probe();
    if (verdict === true) res.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
    else res.writeHead(503, { "content-type": "text/plain" }).end(`${verdict}\n`);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host ?? "0.0.0.0", () => {
      server.off("error", reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
