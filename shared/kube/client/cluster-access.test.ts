import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { loadClusterAccess } from "./cluster-access.ts";
import type { RunPlugin } from "./exec-credential.ts";

const caPem = "-----BEGIN CERTIFICATE-----\nQ0E=\n-----END CERTIFICATE-----\n";
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "cluster-access-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function kubeconfigFile(name: string, server: string, user: Record<string, unknown>, cluster: Record<string, unknown> = {}): Promise<string> {
  const path = join(dir, name);
  await writeFile(
    path,
    stringify({
      clusters: [{ name: "c", cluster: { server, ...cluster } }],
      users: [{ name: "u", user }],
      contexts: [{ name: "ctx", context: { cluster: "c", user: "u" } }],
      "current-context": "ctx",
    }),
  );
  return path;
}

async function serviceAccount(token: string): Promise<string> {
  const sa = join(dir, "serviceaccount");
  await mkdir(sa, { recursive: true });
  await writeFile(join(sa, "ca.crt"), caPem);
  await writeFile(join(sa, "token"), token);
  return sa;
}

describe("loadClusterAccess chooses the configuration in the documented order", () => {
  it("--kubeconfig PATH wins over in-cluster config and KUBECONFIG", async () => {
    const flag = await kubeconfigFile("flag", "https://flag:6443", { token: "f" });
    const env = await kubeconfigFile("env", "https://env:6443", { token: "e" });
    const access = loadClusterAccess(flag, { KUBERNETES_SERVICE_HOST: "10.96.0.1", KUBERNETES_SERVICE_PORT: "443", KUBECONFIG: env });
    expect(access.server).toBe("https://flag:6443");
    expect(access.source).toBe(`kubeconfig ${flag}`);
  });

  it("in-cluster config wins over KUBECONFIG", async () => {
    const sa = await serviceAccount("sa-token");
    const env = await kubeconfigFile("env", "https://env:6443", { token: "e" });
    const access = loadClusterAccess(undefined, { KUBERNETES_SERVICE_HOST: "10.96.0.1", KUBERNETES_SERVICE_PORT: "443", KUBECONFIG: env }, { serviceAccountDir: sa });
    expect(access.server).toBe("https://10.96.0.1:443");
    expect(access.ca).toBe(caPem);
    expect(await access.credentials()).toEqual({ token: "sa-token" });
  });

  it("KUBECONFIG is used last, and a list of files merges", async () => {
    const users = join(dir, "users");
    await writeFile(users, stringify({ users: [{ name: "u", user: { token: "from-users-file" } }] }));
    const main = await kubeconfigFile("main", "https://env:6443", { token: "e" });
    const access = loadClusterAccess(undefined, { KUBECONFIG: `${join(dir, "missing")}:${users}:${main}` });
    expect(access.server).toBe("https://env:6443");
    expect(await access.credentials()).toEqual({ token: "from-users-file" });
  });

  it("says what to pass when nothing is configured", () => {
    expect(() => loadClusterAccess(undefined, {})).toThrow("no Kubernetes API configured: pass --kubeconfig PATH, run in a cluster (KUBERNETES_SERVICE_HOST), or set KUBECONFIG");
  });

  it("names the kubeconfig that has no current context", async () => {
    const path = join(dir, "empty");
    await writeFile(path, "apiVersion: v1\nkind: Config\n");
    expect(() => loadClusterAccess(path, {})).toThrow(`kubeconfig ${path} has no current cluster; set current-context`);
    expect(() => loadClusterAccess(undefined, { KUBECONFIG: path })).toThrow(`kubeconfig ${path} has no current cluster; set current-context`);
  });

  it("names a kubeconfig that cannot be read", () => {
    expect(() => loadClusterAccess(join(dir, "nope"), {})).toThrow(new RegExp(`kubeconfig ${join(dir, "nope")} cannot be read: ENOENT`));
  });
});

