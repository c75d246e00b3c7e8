import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ExecCredentialSource, execInfo, parseExecCredential, type ExecPlugin, type RunPlugin } from "./exec-credential.ts";

const v1 = "client.authentication.k8s.io/v1";
const what = 'exec plugin "get-token"';
const credential = (status: Record<string, unknown>, apiVersion = v1) => JSON.stringify({ apiVersion, kind: "ExecCredential", status });

describe("parseExecCredential", () => {
  it("reads a token and its expiry", () => {
    expect(parseExecCredential(credential({ token: "t", expirationTimestamp: "2026-01-01T00:00:00Z" }), v1, what)).toEqual({ token: "t", expiresAt: Date.parse("2026-01-01T00:00:00Z") });
  });
  it("reads a client certificate and key (v1beta1)", () => {
    const beta = "client.authentication.k8s.io/v1beta1";
    expect(parseExecCredential(credential({ clientCertificateData: "CERT", clientKeyData: "KEY" }, beta), beta, what)).toEqual({ clientCert: { cert: "CERT", key: "KEY" } });
  });
  const bad: [string, string, RegExp][] = [
    ["output that is not JSON", "Please log in\n", /exec plugin "get-token" printed no ExecCredential JSON; its output began with "Please log in"/],
    ["empty output", "", /printed no ExecCredential JSON; its output was empty/],
    ["another kind", JSON.stringify({ apiVersion: v1, kind: "Status" }), /printed kind "Status", not ExecCredential/],
    ["another apiVersion", credential({ token: "t" }, "client.authentication.k8s.io/v1beta1"), /printed apiVersion "client.authentication.k8s.io\/v1beta1", but the kubeconfig asks for client.authentication.k8s.io\/v1/],
    ["no credential", credential({}), /returned neither status.token nor status.clientCertificateData\/clientKeyData/],
    ["a certificate without a key", credential({ clientCertificateData: "C" }), /returned clientCertificateData without clientKeyData/],
    ["a bad expiry", credential({ token: "t", expirationTimestamp: "tomorrow" }), /expirationTimestamp "tomorrow", which is not an RFC 3339 time/],
  ];
  for (const [name, stdout, message] of bad) it(`refuses ${name}`, () => expect(() => parseExecCredential(stdout, v1, what)).toThrow(message));
});

describe("execInfo", () => {
  it("says the session is not interactive", () => {
    expect(JSON.parse(execInfo(v1))).toEqual({ apiVersion: v1, kind: "ExecCredential", spec: { interactive: false } });
  });
  it("describes the cluster when the plugin asks for it", () => {
    const info = JSON.parse(execInfo(v1, { server: "https://k", tlsServerName: "kubernetes", insecureSkipTlsVerify: false, caDataBase64: "Q0E=", config: { audience: "a" } }));
    expect(info.spec).toEqual({ interactive: false, cluster: { server: "https://k", "tls-server-name": "kubernetes", "certificate-authority-data": "Q0E=", config: { audience: "a" } } });
  });
});

