import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fetchProxyMode } from "./proxy-mode-endpoint.ts";

describe("fetchProxyMode", () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === "/proxyMode") res.end("ipvs");
      else if (req.url === "/nftables") res.end("nftables\n");
      else if (req.url === "/html") res.end("<html>hello</html>");
      else if (req.url === "/slow") setTimeout(() => res.end("ipvs"), 2_000);
      else {
        res.statusCode = 404;
        res.end("404 page not found");
      }
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it("returns kube-proxy's answer", async () => {
    expect(await fetchProxyMode(`${base}/proxyMode`)).toBe("ipvs");
    expect(await fetchProxyMode(`${base}/nftables`)).toBe("nftables");
  });

  it("returns undefined for a 404 or a body that is not a mode", async () => {
    expect(await fetchProxyMode(`${base}/other`)).toBeUndefined();
    expect(await fetchProxyMode(`${base}/html`)).toBeUndefined();
  });

  it("gives up after the timeout", async () => {
    const started = performance.now();
    expect(await fetchProxyMode(`${base}/slow`, 200)).toBeUndefined();
    expect(performance.now() - started).toBeLessThan(1_500);
  });

  it("returns undefined when nothing listens", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    expect(await fetchProxyMode(`http://127.0.0.1:${port}/proxyMode`)).toBeUndefined();
  });
});
