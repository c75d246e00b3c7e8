/**
 * Exec credential plugins (client.authentication.k8s.io v1 and v1beta1), as client-go runs them: the
 * kubeconfig's `command` with its `args` and `env` plus KUBERNETES_EXEC_INFO, never interactive
 * (stdin closed); the plugin prints an ExecCredential whose status holds a bearer token or a client
 * certificate and key. The credential is kept until shortly before its expirationTimestamp, and the
 * plugin runs again after a 401.
 */
import { spawn } from "node:child_process";

/** The `exec` section of a kubeconfig user. */
export interface ExecPlugin {
  readonly apiVersion: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env: readonly { readonly name: string; readonly value: string }[];
  readonly installHint?: string;
  readonly provideClusterInfo: boolean;
  readonly interactiveMode?: string;
}

/** The cluster as KUBERNETES_EXEC_INFO describes it to plugins with `provideClusterInfo: true`. */
export interface ExecClusterInfo {
  readonly server: string;
  readonly tlsServerName?: string;
  readonly insecureSkipTlsVerify: boolean;
  /** Base64, as in the kubeconfig. */
  readonly caDataBase64?: string;
  readonly config?: unknown;
}

/** What a plugin run yields. */
export interface ExecResult {
  readonly token?: string;
  readonly clientCert?: { readonly cert: string; readonly key: string };
  /** Epoch milliseconds; undefined when the credential does not expire. */
  readonly expiresAt?: number;
}

/** How a plugin is run: injectable for tests. */
export type RunPlugin = (command: string, args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs: number) => Promise<{ code: number | null; stdout: string; stderr: string }>;

/**
 * The KUBERNETES_EXEC_INFO value client-go sets: an ExecCredential whose spec says the session is not
 * interactive and, when asked for, describes the cluster.
 *
 * @example
 * execInfo("client.authentication.k8s.io/v1"); // '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":{"interactive":false}}'
 */
export function execInfo(apiVersion: string, cluster?: ExecClusterInfo): string {
  const spec: Record<string, unknown> = { interactive: false };
  if (cluster) {
    const c: Record<string, unknown> = { server: cluster.server };
    if (cluster.tlsServerName) c["tls-server-name"] = cluster.tlsServerName;
    if (cluster.insecureSkipTlsVerify) c["insecure-skip-tls-verify"] = true;
    if (cluster.caDataBase64) c["certificate-authority-data"] = cluster.caDataBase64;
    if (cluster.config !== undefined) c.config = cluster.config;
    spec.cluster = c;
  }
  return JSON.stringify({ apiVersion, kind: "ExecCredential", spec });
}

/**
 * Reads a plugin's stdout: an ExecCredential of `apiVersion` with a token or a certificate and key.
 * `what` names the plugin in errors.
 *
 * @example
 * parseExecCredential('{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"t","expirationTimestamp":"2026-01-01T00:00:00Z"}}', "client.authentication.k8s.io/v1", 'exec plugin "aws"');
 * // { token: "t", expiresAt: 1767225600000 }
 */
export function parseExecCredential(stdout: string, apiVersion: string, what: string): ExecResult {
  let doc: unknown;
  try {
    doc = JSON.parse(stdout);
  } catch {
    const start = stdout.trim().slice(0, 80);
    throw new Error(`${what} printed no ExecCredential JSON; ${start ? `its output began with ${JSON.stringify(start)}` : "its output was empty"}`);
  }
  const o = (doc ?? {}) as Record<string, unknown>;
  if (o.kind !== "ExecCredential") throw new Error(`${what} printed kind ${JSON.stringify(o.kind)}, not ExecCredential`);
  if (o.apiVersion !== apiVersion) throw new Error(`${what} printed apiVersion ${JSON.stringify(o.apiVersion)}, but the kubeconfig asks for ${apiVersion}`);
  const status = (o.status ?? {}) as Record<string, unknown>;
  const token = typeof status.token === "string" && status.token !== "" ? status.token : undefined;
  const cert = typeof status.clientCertificateData === "string" && status.clientCertificateData !== "" ? status.clientCertificateData : undefined;
  const key = typeof status.clientKeyData === "string" && status.clientKeyData !== "" ? status.clientKeyData : undefined;
  if ((cert === undefined) !== (key === undefined)) throw new Error(`${what} returned ${cert ? "clientCertificateData without clientKeyData" : "clientKeyData without clientCertificateData"}`);
  if (!token && !cert) throw new Error(`${what} returned neither status.token nor status.clientCertificateData/clientKeyData`);
  let expiresAt: number | undefined;
  if (status.expirationTimestamp !== undefined && status.expirationTimestamp !== null) {
    expiresAt = typeof status.expirationTimestamp === "string" ? Date.parse(status.expirationTimestamp) : NaN;
    if (Number.isNaN(expiresAt)) throw new Error(`${what} returned expirationTimestamp ${JSON.stringify(status.expirationTimestamp)}, which is not an RFC 3339 time`);
  }
  const result: { token?: string; clientCert?: { cert: string; key: string }; expiresAt?: number } = {};
  if (token) result.token = token;
  if (cert && key) result.clientCert = { cert, key };
  if (expiresAt !== undefined) result.expiresAt = expiresAt;
  return result;
}

