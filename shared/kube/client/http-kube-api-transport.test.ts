import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { connect, createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TLSSocket } from "node:tls";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { startKubeSim, type KubeSim, type UserInfo } from "../../../tools/kube-sim/index.ts";
import { createServerTls } from "../../../tools/kube-sim/self-signed-tls.ts";
import { ApiError } from "./api-error.ts";
import { loadClusterAccess } from "./cluster-access.ts";
import { createKubeApi } from "./http-kube-api.ts";
import type { KubeApi } from "./kube-api.ts";
import { configMaps } from "./resource-types.ts";

const inDefault = { ...configMaps, namespace: "default" };
const cleanups: (() => Promise<void> | void)[] = [];
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "kube-api-transport-"));
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await rm(dir, { recursive: true, force: true });
});

function track<T extends KubeApi | KubeSim>(x: T): T {
  cleanups.push(() => ("close" in x ? x.close() : x.stop()));
  return x;
}

type Kubeconfig = { clusters: { cluster: Record<string, unknown> }[]; users: { user: Record<string, unknown> }[] };

/** A copy of `path` changed by `edit`, written next to the test's other files. */
async function editKubeconfig(path: string, edit: (kc: Kubeconfig) => void): Promise<string> {
  const kc = parse(await readFile(path, "utf8")) as Kubeconfig;
  edit(kc);
  const out = join(dir, `kubeconfig-${Math.random().toString(36).slice(2)}`);
  await writeFile(out, stringify(kc));
  return out;
}

/** A kubeconfig for `server` with `user`. */
async function kubeconfigFor(server: string, user: Record<string, unknown>, cluster: Record<string, unknown> = {}): Promise<string> {
  const out = join(dir, `kubeconfig-${Math.random().toString(36).slice(2)}`);
  await writeFile(
    out,
    stringify({
      clusters: [{ name: "c", cluster: { server, ...cluster } }],
      users: [{ name: "u", user }],
      contexts: [{ name: "ctx", context: { cluster: "c", user: "u" } }],
      "current-context": "ctx",
    }),
  );
  return out;
}

async function listen(server: Server | TcpServer): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        if ("closeAllConnections" in server) server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return (server.address() as AddressInfo).port;
}

/** A TCP proxy in front of `port` that counts the connections clients open. */
async function countingProxy(port: number): Promise<{ port: number; connections: () => number }> {
  let connections = 0;
  const sockets = new Set<Socket>();
  const proxy = createTcpServer((client) => {
    connections++;
    const upstream = connect(port, "127.0.0.1");
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("error", () => undefined);
      s.on("close", () => sockets.delete(s));
    }
    client.pipe(upstream).pipe(client);
  });
  cleanups.push(() => {
    for (const s of sockets) s.destroy();
  });
  return { port: await listen(proxy), connections: () => connections };
}

/** A plain HTTP server answering with `handler`, remembering each request's headers. */
async function fakeServer(handler: (req: IncomingMessage, res: ServerResponse, n: number) => void): Promise<{ url: string; requests: IncomingMessage[] }> {
  const requests: IncomingMessage[] = [];
  const server = createHttpServer({ keepAlive: true }, (req, res) => {
    requests.push(req);
    req.resume();
    req.on("end", () => handler(req, res, requests.length));
  });
  return { url: `http://127.0.0.1:${await listen(server)}`, requests };
}