describe("in-cluster config", () => {
  it("brackets an IPv6 service host", async () => {
    const sa = await serviceAccount("t");
    expect(loadClusterAccess(undefined, { KUBERNETES_SERVICE_HOST: "fd00::1", KUBERNETES_SERVICE_PORT: "443" }, { serviceAccountDir: sa }).server).toBe("https://[fd00::1]:443");
  });

  it("re-reads the rotated token after a minute, or at once after a 401", async () => {
    const sa = await serviceAccount("first");
    const clock = { now: 1_000_000 };
    const access = loadClusterAccess(undefined, { KUBERNETES_SERVICE_HOST: "10.96.0.1", KUBERNETES_SERVICE_PORT: "443" }, { serviceAccountDir: sa, now: () => clock.now });
    await writeFile(join(sa, "token"), "second\n");
    clock.now += 30_000;
    expect((await access.credentials()).token).toBe("first");
    clock.now += 31_000;
    expect((await access.credentials()).token).toBe("second");
    await writeFile(join(sa, "token"), "third");
    expect((await access.credentials()).token).toBe("second");
    expect((await access.credentials(true)).token).toBe("third");
  });

  it("keeps the last token when the file is briefly missing", async () => {
    const sa = await serviceAccount("kept");
    const clock = { now: 0 };
    const access = loadClusterAccess(undefined, { KUBERNETES_SERVICE_HOST: "h", KUBERNETES_SERVICE_PORT: "443" }, { serviceAccountDir: sa, now: () => clock.now });
    await rm(join(sa, "token"));
    clock.now += 120_000;
    expect((await access.credentials()).token).toBe("kept");
  });

  it("needs the port as well as the host", () => {
    expect(() => loadClusterAccess(undefined, { KUBERNETES_SERVICE_HOST: "10.96.0.1" })).toThrow("unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be defined");
  });

  it("names the missing ServiceAccount files", async () => {
    const env = { KUBERNETES_SERVICE_HOST: "10.96.0.1", KUBERNETES_SERVICE_PORT: "443" };
    expect(() => loadClusterAccess(undefined, env, { serviceAccountDir: dir })).toThrow(/in-cluster config: cannot read the ServiceAccount CA .*ca.crt: ENOENT.*; is automountServiceAccountToken false for this Pod\?/);
    await writeFile(join(dir, "ca.crt"), caPem);
    expect(() => loadClusterAccess(undefined, env, { serviceAccountDir: dir })).toThrow(/in-cluster config: cannot read the bearer token file .*token: ENOENT/);
  });
});

describe("kubeconfig users and clusters", () => {
  it("reads the CA, client certificate and key from files next to the kubeconfig", async () => {
    await writeFile(join(dir, "ca.crt"), caPem);
    await writeFile(join(dir, "u.crt"), "CERT");
    await writeFile(join(dir, "u.key"), "KEY");
    const path = await kubeconfigFile("kc", "https://k:6443", { "client-certificate": "u.crt", "client-key": "u.key" }, { "certificate-authority": "ca.crt", "tls-server-name": "kubernetes" });
    const access = loadClusterAccess(path, {});
    expect(access).toMatchObject({ ca: caPem, tlsServerName: "kubernetes", insecureSkipTlsVerify: false });
    expect(await access.credentials()).toEqual({ clientCert: { cert: "CERT", key: "KEY" } });
  });

  it("names a CA file that is missing", async () => {
    const path = await kubeconfigFile("kc", "https://k:6443", { token: "t" }, { "certificate-authority": "nope.crt" });
    expect(() => loadClusterAccess(path, {})).toThrow(new RegExp(`kubeconfig ${path}: cannot read certificate-authority ${join(dir, "nope.crt")}: ENOENT`));
  });

  it("prefers a readable tokenFile over token, and falls back to token when it is not readable", async () => {
    await writeFile(join(dir, "tok"), "from-file");
    const withFile = await kubeconfigFile("a", "https://k", { token: "inline", tokenFile: "tok" });
    expect(await loadClusterAccess(withFile, {}).credentials()).toEqual({ token: "from-file" });
    const withoutFile = await kubeconfigFile("b", "https://k", { token: "inline", tokenFile: "missing" });
    expect(await loadClusterAccess(withoutFile, {}).credentials()).toEqual({ token: "inline" });
  });

  it("sends basic auth", async () => {
    const path = await kubeconfigFile("kc", "https://k", { username: "admin", password: "pw" });
    expect(await loadClusterAccess(path, {}).credentials()).toEqual({ basic: { username: "admin", password: "pw" } });
  });

  it("gets tokens and certificates from an exec plugin, with the cluster info it asks for", async () => {
    const seen: string[] = [];
    const runPlugin: RunPlugin = async (_cmd, _args, env) => {
      seen.push(env.KUBERNETES_EXEC_INFO ?? "");
      return {
        code: 0,
        stdout: JSON.stringify({ apiVersion: "client.authentication.k8s.io/v1", kind: "ExecCredential", status: { token: `t${seen.length}`, clientCertificateData: "C", clientKeyData: "K" } }),
        stderr: "",
      };
    };
    const path = await kubeconfigFile("kc", "https://k:6443", { exec: { apiVersion: "client.authentication.k8s.io/v1", command: "plugin", interactiveMode: "Never", provideClusterInfo: true } });
    const access = loadClusterAccess(path, {}, { runPlugin });
    expect(await access.credentials()).toEqual({ token: "t1", clientCert: { cert: "C", key: "K" } });
    expect(await access.credentials()).toEqual({ token: "t1", clientCert: { cert: "C", key: "K" } });
    expect((await access.credentials(true)).token).toBe("t2");
    expect(JSON.parse(seen[0]).spec).toEqual({ interactive: false, cluster: { server: "https://k:6443" } });
  });

  it("refuses an auth-provider user, naming the kubeconfig and what works", async () => {
    const path = await kubeconfigFile("kc", "https://k", { "auth-provider": { name: "gcp" } });
    expect(() => loadClusterAccess(path, {})).toThrow(`kubeconfig ${path}: user "u" uses auth-provider "gcp", which baremetal-lb does not support; use token, tokenFile`);
  });
});
