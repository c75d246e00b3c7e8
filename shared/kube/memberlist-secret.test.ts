import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { CoreV1Api } from "@kubernetes/client-node";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { enforceManifestRbac, installNamespace } from "../../test/e2e/rbac-identities.ts";
import { startKubeSim, type KubeSim } from "../../tools/kube-sim/index.ts";
import { RbacAuthorizer } from "../../tools/kube-sim/rbac-authorizer.ts";
import { createLogger } from "../log.ts";
import { loadClusterAccess } from "./client/cluster-access.ts";
import { createKubeApi } from "./client/http-kube-api.ts";
import type { KubeApi } from "./client/kube-api.ts";
import { secrets } from "./client/resource-types.ts";
import { ensureMemberlistSecret, memberlistSecretName } from "./memberlist-secret.ts";

const fast = { backoffMs: { initial: 10, max: 40 } };

function capturedLog() {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split("\n")) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { log: createLogger("controller", "debug", sink), lines };
}

describe("the heartbeat key Secret (memberlist), ensured by the controller", () => {
  let sim: KubeSim;
  /** The test's own requests. */
  let core: CoreV1Api;
  /** The client the controller uses. */
  let api: KubeApi;
  let deny = 0;

  beforeAll(async () => {
    // Refuses the next `deny` requests, as a missing RBAC rule would, then allows all.
    sim = await startKubeSim({ authorize: () => (deny > 0 ? (deny--, { allowed: false, reason: "test" }) : { allowed: true }) });
    core = sim.client.makeApiClient(CoreV1Api);
    api = createKubeApi(loadClusterAccess(sim.kubeconfigPath));
    await core.createNamespace({ body: { metadata: { name: installNamespace } } });
  });
  afterAll(async () => {
    await api?.close();
    await sim?.stop();
  });
  beforeEach(async () => {
    await core.deleteNamespacedSecret({ name: memberlistSecretName, namespace: installNamespace }).catch(() => undefined);
  });

  const read = () => core.readNamespacedSecret({ name: memberlistSecretName, namespace: installNamespace });

  it("creates it when absent, with 64 random bytes as base64 text under secretkey", async () => {
    const { log, lines } = capturedLog();
    expect(await ensureMemberlistSecret(api, installNamespace, memberlistSecretName, log, fast)).toBe("created");
    const secret = await read();
    expect(secret.type).toBe("Opaque");
    expect(Object.keys(secret.data ?? {})).toEqual(["secretkey"]);
    const text = Buffer.from(secret.data!.secretkey, "base64").toString("latin1");
    expect(text).toMatch(/^[A-Za-z0-9+/]{86}==$/);
    expect(Buffer.from(text, "base64")).toHaveLength(64);
    expect(lines.map((l) => l.msg)).toEqual(["created the heartbeat key Secret"]);
  });

  it("makes a different key every time it creates one", async () => {
    const { log } = capturedLog();
    await ensureMemberlistSecret(api, installNamespace, memberlistSecretName, log, fast);
    const first = (await read()).data!.secretkey;
    await core.deleteNamespacedSecret({ name: memberlistSecretName, namespace: installNamespace });
    await ensureMemberlistSecret(api, installNamespace, memberlistSecretName, log, fast);
    expect((await read()).data!.secretkey).not.toBe(first);
  });

  it("leaves an existing Secret alone: an operator's or MetalLB's key stays", async () => {
    const metallbKey = Buffer.from("a-key-from-openssl-rand-base64-128").toString("base64");
    await core.createNamespacedSecret({ namespace: installNamespace, body: { metadata: { name: memberlistSecretName }, data: { secretkey: metallbKey, next: metallbKey } } });
    const before = await read();
    const { log, lines } = capturedLog();
    expect(await ensureMemberlistSecret(api, installNamespace, memberlistSecretName, log, fast)).toBe("exists");
    const after = await read();
    expect(after.data).toEqual({ secretkey: metallbKey, next: metallbKey });
    expect(after.metadata!.resourceVersion).toBe(before.metadata!.resourceVersion);
    expect(lines).toEqual([]);
  });

  it("leaves an existing Secret without a usable key alone too, and says how to fix it", async () => {
    await core.createNamespacedSecret({ namespace: installNamespace, body: { metadata: { name: memberlistSecretName }, data: { secretkey: Buffer.from("short").toString("base64") } } });
    const { log, lines } = capturedLog();
    expect(await ensureMemberlistSecret(api, installNamespace, memberlistSecretName, log, fast)).toBe("exists");
    expect(Buffer.from((await read()).data!.secretkey, "base64").toString()).toBe("short");
    expect(lines).toMatchObject([
      {
        level: 50,
        msg: "the heartbeat key Secret has no usable key: speakers send no heartbeats until it has one; the controller never overwrites it",
        problem: '"secretkey" is 5 bytes, under 16',
        fix: `kubectl -n metallb-system create secret generic memberlist --from-literal=secretkey="$(head -c 64 /dev/urandom | base64 -w0)" --dry-run=client -o yaml | kubectl apply -f -`,
      },
    ]);
  });

  it("lets every replica ensure it at once: one creates it, the others find it, one key in the end", async () => {
    const { log } = capturedLog();
    const results = await Promise.all([1, 2, 3].map(() => ensureMemberlistSecret(api, installNamespace, memberlistSecretName, log, fast)));
    expect(results.filter((r) => r === "created")).toHaveLength(1);
    expect(results.filter((r) => r === "exists")).toHaveLength(2);
    expect(Object.keys((await read()).data ?? {})).toEqual(["secretkey"]);
  });

  it("retries with backoff through API errors until it succeeds", async () => {
    const { log, lines } = capturedLog();
    // 500 without Retry-After: the client gives up at once (a 503 or 429 with Retry-After it retries itself, as client-go does).
    sim.faults.failNext(2, 500);
    expect(await ensureMemberlistSecret(api, installNamespace, memberlistSecretName, log, fast)).toBe("created");
    const retries = lines.filter((l) => l.msg === "could not ensure the heartbeat key Secret, retrying");
    expect(retries).toHaveLength(2);
    expect(String(retries[0].err)).toContain("HTTP 500");
    expect((await read()).data?.secretkey).toBeDefined();
  });

  it("names the missing RBAC rule while it is refused, and succeeds once allowed", async () => {
    const { log, lines } = capturedLog();
    deny = 1;
    expect(await ensureMemberlistSecret(api, installNamespace, memberlistSecretName, log, fast)).toBe("created");
    expect(lines[0]).toMatchObject({
      msg: "could not ensure the heartbeat key Secret, retrying",
      fix: 'the controller needs get on secrets "memberlist" and create on secrets in namespace metallb-system (manifests/20-rbac.yaml)',
    });
  });
});