const json = (res: ServerResponse, code: number, body: unknown) => {
  const text = JSON.stringify(body);
  res.writeHead(code, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
  res.end(text);
};

describe("TLS", () => {
  it("trusts the kubeconfig's CA and authenticates with its bearer token", async () => {
    const seen: UserInfo[] = [];
    const sim = track(await startKubeSim({ tls: true, authorize: (user) => (seen.push(user), { allowed: true }) }));
    const api = track(createKubeApi(loadClusterAccess(sim.kubeconfigPath, {})));
    await api.create(inDefault, { metadata: { name: "over-tls" } });
    expect(sim.url).toMatch(/^https:/);
    expect(seen.map((u) => u.name)).toEqual(["kube-sim:admin"]);
  });

  it("refuses a server whose certificate the CA did not sign", async () => {
    const sim = track(await startKubeSim({ tls: true }));
    const other = createServerTls(["127.0.0.1"]).caPem;
    const path = await editKubeconfig(sim.kubeconfigPath, (kc) => (kc.clusters[0].cluster["certificate-authority-data"] = Buffer.from(other).toString("base64")));
    const api = track(createKubeApi(loadClusterAccess(path, {})));
    await expect(api.list(inDefault)).rejects.toThrow(/certificate|self.signed|unable to verify/i);
  });

  it("skips verification when the kubeconfig says insecure-skip-tls-verify", async () => {
    const sim = track(await startKubeSim({ tls: true }));
    const path = await editKubeconfig(sim.kubeconfigPath, (kc) => {
      delete kc.clusters[0].cluster["certificate-authority-data"];
      kc.clusters[0].cluster["insecure-skip-tls-verify"] = true;
    });
    const api = track(createKubeApi(loadClusterAccess(path, {})));
    expect((await api.list(inDefault)).items).toEqual([]);
  });

  it("checks the certificate against tls-server-name", async () => {
    const sim = track(await startKubeSim({ tls: true }));
    const named = (name: string) => editKubeconfig(sim.kubeconfigPath, (kc) => (kc.clusters[0].cluster["tls-server-name"] = name));
    const good = track(createKubeApi(loadClusterAccess(await named("localhost"), {})));
    expect((await good.list(inDefault)).items).toEqual([]);
    const bad = track(createKubeApi(loadClusterAccess(await named("kubernetes.example"), {})));
    await expect(bad.list(inDefault)).rejects.toThrow(/kubernetes.example/);
  });

  it("presents the kubeconfig's client certificate", async () => {
    const server = createServerTls(["127.0.0.1"]);
    const client = createServerTls(["10.0.0.1"]);
    const https = createHttpsServer({ key: server.keyPem, cert: server.certPem, requestCert: true, rejectUnauthorized: false }, (req, res) => {
      const peer = (req.socket as TLSSocket).getPeerCertificate();
      json(res, 200, { items: [], metadata: { resourceVersion: "1" }, peer: peer.subject?.CN ?? null, authorization: req.headers.authorization ?? null });
    });
    const port = await listen(https);
    const path = await kubeconfigFor(
      `https://127.0.0.1:${port}`,
      { "client-certificate-data": Buffer.from(client.certPem).toString("base64"), "client-key-data": Buffer.from(client.keyPem).toString("base64") },
      { "certificate-authority-data": Buffer.from(server.caPem).toString("base64") },
    );
    const api = track(createKubeApi(loadClusterAccess(path, {})));
    expect(await api.get({ ...inDefault, name: "x" })).toMatchObject({ peer: "kube-sim", authorization: null });
  });
});

describe("authentication", () => {
  it("gets 401 for an unknown token, after asking for fresh credentials once", async () => {
    const sim = track(await startKubeSim({ tls: true }));
    const path = await editKubeconfig(sim.kubeconfigPath, (kc) => (kc.users[0].user.token = "wrong"));
    const api = track(createKubeApi(loadClusterAccess(path, {})));
    const err = await api.list(inDefault).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ code: 401, reason: "Unauthorized" });
  });

  it("re-reads a rotated token file after a 401 and succeeds", async () => {
    const sim = track(await startKubeSim({ tls: true }));
    const goodToken = (parse(await readFile(sim.kubeconfigPath, "utf8")) as Kubeconfig).users[0].user.token as string;
    const tokenPath = join(dir, "token");
    await writeFile(tokenPath, "expired-token");
    const path = await editKubeconfig(sim.kubeconfigPath, (kc) => {
      delete kc.users[0].user.token;
      kc.users[0].user.tokenFile = tokenPath;
    });
    const api = track(createKubeApi(loadClusterAccess(path, {})));
    await writeFile(tokenPath, goodToken); // rotated after the client read it
    expect((await api.list(inDefault)).items).toEqual([]);
  });

  it("sends basic auth", async () => {
    const fake = await fakeServer((_req, res) => json(res, 200, {}));
    const api = track(createKubeApi(loadClusterAccess(await kubeconfigFor(fake.url, { username: "admin", password: "s3cret" }), {})));
    await api.get({ ...inDefault, name: "x" });
    expect(fake.requests[0].headers.authorization).toBe(`Basic ${Buffer.from("admin:s3cret").toString("base64")}`);
  });

  it("sends JSON with the right content type for each patch type, and its user agent", async () => {
    const fake = await fakeServer((_req, res) => json(res, 200, {}));
    const access = loadClusterAccess(await kubeconfigFor(fake.url, { token: "t" }), {});
    const api = track(createKubeApi(access, { userAgent: "baremetal-lb-test/1" }));
    const ref = { ...inDefault, name: "x" };
    await api.patch(ref, {}, "merge");
    await api.patch(ref, {}, "strategic");
    await api.patch(ref, [], "json");
    await api.replace(ref, {});
    expect(fake.requests.map((r) => [r.method, r.headers["content-type"]])).toEqual([
      ["PATCH", "application/merge-patch+json"],
      ["PATCH", "application/strategic-merge-patch+json"],
      ["PATCH", "application/json-patch+json"],
      ["PUT", "application/json"],
    ]);
    expect(fake.requests[0].headers).toMatchObject({ accept: "application/json", "user-agent": "baremetal-lb-test/1", authorization: "Bearer t" });
  });
});