/** Options of {@link ExecCredentialSource}. */
export interface ExecSourceOptions {
  /** "kubeconfig /path: user \"x\"", for errors. */
  readonly where: string;
  readonly cluster?: ExecClusterInfo;
  readonly run?: RunPlugin;
  readonly now?: () => number;
  /** Run again this long before expiry (default 10 s). */
  readonly refreshBeforeMs?: number;
  /** Kill a plugin that runs longer (default 60 s). */
  readonly timeoutMs?: number;
  readonly baseEnv?: NodeJS.ProcessEnv;
}

/**
 * A cached exec-plugin credential. Concurrent callers share one plugin run.
 *
 * @example
 * const source = new ExecCredentialSource(user.exec, { where: 'kubeconfig ~/.kube/config: user "eks"' });
 * const { token } = await source.get();       // runs the plugin, or returns the cached credential
 * const fresh = await source.get(true);       // after a 401: runs it again
 */
export class ExecCredentialSource {
  readonly #plugin: ExecPlugin;
  readonly #opts: ExecSourceOptions;
  #cached: ExecResult | undefined;
  #running: Promise<ExecResult> | undefined;

  constructor(plugin: ExecPlugin, opts: ExecSourceOptions) {
    this.#plugin = plugin;
    this.#opts = opts;
  }

  /** The credential; `refresh` runs the plugin even when the cached one has not expired. */
  get(refresh = false): Promise<ExecResult> {
    if (this.#running) return this.#running;
    const now = (this.#opts.now ?? Date.now)();
    const c = this.#cached;
    if (!refresh && c && (c.expiresAt === undefined || c.expiresAt - (this.#opts.refreshBeforeMs ?? 10_000) > now)) return Promise.resolve(c);
    const running = this.#runPlugin().finally(() => {
      if (this.#running === running) this.#running = undefined;
    });
    this.#running = running;
    return running;
  }

  async #runPlugin(): Promise<ExecResult> {
    const p = this.#plugin;
    const what = `${this.#opts.where}: exec plugin "${p.command}"`;
    const env: NodeJS.ProcessEnv = { ...(this.#opts.baseEnv ?? process.env) };
    for (const v of p.env) env[v.name] = v.value;
    env.KUBERNETES_EXEC_INFO = execInfo(p.apiVersion, p.provideClusterInfo ? this.#opts.cluster : undefined);
    const timeoutMs = this.#opts.timeoutMs ?? 60_000;
    let out: { code: number | null; stdout: string; stderr: string };
    try {
      out = await (this.#opts.run ?? runPlugin)(p.command, p.args, env, timeoutMs);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code === "ENOENT") throw new Error(`${what} was not found (is it installed and on PATH?)${p.installHint ? `: ${p.installHint.trim()}` : ""}`);
      throw new Error(`${what} could not run: ${err.message}`);
    }
    if (out.code !== 0) {
      const stderr = out.stderr.trim();
      const excerpt = stderr.length > 500 ? `${stderr.slice(0, 500)}…` : stderr;
      const how = out.code === null ? `was killed (timeout ${timeoutMs} ms?)` : `exited with code ${out.code}`;
      throw new Error(`${what} ${how}${excerpt ? `: ${excerpt}` : " and printed nothing on stderr"}`);
    }
    const result = parseExecCredential(out.stdout, p.apiVersion, what);
    this.#cached = result;
    return result;
  }
}

/** Runs a plugin with stdin closed, collecting stdout and stderr; kills it after `timeoutMs`. */
const runPlugin: RunPlugin = (command, args, env, timeoutMs) =>
  new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ["ignore", "pipe", "pipe"], timeout: timeoutMs, killSignal: "SIGKILL" });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on("data", (c: Buffer) => stdout.push(c));
    child.stderr.on("data", (c: Buffer) => stderr.push(c));
    const result = (code: number | null) => ({ code, stdout: Buffer.concat(stdout).toString("utf8"), stderr: Buffer.concat(stderr).toString("utf8") });
    child.once("error", reject);
    // Killed (the timeout): answer now, a grandchild may still hold the pipes open.
    child.once("exit", (_code, signal) => signal && resolve(result(null)));
    child.once("close", (code) => resolve(result(code)));
  });
