/**
 * Where the Kubernetes API is and how to authenticate to it, loaded the way both binaries document:
 * `--kubeconfig PATH` first, then the in-cluster ServiceAccount when KUBERNETES_SERVICE_HOST is set,
 * then the KUBECONFIG environment variable. The HTTP client (./http-kube-api.ts) asks for credentials
 * before each request, so rotating tokens and expiring exec credentials are picked up.
 */
import { readFileSync } from "node:fs";
import { isIPv6 } from "node:net";
import { delimiter, join } from "node:path";
import { ExecCredentialSource, type RunPlugin } from "./exec-credential.ts";
import { selectCurrentContext, type KubeconfigSelection, type KubeconfigText } from "./kubeconfig-file.ts";
import { TokenFile } from "./token-file.ts";

/** What one request authenticates with. */
export interface Credentials {
  readonly token?: string;
  /** PEM. */
  readonly clientCert?: { readonly cert: string; readonly key: string };
  readonly basic?: { readonly username: string; readonly password: string };
}

/** The API server's address, how to trust it, and where credentials come from. */
export interface ClusterAccess {
  /** Base URL without a trailing slash, e.g. "https://10.96.0.1:443". */
  readonly server: string;
  /** CA certificates (PEM) to trust instead of the system's. */
  readonly ca?: string;
  readonly insecureSkipTlsVerify: boolean;
  /** Name checked against the server certificate instead of the server's host. */
  readonly tlsServerName?: string;
  /** "kubeconfig /path" or "in-cluster config", for error messages. */
  readonly source: string;
  /** Credentials for the next request; `refresh` after a 401 (re-reads token files, re-runs exec plugins). */
  credentials(refresh?: boolean): Promise<Credentials>;
}

/** Test hooks of the loaders. */
export interface LoadOptions {
  /** Where the ServiceAccount token and CA are mounted; default /var/run/secrets/kubernetes.io/serviceaccount. */
  readonly serviceAccountDir?: string;
  readonly now?: () => number;
  /** Runs exec credential plugins (default: spawn). */
  readonly runPlugin?: RunPlugin;
}

/** Where Kubernetes mounts a Pod's ServiceAccount token, CA and namespace. */
export const serviceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount";

/**
 * Loads the API access: `--kubeconfig PATH` first, then in-cluster config when
 * KUBERNETES_SERVICE_HOST is set, then KUBECONFIG (a list separated by ":" merges as in kubectl).
 * Throws a message that says what to pass.
 *
 * @example
 * const access = loadClusterAccess(flags.kubeconfig);
 * const api = createKubeApi(access);
 */
export function loadClusterAccess(kubeconfigPath: string | undefined, env: NodeJS.ProcessEnv = process.env, opts: LoadOptions = {}): ClusterAccess {
  if (kubeconfigPath) return kubeconfigAccess([kubeconfigPath], kubeconfigPath, opts);
  if (env.KUBERNETES_SERVICE_HOST) return inClusterAccess(env, opts);
  if (env.KUBECONFIG) return kubeconfigAccess(env.KUBECONFIG.split(delimiter).filter(Boolean), env.KUBECONFIG, opts);
  throw new Error("no Kubernetes API configured: pass --kubeconfig PATH, run in a cluster (KUBERNETES_SERVICE_HOST), or set KUBECONFIG");
}

/**
 * The in-cluster config: https://KUBERNETES_SERVICE_HOST:KUBERNETES_SERVICE_PORT, the mounted
 * ServiceAccount CA, and its token (re-read at most once a minute, and after a 401).
 *
 * @example
 * const access = inClusterAccess(process.env, { serviceAccountDir: "/tmp/sa" });
 */
