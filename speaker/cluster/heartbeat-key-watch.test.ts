import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { CoreV1Api } from "@kubernetes/client-node";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createLogger } from "../../shared/log.ts";
import { loadClusterAccess } from "../../shared/kube/client/cluster-access.ts";
import { createKubeApi } from "../../shared/kube/client/http-kube-api.ts";
import type { KubeApi } from "../../shared/kube/client/kube-api.ts";
import { ensureMemberlistSecret, memberlistSecretName } from "../../shared/kube/memberlist-secret.ts";
import { enforceManifestRbac, installNamespace } from "../../test/e2e/rbac-identities.ts";
import { startKubeSim, type KubeSim } from "../../tools/kube-sim/index.ts";
import { RbacAuthorizer } from "../../tools/kube-sim/rbac-authorizer.ts";
import { eventually } from "../../tools/support/eventually.ts";
import { watchHeartbeatKeys, type HeartbeatKeyWatch } from "./heartbeat-key-watch.ts";

const b64 = (text: string) => Buffer.from(text).toString("base64");
const keyA = "key-A-0123456789abcdef";
const keyB = "key-B-0123456789abcdef";

describe("heartbeat keys from the Secret memberlist, read as the speaker under the manifests' RBAC", () => {
  let sim: KubeSim;
  let dir: string;
  let admin: CoreV1Api;
  /** The controller's client, which creates the Secret in the first test. */
  let adminApi: KubeApi;
  let speakerApi: KubeApi;
  const rbac = new RbacAuthorizer();
  let watch: HeartbeatKeyWatch | undefined;
  let clock = 0;
  let logs: Record<string, unknown>[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "heartbeat-keys-"));
    sim = await startKubeSim({ authorize: rbac.authorize });
    const identities = { controller: join(dir, "controller.kubeconfig"), speaker: join(dir, "speaker.kubeconfig") };
    await enforceManifestRbac(sim, rbac, identities);
    admin = sim.client.makeApiClient(CoreV1Api);
    adminApi = createKubeApi(loadClusterAccess(sim.kubeconfigPath));
    speakerApi = createKubeApi(loadClusterAccess(identities.speaker));
  });
  afterAll(async () => {
    await speakerApi?.close();
    await adminApi?.close();
    await sim?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    clock = 0;
    logs = [];
    await admin.deleteNamespacedSecret({ name: memberlistSecretName, namespace: installNamespace }).catch(() => undefined);
  });
  afterEach(async () => {
    await watch?.stop();
    watch = undefined;
    expect(rbac.denials()).toEqual([]);
  });

  function start(): HeartbeatKeyWatch {
    const sink = new Writable({
      write(chunk, _enc, done) {
        for (const line of String(chunk).split("\n")) if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    watch = watchHeartbeatKeys({
      api: speakerApi,
      namespace: installNamespace,
      log: createLogger("speaker", "debug", sink),
      now: () => clock,
    });
    return watch;
  }
  const putSecret = (data: Record<string, string>) =>
    admin.replaceNamespacedSecret({ name: memberlistSecretName, namespace: installNamespace, body: { metadata: { name: memberlistSecretName }, data } });
  const signingText = () => watch!.keys()?.signing.secret.toString();
  const acceptedCount = () => watch!.keys()?.accepted.size ?? 0;

  it("signs with the key the controller created", async () => {
    await ensureMemberlistSecret(adminApi, installNamespace, memberlistSecretName, createLogger("controller", "silent"));
    const created = Buffer.from((await admin.readNamespacedSecret({ name: memberlistSecretName, namespace: installNamespace })).data!.secretkey, "base64");
    await start().synced;
    expect(watch!.keys()?.signing.secret).toEqual(created);
    expect(logs.map((l) => l.msg)).toContain("signing heartbeats with key");
  });

  it("accepts a new secretkey at once and signs with it after the adoption delay, while still accepting the old one", async () => {
    await admin.createNamespacedSecret({ namespace: installNamespace, body: { metadata: { name: memberlistSecretName }, data: { secretkey: b64(keyA) } } });
    await start().synced;
    expect(signingText()).toBe(keyA);
    await putSecret({ secretkey: b64(keyB) });
    await eventually(() => acceptedCount() === 2, { ms: 5_000, what: "the new key to be accepted", everyMs: 10 });
    expect(signingText()).toBe(keyA);
    clock = 10_000;
    expect(signingText()).toBe(keyB);
    clock = 70_000;
    expect(acceptedCount()).toBe(1);
    expect(logs.map((l) => l.msg)).toEqual(["heartbeat keys changed", "signing heartbeats with key", "heartbeat keys changed", "signing heartbeats with key", "heartbeat keys no longer accepted"]);
  });

  it("refuses a key under 16 bytes with a log line that says why, and keeps the previous keys", async () => {
    await admin.createNamespacedSecret({ namespace: installNamespace, body: { metadata: { name: memberlistSecretName }, data: { secretkey: b64(keyA) } } });
    await start().synced;
    await putSecret({ secretkey: b64("too-short") });
    await eventually(() => logs.some((l) => l.msg === "heartbeat key Secret refused, keeping the previous keys"), { ms: 5_000, what: "the refusal", everyMs: 10 });
    expect(logs.find((l) => l.level === 50)).toMatchObject({
      secret: "metallb-system/memberlist",
      problems: ['data key "secretkey" is 9 bytes; heartbeat keys must be at least 16 bytes (make one with: head -c 64 /dev/urandom | base64 -w0)'],
    });
    clock = 600_000;
    expect(signingText()).toBe(keyA);
    expect(acceptedCount()).toBe(1);
  });

  it("keeps the keys when the Secret is deleted", async () => {
    await admin.createNamespacedSecret({ namespace: installNamespace, body: { metadata: { name: memberlistSecretName }, data: { secretkey: b64(keyA) } } });
    await start().synced;
    await admin.deleteNamespacedSecret({ name: memberlistSecretName, namespace: installNamespace });
    await eventually(() => logs.some((l) => l.level === 50), { ms: 5_000, what: "the deletion to be seen", everyMs: 10 });
    expect(logs.find((l) => l.level === 50)).toMatchObject({ msg: "heartbeat key Secret refused, keeping the previous keys", problems: ["the Secret does not exist"] });
    clock = 600_000;
    expect(signingText()).toBe(keyA);
  });

  it("has no keys and says so while the Secret is missing, and picks the key up once it is created", async () => {
    await start().synced;
    expect(watch!.keys()).toBeUndefined();
    expect(logs).toMatchObject([{ level: 40, secret: "metallb-system/memberlist", msg: expect.stringContaining("the controller creates it at start") }]);
    await admin.createNamespacedSecret({ namespace: installNamespace, body: { metadata: { name: memberlistSecretName }, data: { secretkey: b64(keyA) } } });
    await eventually(() => signingText() === keyA, { ms: 5_000, what: "the key", everyMs: 10 });
  });
});
