import { readFile } from "node:fs/promises";
import { get as httpsGet } from "node:https";
import { CoreV1Api } from "@kubernetes/client-node";
import { afterEach, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { serviceAccountGroups, startKubeSim, type KubeSim, type KubeSimOptions } from "./index.ts";

let sim: KubeSim | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

interface Api {
  sim: KubeSim;
  req(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; json: any; headers: Headers }>;
  watch(path: string, headers?: Record<string, string>): Promise<WatchStream>;
}

interface WatchStream {
  status: number;
  contentType: string | null;
  /** Next event, or undefined when the stream ended; fails after `ms`. */
  next(ms?: number): Promise<{ type: string; object: any } | undefined>;
  close(): void;
}

async function token(s: KubeSim): Promise<string> {
  const kc = parseYaml(await readFile(s.kubeconfigPath, "utf8")) as { users: { user: { token: string } }[] };
  return kc.users[0].user.token;
}

async function start(opts: KubeSimOptions = {}): Promise<Api> {
  sim = await startKubeSim({ bookmarkIntervalMs: 50, ...opts });
  const s = sim;
  const auth = `Bearer ${await token(s)}`;
  return {
    sim: s,
    async req(method, path, body, headers = {}) {
      const res = await fetch(s.url + path, {
        method,
        headers: { Authorization: auth, "Content-Type": "application/json", ...headers },
        body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
      });
      const text = await res.text();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = text;
      }
      return { status: res.status, json, headers: res.headers };
    },
    async watch(path, headers = {}) {
      const controller = new AbortController();
      const res = await fetch(s.url + path, { headers: { Authorization: auth, ...headers }, signal: controller.signal });
      const reader = res.body!.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      let done = false;
      return {
        status: res.status,
        contentType: res.headers.get("content-type"),
        async next(ms = 2000) {
          const deadline = Date.now() + ms;
          while (true) {
            const nl = buffer.indexOf("\n");
            if (nl >= 0) {
              const line = buffer.slice(0, nl);
              buffer = buffer.slice(nl + 1);
              return JSON.parse(line);
            }
            if (done) return undefined;
            const left = deadline - Date.now();
            if (left <= 0) throw new Error(`no watch event within ${ms} ms`);
            let timer: NodeJS.Timeout | undefined;
            const chunk = await Promise.race([
              reader.read(),
              new Promise<never>((_, reject) => {
                timer = setTimeout(() => reject(new Error(`no watch event within ${ms} ms`)), left);
              }),
            ]).finally(() => clearTimeout(timer));
            if (chunk.done) done = true;
            else buffer += decoder.decode(chunk.value, { stream: true });
          }
        },
        close: () => controller.abort(),
      };
    },
  };
}

const svc = (name: string, labels: Record<string, string> = {}, spec: Record<string, unknown> = {}) => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: { name, labels },
  spec: { ports: [{ port: 80 }], ...spec },
});

describe("authentication and authorization", () => {
  it("refuses an unknown token with 401 and serves /version without one", async () => {
    const api = await start();
    const bad = await fetch(`${api.sim.url}/api/v1/namespaces`, { headers: { Authorization: "Bearer nope" } });
    expect(bad.status).toBe(401);
    expect(await bad.json()).toMatchObject({ kind: "Status", reason: "Unauthorized", code: 401 });
    expect((await fetch(`${api.sim.url}/version`)).status).toBe(200);
  });

  it("passes each request's identity to the authorizer and answers 403 when it refuses", async () => {
    const seen: string[] = [];
    const api = await start({
      authorize: (user, a) => {
        seen.push(`${user.name} ${a.verb} ${a.resource} ${a.namespace}`);
        return user.name.startsWith("system:serviceaccount:") && a.verb === "delete" ? { allowed: false } : { allowed: true };
      },
    });
    const kc = await api.sim.issueKubeconfig(`${api.sim.kubeconfigPath}.sa`, {
      name: "system:serviceaccount:lb:controller",
      groups: serviceAccountGroups("lb"),
    });
    const saToken = kc.getCurrentUser()!.token!;
    const list = await fetch(`${api.sim.url}/api/v1/namespaces/default/services`, { headers: { Authorization: `Bearer ${saToken}` } });
    expect(list.status).toBe(200);
    const del = await fetch(`${api.sim.url}/api/v1/namespaces/default/services/web`, { method: "DELETE", headers: { Authorization: `Bearer ${saToken}` } });
    expect(del.status).toBe(403);
    expect(((await del.json()) as { message: string }).message).toBe(
      'services "web" is forbidden: User "system:serviceaccount:lb:controller" cannot delete resource "services" in API group "" in the namespace "default"',
    );
    expect(seen).toContain("system:serviceaccount:lb:controller list services default");
  });
});