export function inClusterAccess(env: NodeJS.ProcessEnv, opts: LoadOptions = {}): ClusterAccess {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) {
    throw new Error("unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be defined");
  }
  const dir = opts.serviceAccountDir ?? serviceAccountDir;
  const source = "in-cluster config";
  const caPath = join(dir, "ca.crt");
  const ca = readText(caPath, `${source}: cannot read the ServiceAccount CA ${caPath}`, "is automountServiceAccountToken false for this Pod?");
  const token = new TokenFile(join(dir, "token"), { now: opts.now, where: source });
  return {
    server: `https://${isIPv6(host) ? `[${host}]` : host}:${port}`,
    ca,
    insecureSkipTlsVerify: false,
    source,
    credentials: async (refresh) => ({ token: token.token(refresh) }),
  };
}

/**
 * Access from kubeconfig files (merged in order, the first definition of a name wins). `sourceName`
 * is how errors name them (default: the paths).
 *
 * @example
 * const access = kubeconfigAccess(["/home/me/.kube/config"]);
 */
export function kubeconfigAccess(paths: readonly string[], sourceName?: string, opts: LoadOptions = {}): ClusterAccess {
  const texts: KubeconfigText[] = [];
  let firstError: Error | undefined;
  for (const path of paths) {
    try {
      texts.push({ path, text: readFileSync(path, "utf8") });
    } catch (e) {
      // kubectl skips missing files of a KUBECONFIG list; one missing file alone is an error.
      firstError ??= new Error(`kubeconfig ${path} cannot be read: ${(e as Error).message}; pass --kubeconfig PATH (or KUBECONFIG) naming a readable file`);
    }
  }
  if (texts.length === 0) throw firstError ?? new Error("no kubeconfig file given: pass --kubeconfig PATH or set KUBECONFIG");
  return accessFromSelection(selectCurrentContext(texts, sourceName), opts);
}

function accessFromSelection(sel: KubeconfigSelection, opts: LoadOptions): ClusterAccess {
  const { cluster, user, source } = sel;
  const where = `${source}: user of context "${sel.context}"`;
  const ca = cluster.caData ?? (cluster.caFile ? readText(cluster.caFile, `${source}: cannot read certificate-authority ${cluster.caFile}`) : undefined);
  const tokenFile = user.tokenFile ? new TokenFile(user.tokenFile, { now: opts.now, fallback: user.token, where }) : undefined;
  const exec = user.exec
    ? new ExecCredentialSource(user.exec, {
        where,
        now: opts.now,
        run: opts.runPlugin,
        cluster: {
          server: cluster.server,
          tlsServerName: cluster.tlsServerName,
          insecureSkipTlsVerify: cluster.insecureSkipTlsVerify,
          caDataBase64: cluster.caDataBase64,
          config: cluster.execExtension,
        },
      })
    : undefined;
  const readCert = () =>
    user.certData !== undefined || user.certFile !== undefined
      ? {
          cert: user.certData ?? readText(user.certFile!, `${where}: cannot read client-certificate ${user.certFile}`),
          key: user.keyData ?? readText(user.keyFile!, `${where}: cannot read client-key ${user.keyFile}`),
        }
      : undefined;
  let cert = readCert();
  const basic = user.username !== undefined || user.password !== undefined ? { username: user.username ?? "", password: user.password ?? "" } : undefined;
  return {
    server: cluster.server,
    ca,
    insecureSkipTlsVerify: cluster.insecureSkipTlsVerify,
    tlsServerName: cluster.tlsServerName,
    source,
    credentials: async (refresh = false) => {
      if (refresh && user.certFile) cert = readCert();
      const fromExec = exec ? await exec.get(refresh) : undefined;
      const token = fromExec?.token ?? tokenFile?.token(refresh) ?? user.token;
      const clientCert = fromExec?.clientCert ?? cert;
      const out: { token?: string; clientCert?: { cert: string; key: string }; basic?: { username: string; password: string } } = {};
      if (token !== undefined) out.token = token;
      if (clientCert) out.clientCert = clientCert;
      if (basic) out.basic = basic;
      return out;
    },
  };
}

function readText(path: string, what: string, hint?: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    throw new Error(`${what}: ${(e as Error).message}${hint ? `; ${hint}` : ""}`);
  }
}