describe("the heartbeat key Secret under the manifests' RBAC", () => {
  let sim: KubeSim;
  let dir: string;
  const rbac = new RbacAuthorizer();
  let controllerApi: KubeApi;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "memberlist-rbac-"));
    sim = await startKubeSim({ authorize: rbac.authorize });
    const identities = { controller: join(dir, "controller.kubeconfig"), speaker: join(dir, "speaker.kubeconfig") };
    await enforceManifestRbac(sim, rbac, identities);
    controllerApi = createKubeApi(loadClusterAccess(identities.controller));
  });
  afterAll(async () => {
    await controllerApi?.close();
    await sim?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("lets the controller create it and find it again, and read no other Secret", async () => {
    const { log, lines } = capturedLog();
    expect(await ensureMemberlistSecret(controllerApi, installNamespace, memberlistSecretName, log, fast)).toBe("created");
    expect(await ensureMemberlistSecret(controllerApi, installNamespace, memberlistSecretName, log, fast)).toBe("exists");
    expect(rbac.denials()).toEqual([]);
    expect(lines.filter((l) => l.level !== 30)).toEqual([]);
    await expect(controllerApi.get({ ...secrets, name: "other", namespace: installNamespace })).rejects.toMatchObject({ code: 403 });
    await expect(controllerApi.list({ ...secrets, namespace: installNamespace })).rejects.toMatchObject({ code: 403 });
  });
});