describe("https", () => {
  it("serves TLS with a generated CA: client-node verifies it and each kubeconfig acts as its own user", async () => {
    const users: string[] = [];
    sim = await startKubeSim({ tls: true, authorize: (u) => (users.push(u.name), { allowed: true }) });
    expect(sim.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const kc = await sim.issueKubeconfig(`${sim.kubeconfigPath}.sa`, { name: "system:serviceaccount:lb:speaker", groups: serviceAccountGroups("lb") });
    const list = await kc.makeApiClient(CoreV1Api).listNamespace();
    expect(list.items.map((n) => n.metadata?.name)).toContain("default");
    await sim.client.makeApiClient(CoreV1Api).readNamespace({ name: "default" });
    const ca = Buffer.from(kc.getCurrentCluster()!.caData!, "base64").toString();
    const anonymous = await new Promise<number>((resolve, reject) => {
      httpsGet(`${sim!.url}/api/v1/namespaces`, { ca }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on("error", reject);
    });
    expect(anonymous).toBe(200);
    expect(users).toEqual(["system:serviceaccount:lb:speaker", "kube-sim:admin", "system:anonymous"]);
  });
});

describe("errors and reads", () => {
  it("answers Status objects for NotFound, unknown paths and bad selectors", async () => {
    const api = await start();
    expect((await api.req("GET", "/api/v1/namespaces/default/services/nope")).json).toEqual({
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: 'services "nope" not found',
      reason: "NotFound",
      details: { name: "nope", group: "", kind: "services" },
      code: 404,
    });
    expect((await api.req("GET", "/apis/example.com/v1/widgets")).status).toBe(404);
    const badField = await api.req("GET", "/api/v1/services?fieldSelector=spec.foo%3Dx");
    expect(badField.status).toBe(400);
    expect(badField.json.message).toBe("field label not supported: spec.foo");
    expect((await api.req("GET", "/api/v1/services?labelSelector=a%20in%20(")).status).toBe(400);
  });

  it("lists with kind/apiVersion on the list and on each item, filtered by label and field selectors", async () => {
    const api = await start();
    await api.req("POST", "/api/v1/namespaces/default/services", svc("a", { app: "web", tier: "fe" }));
    await api.req("POST", "/api/v1/namespaces/default/services", svc("b", { app: "web" }));
    await api.req("POST", "/api/v1/namespaces/kube-system/services", svc("c", { app: "dns" }));
    const all = await api.req("GET", "/api/v1/services?limit=500");
    expect(all.json).toMatchObject({ kind: "ServiceList", apiVersion: "v1", metadata: { resourceVersion: expect.any(String) } });
    expect(all.json.items.map((i: any) => `${i.kind}/${i.apiVersion}/${i.metadata.namespace}/${i.metadata.name}`)).toEqual([
      "Service/v1/default/a",
      "Service/v1/default/b",
      "Service/v1/kube-system/c",
    ]);
    const names = async (q: string) => (await api.req("GET", `/api/v1/services?${q}`)).json.items.map((i: any) => i.metadata.name);
    expect(await names("labelSelector=app%3Dweb,tier")).toEqual(["a"]);
    expect(await names("labelSelector=app%20notin%20(dns),!tier")).toEqual(["b"]);
    expect(await names("fieldSelector=metadata.namespace%3Dkube-system")).toEqual(["c"]);
    expect(await names("fieldSelector=metadata.name!%3Da")).toEqual(["b", "c"]);
  });

  it("pages with limit/continue from one snapshot, and a continue token older than compaction is 410", async () => {
    const api = await start();
    for (const n of ["a", "b", "c", "d", "e"]) await api.req("POST", "/api/v1/namespaces/default/configmaps", { metadata: { name: n } });
    const p1 = await api.req("GET", "/api/v1/namespaces/default/configmaps?limit=2");
    expect(p1.json.items.map((i: any) => i.metadata.name)).toEqual(["a", "b"]);
    expect(p1.json.metadata.remainingItemCount).toBe(3);
    await api.req("DELETE", "/api/v1/namespaces/default/configmaps/c");
    await api.req("POST", "/api/v1/namespaces/default/configmaps", { metadata: { name: "bb" } });
    const p2 = await api.req("GET", `/api/v1/namespaces/default/configmaps?limit=2&continue=${encodeURIComponent(p1.json.metadata.continue)}`);
    expect(p2.json.items.map((i: any) => i.metadata.name)).toEqual(["c", "d"]);
    expect(p2.json.metadata.resourceVersion).toBe(p1.json.metadata.resourceVersion);
    api.sim.faults.compact();
    const p3 = await api.req("GET", `/api/v1/namespaces/default/configmaps?limit=2&continue=${encodeURIComponent(p2.json.metadata.continue)}`);
    expect(p3.status).toBe(410);
    expect(p3.json).toMatchObject({ reason: "Expired", code: 410 });
  });

  it("serves Tables when asked", async () => {
    const api = await start();
    await api.req("POST", "/api/v1/namespaces/default/services", svc("web"));
    const accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";
    const t = await api.req("GET", "/api/v1/namespaces/default/services?limit=500", undefined, { Accept: accept });
    expect(t.headers.get("content-type")).toBe("application/json;as=Table;v=v1;g=meta.k8s.io");
    expect(t.json).toMatchObject({ kind: "Table", rows: [{ object: { metadata: { name: "web" } } }] });
  });

  it("serves aggregated discovery with the exact content type, and a CRD's group once it is stored", async () => {
    const api = await start();
    const accept = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json";
    const d = await api.req("GET", "/apis", undefined, { Accept: accept });
    expect(d.headers.get("content-type")).toBe("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList");
    const crd = {
      metadata: { name: "widgets.example.com" },
      spec: { group: "example.com", scope: "Namespaced", names: { plural: "widgets", kind: "Widget" }, versions: [{ name: "v1", served: true, storage: true }] },
    };
    expect((await api.req("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd)).status).toBe(201);
    const legacy = await api.req("GET", "/apis/example.com/v1");
    expect(legacy.json.resources.map((r: any) => r.name)).toContain("widgets");
    expect((await api.req("POST", "/apis/example.com/v1/namespaces/default/widgets", { apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w" } })).status).toBe(201);
  });
});

describe("patch", () => {
  it("applies merge, JSON and strategic merge patches", async () => {
    const api = await start();
    await api.req("POST", "/api/v1/namespaces/default/services", svc("web", { a: "1" }, { ports: [{ name: "http", port: 80 }, { name: "https", port: 443 }] }));
    const merge = await api.req("PATCH", "/api/v1/namespaces/default/services/web", { metadata: { labels: { a: null, b: "2" } } }, { "Content-Type": "application/merge-patch+json" });
    expect(merge.json.metadata.labels).toEqual({ b: "2" });
    const json = await api.req("PATCH", "/api/v1/namespaces/default/services/web", [{ op: "add", path: "/metadata/labels/c", value: "3" }], { "Content-Type": "application/json-patch+json" });
    expect(json.json.metadata.labels).toEqual({ b: "2", c: "3" });
    const failedTest = await api.req("PATCH", "/api/v1/namespaces/default/services/web", [{ op: "test", path: "/metadata/labels/c", value: "x" }], { "Content-Type": "application/json-patch+json" });
    expect(failedTest.status).toBe(422);
    const smp = await api.req(
      "PATCH",
      "/api/v1/namespaces/default/services/web",
      { spec: { ports: [{ $patch: "delete", port: 443 }] } },
      { "Content-Type": "application/strategic-merge-patch+json" },
    );
    expect(smp.status).toBe(200);
    expect(smp.json.spec.ports.map((p: any) => p.port)).toEqual([80]);
  });

  it("answers 404 for a missing object, 409 for a stale resourceVersion in the patch, 415 for unknown types", async () => {
    const api = await start();
    const merge = { "Content-Type": "application/merge-patch+json" };
    expect((await api.req("PATCH", "/api/v1/namespaces/default/services/nope", {}, merge)).status).toBe(404);
    await api.req("POST", "/api/v1/namespaces/default/services", svc("web"));
    const stale = await api.req("PATCH", "/api/v1/namespaces/default/services/web", { metadata: { resourceVersion: "1", labels: { a: "b" } } }, merge);
    expect(stale.status).toBe(409);
    expect((await api.req("PATCH", "/api/v1/namespaces/default/services/web", {}, { "Content-Type": "text/plain" })).status).toBe(415);
  });

  it("refuses strategic merge on custom resources with apiserver's 415 message", async () => {
    const api = await start();
    await api.req("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", {
      metadata: { name: "widgets.example.com" },
      spec: { group: "example.com", scope: "Namespaced", names: { plural: "widgets", kind: "Widget" }, versions: [{ name: "v1", served: true, storage: true }] },
    });
    await api.req("POST", "/apis/example.com/v1/namespaces/default/widgets", { apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w" }, spec: { size: 1 } });
    const smp = await api.req("PATCH", "/apis/example.com/v1/namespaces/default/widgets/w", { spec: { size: 2 } }, { "Content-Type": "application/strategic-merge-patch+json" });
    expect(smp.status).toBe(415);
    expect(smp.json.message).toBe(
      "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml",
    );
    const merge = await api.req("PATCH", "/apis/example.com/v1/namespaces/default/widgets/w", { spec: { size: 2 } }, { "Content-Type": "application/merge-patch+json" });
    expect(merge.json).toMatchObject({ spec: { size: 2 }, metadata: { generation: 2 } });
  });

  it("server-side apply creates (201) and then merges (200), in YAML or JSON", async () => {
    const api = await start();
    const path = "/api/v1/namespaces/default/configmaps/cfg?fieldManager=test&force=true";
    const yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  a: '1'\n";
    const created = await api.req("PATCH", path, yaml, { "Content-Type": "application/apply-patch+yaml" });
    expect(created.status).toBe(201);
    const applied = await api.req("PATCH", path, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cfg" }, data: { b: "2" } }, { "Content-Type": "application/apply-patch+yaml" });
    expect(applied.status).toBe(200);
    expect(applied.json.data).toEqual({ a: "1", b: "2" });
    const noManager = await api.req("PATCH", "/api/v1/namespaces/default/configmaps/cfg", yaml, { "Content-Type": "application/apply-patch+yaml" });
    expect(noManager.status).toBe(400);
  });

  it("patches status through /status only", async () => {
    const api = await start();
    await api.req("POST", "/api/v1/namespaces/default/services", svc("web", {}, { type: "LoadBalancer" }));
    const merge = { "Content-Type": "application/merge-patch+json" };
    const st = await api.req("PATCH", "/api/v1/namespaces/default/services/web/status", { status: { loadBalancer: { ingress: [{ ip: "192.0.2.1" }] } }, spec: { type: "ClusterIP" } }, merge);
    expect(st.json.status.loadBalancer.ingress).toEqual([{ ip: "192.0.2.1", ipMode: "VIP" }]);
    expect(st.json.spec.type).toBe("LoadBalancer");
    const bad = await api.req("PATCH", "/api/v1/namespaces/default/services/web/status", { status: { loadBalancer: { ingress: [{ ip: "300.1.1.1" }] } } }, merge);
    expect(bad.status).toBe(422);
    expect(bad.json.message).toBe('Service "web" is invalid: status.loadBalancer.ingress[0].ip: Invalid value: "300.1.1.1": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)');
  });
});

describe("delete", () => {
  it("deletes a collection by label selector", async () => {
    const api = await start();
    await api.req("POST", "/api/v1/namespaces/default/configmaps", { metadata: { name: "a", labels: { x: "1" } } });
    await api.req("POST", "/api/v1/namespaces/default/configmaps", { metadata: { name: "b" } });
    const del = await api.req("DELETE", "/api/v1/namespaces/default/configmaps?labelSelector=x%3D1");
    expect(del.json).toMatchObject({ kind: "ConfigMapList", items: [{ metadata: { name: "a" } }] });
    expect((await api.req("GET", "/api/v1/namespaces/default/configmaps")).json.items.map((i: any) => i.metadata.name)).toEqual(["b"]);
  });

  it("accepts kubectl's DeleteOptions body and returns the object", async () => {
    const api = await start();
    await api.req("POST", "/api/v1/namespaces/default/services", svc("web"));
    const del = await api.req("DELETE", "/api/v1/namespaces/default/services/web", { propagationPolicy: "Background" });
    expect(del.status).toBe(200);
    expect(del.json).toMatchObject({ kind: "Service", metadata: { name: "web" } });
  });
});

describe("watch", () => {
  it("flushes headers at once and sends ADDED for the current state when no resourceVersion is given", async () => {
    const api = await start();
    await api.req("POST", "/api/v1/namespaces/default/services", svc("a"));
    const w = await api.watch("/api/v1/namespaces/default/services?watch=true");
    expect(w.status).toBe(200);
    expect(w.contentType).toBe("application/json");
    expect(await w.next()).toMatchObject({ type: "ADDED", object: { kind: "Service", metadata: { name: "a" } } });
    await api.req("POST", "/api/v1/namespaces/default/services", svc("b"));
    expect(await w.next()).toMatchObject({ type: "ADDED", object: { metadata: { name: "b" } } });
    w.close();
  });

  it("replays changes after a resourceVersion, then MODIFIED and DELETED with new resourceVersions", async () => {
    const api = await start();
    const list = await api.req("GET", "/api/v1/namespaces/default/services");
    await api.req("POST", "/api/v1/namespaces/default/services", svc("a"));
    const w = await api.watch(`/api/v1/namespaces/default/services?watch=1&resourceVersion=${list.json.metadata.resourceVersion}`);
    const added = await w.next();
    expect(added).toMatchObject({ type: "ADDED", object: { metadata: { name: "a" } } });
    await api.req("PATCH", "/api/v1/namespaces/default/services/a", { metadata: { labels: { x: "y" } } }, { "Content-Type": "application/merge-patch+json" });
    const modified = await w.next();
    expect(modified).toMatchObject({ type: "MODIFIED", object: { metadata: { labels: { x: "y" } } } });
    await api.req("DELETE", "/api/v1/namespaces/default/services/a");
    const deleted = await w.next();
    expect(deleted?.type).toBe("DELETED");
    expect(Number(deleted!.object.metadata.resourceVersion)).toBeGreaterThan(Number(modified!.object.metadata.resourceVersion));
    w.close();
  });

  it("turns selector transitions into DELETED and ADDED for that watcher", async () => {
    const api = await start();
    await api.req("POST", "/api/v1/namespaces/default/services", svc("a", { app: "web" }));
    const w = await api.watch("/api/v1/namespaces/default/services?watch=true&labelSelector=app%3Dweb");
    expect((await w.next())?.type).toBe("ADDED");
    const merge = { "Content-Type": "application/merge-patch+json" };
    await api.req("PATCH", "/api/v1/namespaces/default/services/a", { metadata: { labels: { app: "other" } } }, merge);
    const gone = await w.next();
    expect(gone).toMatchObject({ type: "DELETED", object: { metadata: { name: "a", labels: { app: "web" } } } });
    await api.req("PATCH", "/api/v1/namespaces/default/services/a", { metadata: { labels: { app: "web" } } }, merge);
    expect(await w.next()).toMatchObject({ type: "ADDED", object: { metadata: { labels: { app: "web" } } } });
    w.close();
  });

  it("answers a compacted resourceVersion with an ERROR event (410 Expired) and ends the stream", async () => {
    const api = await start();
    await api.req("POST", "/api/v1/namespaces/default/services", svc("a"));
    api.sim.faults.compact();
    const w = await api.watch("/api/v1/namespaces/default/services?watch=true&resourceVersion=2");
    const err = await w.next();
    expect(err).toMatchObject({ type: "ERROR", object: { kind: "Status", code: 410, reason: "Expired" } });
    expect(err!.object.message).toMatch(/^too old resource version: 2 \(\d+\)$/);
    expect(await w.next()).toBeUndefined();
  });

  it("sends BOOKMARKs when allowed and ends at timeoutSeconds", async () => {
    const api = await start();
    const list = await api.req("GET", "/api/v1/namespaces/default/services");
    const w = await api.watch(`/api/v1/namespaces/default/services?watch=true&allowWatchBookmarks=true&timeoutSeconds=1&resourceVersion=${list.json.metadata.resourceVersion}`);
    expect(await w.next()).toEqual({ type: "BOOKMARK", object: { kind: "Service", apiVersion: "v1", metadata: { resourceVersion: list.json.metadata.resourceVersion } } });
    let ended = false;
    for (let i = 0; i < 100 && !ended; i++) ended = (await w.next(1500)) === undefined;
    expect(ended).toBe(true);
  });

  it("watch-list: initial ADDED events end with an initial-events-end BOOKMARK", async () => {
    const api = await start();
    await api.req("POST", "/api/v1/namespaces/default/services", svc("a"));
    const w = await api.watch("/api/v1/namespaces/default/services?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true");
    expect((await w.next())?.type).toBe("ADDED");
    expect(await w.next()).toMatchObject({ type: "BOOKMARK", object: { metadata: { annotations: { "k8s.io/initial-events-end": "true" } } } });
    w.close();
    const invalid = await api.req("GET", "/api/v1/namespaces/default/services?watch=true&sendInitialEvents=true");
    expect(invalid.status).toBe(422);
    expect(invalid.json.message).toContain("resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan");
  });

  it("ends watches cleanly on dropWatches", async () => {
    const api = await start();
    const w = await api.watch("/api/v1/namespaces/default/services?watch=true&resourceVersion=1");
    api.sim.faults.dropWatches();
    expect(await w.next()).toBeUndefined();
  });

  it("sends one-row Tables per event when the Accept header asks for Tables", async () => {
    const api = await start();
    await api.req("POST", "/api/v1/namespaces/default/services", svc("a"));
    const w = await api.watch("/api/v1/namespaces/default/services?watch=true", { Accept: "application/json;as=Table;v=v1;g=meta.k8s.io,application/json" });
    const e = await w.next();
    expect(e).toMatchObject({ type: "ADDED", object: { kind: "Table" } });
    expect(e!.object.rows).toHaveLength(1);
    w.close();
  });
});

describe("faults", () => {
  it("fails the next requests with the given code and Retry-After", async () => {
    const api = await start();
    api.sim.faults.failNext(2, 429, 3);
    const first = await api.req("GET", "/api/v1/namespaces");
    expect(first.status).toBe(429);
    expect(first.headers.get("retry-after")).toBe("3");
    expect(first.json).toMatchObject({ reason: "TooManyRequests", details: { retryAfterSeconds: 3 } });
    expect((await api.req("GET", "/api/v1/namespaces")).status).toBe(429);
    expect((await api.req("GET", "/api/v1/namespaces")).status).toBe(200);
    api.sim.faults.failNext(1, 500);
    const err = await api.req("GET", "/api/v1/namespaces");
    expect(err.status).toBe(500);
    expect(err.headers.get("retry-after")).toBeNull();
  });

  it("adds latency to every request", async () => {
    const api = await start();
    api.sim.faults.setLatency(120);
    const t0 = Date.now();
    await api.req("GET", "/api/v1/namespaces");
    expect(Date.now() - t0).toBeGreaterThanOrEqual(110);
  });

  it("keeps state across a restart on the same port", async () => {
    const api = await start();
    await api.req("POST", "/api/v1/namespaces/default/configmaps", { metadata: { name: "kept" } });
    await api.sim.faults.restart();
    expect((await api.req("GET", "/api/v1/namespaces/default/configmaps/kept")).status).toBe(200);
  });
});