describe("connection reuse", () => {
  it("keeps one connection for sequential requests and a few for concurrent ones", async () => {
    const sim = track(await startKubeSim());
    const proxy = await countingProxy(Number(new URL(sim.url).port));
    const path = await editKubeconfig(sim.kubeconfigPath, (kc) => (kc.clusters[0].cluster.server = `http://127.0.0.1:${proxy.port}`));
    const api = track(createKubeApi(loadClusterAccess(path, {})));
    for (let i = 0; i < 30; i++) await api.create(inDefault, { metadata: { name: `seq-${i}` } });
    for (let i = 0; i < 30; i++) await api.get({ ...inDefault, name: `seq-${i}` });
    expect(proxy.connections()).toBe(1);
    await Promise.all(Array.from({ length: 8 }, (_, i) => api.get({ ...inDefault, name: `seq-${i}` })));
    expect(proxy.connections()).toBeLessThanOrEqual(8);
    const before = proxy.connections();
    for (let i = 0; i < 10; i++) await api.list(inDefault);
    expect(proxy.connections()).toBe(before);
  });

  it("keeps serving requests while watches hold their own connections", async () => {
    const sim = track(await startKubeSim());
    const api = track(createKubeApi(loadClusterAccess(sim.kubeconfigPath, {})));
    const { resourceVersion } = await api.list(inDefault);
    const abort = new AbortController();
    const watches = Array.from({ length: 20 }, () => api.watch(inDefault, { resourceVersion }, () => {}, abort.signal));
    const t0 = Date.now();
    for (let i = 0; i < 5; i++) await api.create(inDefault, { metadata: { name: `busy-${i}` } });
    expect(Date.now() - t0).toBeLessThan(2000);
    abort.abort();
    await Promise.all(watches);
  });

  it("sends a request again when the reused keep-alive connection turns out closed", async () => {
    // The server drops each connection when its second request arrives, as a server whose idle timeout just ran out.
    const perSocket = new Map<unknown, number>();
    const fake = await fakeServer((req, res) => {
      const n = (perSocket.get(req.socket) ?? 0) + 1;
      perSocket.set(req.socket, n);
      if (n === 2) req.socket.destroy();
      else json(res, 201, { metadata: { name: "ok" } });
    });
    const api = track(createKubeApi(loadClusterAccess(await kubeconfigFor(fake.url, { token: "t" }), {})));
    await api.create(inDefault, {});
    await expect(api.create(inDefault, {})).resolves.toMatchObject({ metadata: { name: "ok" } });
    expect(fake.requests.filter((r) => r.method === "POST")).toHaveLength(3);
  });
});

describe("paged lists", () => {
  it("restarts a list from the first page once when its continue token expired", async () => {
    const fake = await fakeServer((req, res) => {
      const q = new URL(req.url!, "http://x").searchParams;
      if (q.get("continue") === "stale") return json(res, 410, { kind: "Status", code: 410, reason: "Expired", message: "continue too old" });
      if (q.get("continue") === "fresh") return json(res, 200, { items: [{ n: 3 }], metadata: { resourceVersion: "20" } });
      const restart = fake.requests.filter((r) => r.url?.includes("continue=stale")).length > 0;
      json(res, 200, { items: [{ n: 1 }, { n: 2 }], metadata: { resourceVersion: restart ? "20" : "10", continue: restart ? "fresh" : "stale" } });
    });
    const api = track(createKubeApi(loadClusterAccess(await kubeconfigFor(fake.url, { token: "t" }), {})));
    expect(await api.list(inDefault, { limit: 2, labelSelector: "a=b" })).toEqual({ items: [{ n: 1 }, { n: 2 }, { n: 3 }], resourceVersion: "20" });
    expect(fake.requests.map((r) => r.url)).toEqual([
      "/api/v1/namespaces/default/configmaps?labelSelector=a%3Db&limit=2",
      "/api/v1/namespaces/default/configmaps?labelSelector=a%3Db&limit=2&continue=stale",
      "/api/v1/namespaces/default/configmaps?labelSelector=a%3Db&limit=2",
      "/api/v1/namespaces/default/configmaps?labelSelector=a%3Db&limit=2&continue=fresh",
    ]);
  });

  it("gives up when the restarted list's token expires too", async () => {
    const fake = await fakeServer((req, res) => {
      const q = new URL(req.url!, "http://x").searchParams;
      if (q.get("continue")) return json(res, 410, { kind: "Status", code: 410, reason: "Expired", message: "continue too old" });
      json(res, 200, { items: [{ n: 1 }], metadata: { resourceVersion: "10", continue: "stale" } });
    });
    const api = track(createKubeApi(loadClusterAccess(await kubeconfigFor(fake.url, { token: "t" }), {})));
    await expect(api.list(inDefault, { limit: 1 })).rejects.toMatchObject({ code: 410, reason: "Expired" });
    expect(fake.requests).toHaveLength(4);
  });

  it("waits for an HTTP-date Retry-After", async () => {
    const fake = await fakeServer((_req, res, n) => {
      if (n === 1) {
        res.writeHead(503, { "Retry-After": new Date(Date.now() + 1000).toUTCString(), "Content-Type": "application/json" });
        return res.end("{}");
      }
      json(res, 200, { ok: true });
    });
    const api = track(createKubeApi(loadClusterAccess(await kubeconfigFor(fake.url, { token: "t" }), {})));
    expect(await api.get({ ...inDefault, name: "x" })).toEqual({ ok: true });
    expect(fake.requests).toHaveLength(2);
  });
});