describe("ExecCredentialSource", () => {
  const plugin: ExecPlugin = { apiVersion: v1, command: "get-token", args: ["--region", "x"], env: [{ name: "PROFILE", value: "ops" }], provideClusterInfo: false };

  function fakeRun(expiresInMs: number | undefined, clock: { now: number }) {
    const calls: { command: string; args: readonly string[]; env: NodeJS.ProcessEnv }[] = [];
    const run: RunPlugin = async (command, args, env) => {
      calls.push({ command, args, env });
      const status: Record<string, unknown> = { token: `token-${calls.length}` };
      if (expiresInMs !== undefined) status.expirationTimestamp = new Date(clock.now + expiresInMs).toISOString();
      return { code: 0, stdout: credential(status), stderr: "" };
    };
    return { run, calls };
  }

  it("runs the plugin with its args, env and KUBERNETES_EXEC_INFO, and caches the token until shortly before expiry", async () => {
    const clock = { now: Date.parse("2026-05-01T00:00:00Z") };
    const { run, calls } = fakeRun(60_000, clock);
    const source = new ExecCredentialSource(plugin, { where: "kubeconfig k", run, now: () => clock.now, baseEnv: { PATH: "/bin" } });
    expect((await source.get()).token).toBe("token-1");
    expect(calls[0].command).toBe("get-token");
    expect(calls[0].args).toEqual(["--region", "x"]);
    expect(calls[0].env).toMatchObject({ PATH: "/bin", PROFILE: "ops" });
    expect(JSON.parse(calls[0].env.KUBERNETES_EXEC_INFO!)).toEqual({ apiVersion: v1, kind: "ExecCredential", spec: { interactive: false } });
    clock.now += 45_000;
    expect((await source.get()).token).toBe("token-1");
    clock.now += 6_000; // 9 s left: inside the 10 s refresh margin
    expect((await source.get()).token).toBe("token-2");
    expect(calls).toHaveLength(2);
  });

  it("keeps a credential without expiry until a 401 asks for a fresh one", async () => {
    const clock = { now: 0 };
    const { run, calls } = fakeRun(undefined, clock);
    const source = new ExecCredentialSource(plugin, { where: "kubeconfig k", run, now: () => clock.now });
    await source.get();
    clock.now += 86_400_000;
    expect((await source.get()).token).toBe("token-1");
    expect((await source.get(true)).token).toBe("token-2");
    expect(calls).toHaveLength(2);
  });

  it("runs the plugin once for concurrent callers", async () => {
    const clock = { now: 0 };
    const { run, calls } = fakeRun(undefined, clock);
    const source = new ExecCredentialSource(plugin, { where: "kubeconfig k", run, now: () => clock.now });
    const tokens = await Promise.all([source.get(), source.get(), source.get(true)]);
    expect(tokens.map((t) => t.token)).toEqual(["token-1", "token-1", "token-1"]);
    expect(calls).toHaveLength(1);
  });

  it("passes the cluster to plugins that ask for it", async () => {
    const clock = { now: 0 };
    const { run, calls } = fakeRun(undefined, clock);
    const source = new ExecCredentialSource({ ...plugin, provideClusterInfo: true }, { where: "k", run, cluster: { server: "https://k", insecureSkipTlsVerify: true } });
    await source.get();
    expect(JSON.parse(calls[0].env.KUBERNETES_EXEC_INFO!).spec.cluster).toEqual({ server: "https://k", "insecure-skip-tls-verify": true });
  });
});

describe("ExecCredentialSource running real commands", () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  async function script(body: string): Promise<string> {
    dir ??= await mkdtemp(join(tmpdir(), "exec-credential-"));
    const path = join(dir, `plugin-${Math.random().toString(36).slice(2)}.sh`);
    await writeFile(path, `#!/bin/sh\n${body}\n`);
    await chmod(path, 0o755);
    return path;
  }

  it("reads the credential a script prints, with the exec info in its environment", async () => {
    const path = await script(`printf '{"apiVersion":"${v1}","kind":"ExecCredential","status":{"token":"%s"}}' "$(printf %s "$KUBERNETES_EXEC_INFO" | wc -c | tr -d ' ')-$PROFILE"`);
    const source = new ExecCredentialSource({ ...plugin(path), env: [{ name: "PROFILE", value: "ops" }] }, { where: "kubeconfig k" });
    const expected = `${execInfo(v1).length}-ops`;
    expect((await source.get()).token).toBe(expected);
  });

  it("names a command that is not installed, with the install hint", async () => {
    const source = new ExecCredentialSource({ ...plugin("/nonexistent/get-token"), installHint: "install it with: brew install get-token\n" }, { where: 'kubeconfig k: user "u"' });
    await expect(source.get()).rejects.toThrow('kubeconfig k: user "u": exec plugin "/nonexistent/get-token" was not found (is it installed and on PATH?): install it with: brew install get-token');
  });

  it("reports a failing command's exit code and stderr", async () => {
    const path = await script(`echo "error: you must be logged in" >&2; exit 3`);
    await expect(new ExecCredentialSource(plugin(path), { where: "kubeconfig k" }).get()).rejects.toThrow(/exited with code 3: error: you must be logged in/);
  });

  it("reports output that is not an ExecCredential", async () => {
    const path = await script(`echo "hello"`);
    await expect(new ExecCredentialSource(plugin(path), { where: "kubeconfig k" }).get()).rejects.toThrow(/printed no ExecCredential JSON; its output began with "hello"/);
  });

  it("kills a plugin that hangs", async () => {
    const path = await script(`sleep 5`);
    await expect(new ExecCredentialSource(plugin(path), { where: "kubeconfig k", timeoutMs: 200 }).get()).rejects.toThrow(/was killed \(timeout 200 ms\?\)/);
  });

  function plugin(command: string): ExecPlugin {
    return { apiVersion: v1, command, args: [], env: [], provideClusterInfo: false };
  }
});
