/**
 * Reads kubeconfig documents (YAML text; no I/O here) and picks what the current context names: the
 * cluster (server and TLS settings) and the user (credentials). Several files merge as client-go
 * merges $KUBECONFIG: the first file to set current-context, or to define a name, wins. Relative file
 * references are resolved against the directory of the file that holds them.
 */
import { dirname, isAbsolute, resolve } from "node:path";
import { parse } from "yaml";
import type { ExecPlugin } from "./exec-credential.ts";

/** One kubeconfig file's text and where it came from. */
export interface KubeconfigText {
  readonly path: string;
  readonly text: string;
}

/** The current context's cluster, with file paths made absolute. */
export interface KubeconfigCluster {
  readonly server: string;
  /** certificate-authority-data, decoded (PEM). */
  readonly caData?: string;
  /** certificate-authority, absolute. */
  readonly caFile?: string;
  readonly insecureSkipTlsVerify: boolean;
  readonly tlsServerName?: string;
  /** certificate-authority-data as written (base64), for an exec plugin's cluster info. */
  readonly caDataBase64?: string;
  /** The `client.authentication.k8s.io/exec` extension, handed to exec plugins that ask for cluster info. */
  readonly execExtension?: unknown;
}

/** The current context's user, with file paths made absolute. Empty when the context names no user. */
export interface KubeconfigUser {
  readonly token?: string;
  readonly tokenFile?: string;
  /** client-certificate-data / client-key-data, decoded (PEM). */
  readonly certData?: string;
  readonly keyData?: string;
  readonly certFile?: string;
  readonly keyFile?: string;
  readonly username?: string;
  readonly password?: string;
  readonly exec?: ExecPlugin;
}

/** What the current context selects. */
export interface KubeconfigSelection {
  /** "kubeconfig /path" (or the paths joined with ":"), for error messages. */
  readonly source: string;
  readonly context: string;
  readonly cluster: KubeconfigCluster;
  readonly user: KubeconfigUser;
}

type Json = Record<string, unknown>;

interface Named {
  item: Json;
  dir: string;
}

const supportedAuth = "token, tokenFile, client-certificate(-data)/client-key(-data), username/password or exec";

/**
 * Picks the current context's cluster and user from one or more kubeconfig texts. Throws a message
 * that names the kubeconfig and the fix: no current context, a name that is not defined, a field of
 * the wrong type, or a kind of user it does not support (auth-provider, impersonation).
 *
 * @example
 * const sel = selectCurrentContext([{ path: "/home/me/.kube/config", text }]);
 * sel.cluster.server; // "https://10.0.0.1:6443"
 */
export function selectCurrentContext(files: readonly KubeconfigText[], sourceName?: string): KubeconfigSelection {
  const source = `kubeconfig ${sourceName ?? files.map((f) => f.path).join(":")}`;
  let currentContext = "";
  const clusters = new Map<string, Named>();
  const users = new Map<string, Named>();
  const contexts = new Map<string, Named>();
  for (const file of files) {
    const doc = parseDocument(file);
    const dir = dirname(resolve(file.path));
    if (!currentContext && typeof doc["current-context"] === "string") currentContext = doc["current-context"];
    collect(doc, "clusters", "cluster", clusters, dir, file.path);
    collect(doc, "users", "user", users, dir, file.path);
    collect(doc, "contexts", "context", contexts, dir, file.path);
  }
  const noCluster = `${source} has no current cluster; set current-context`;
  if (!currentContext) throw new Error(noCluster);
  const context = contexts.get(currentContext);
  if (!context) throw new Error(`${noCluster} (context "${currentContext}" is not in contexts)`);
  const clusterName = str(context.item, "cluster", `${source}: context "${currentContext}"`);
  const cluster = clusterName === undefined ? undefined : clusters.get(clusterName);
  if (!cluster) throw new Error(`${noCluster} (context "${currentContext}" names cluster "${clusterName ?? ""}", which is not in clusters)`);
  const userName = str(context.item, "user", `${source}: context "${currentContext}"`);
  let user: KubeconfigUser = {};
  if (userName) {
    const named = users.get(userName);
    if (!named) throw new Error(`${source}: context "${currentContext}" names user "${userName}", which is not in users`);
    user = readUser(named, `${source}: user "${userName}"`);
  }
  return { source, context: currentContext, cluster: readCluster(cluster, `${source}: cluster "${clusterName}"`), user };
}

function parseDocument(file: KubeconfigText): Json {
  let doc: unknown;
  try {
    doc = parse(file.text);
  } catch (e) {
    throw new Error(`kubeconfig ${file.path} is not valid YAML: ${(e as Error).message.split("\n")[0]}`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== "object" || Array.isArray(doc)) throw new Error(`kubeconfig ${file.path} is not a kubeconfig: expected a mapping with clusters, users and contexts`);
  return doc as Json;
}

function collect(doc: Json, listKey: string, itemKey: string, into: Map<string, Named>, dir: string, path: string): void {
  const list = doc[listKey];
  if (list === undefined || list === null) return;
  if (!Array.isArray(list)) throw new Error(`kubeconfig ${path}: ${listKey} must be a list`);
  list.forEach((entry: unknown, i) => {
    const e = (entry ?? {}) as Json;
    if (typeof e.name !== "string" || e.name === "") throw new Error(`kubeconfig ${path}: ${listKey}[${i}] has no name`);
    const item = e[itemKey] ?? {};
    if (typeof item !== "object" || Array.isArray(item)) throw new Error(`kubeconfig ${path}: ${listKey}[${i}] ("${e.name}").${itemKey} must be a mapping`);
    if (!into.has(e.name)) into.set(e.name, { item: item as Json, dir });
  });
}

function str(o: Json, key: string, where: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null || v === "") return undefined;
  if (typeof v !== "string") throw new Error(`${where}: ${key} must be a string`);
  return v;
}

function fileRef(o: Json, key: string, where: string, dir: string): string | undefined {
  const v = str(o, key, where);
  return v === undefined ? undefined : isAbsolute(v) ? v : resolve(dir, v);
}

function base64Pem(o: Json, key: string, where: string): string | undefined {
  const v = str(o, key, where);
  if (v === undefined) return undefined;
  const text = Buffer.from(v, "base64").toString("utf8");
  if (!text.includes("-----BEGIN")) throw new Error(`${where}: ${key} is not base64 of a PEM block (it must start with "-----BEGIN" once decoded)`);
  return text;
}

function readCluster({ item, dir }: Named, where: string): KubeconfigCluster {
  const server = str(item, "server", where);
  if (!server) throw new Error(`${where} has no server; set clusters[].cluster.server, e.g. https://10.0.0.1:6443`);
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new Error(`${where}: server "${server}" is not a URL; write it as https://HOST:PORT`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new Error(`${where}: server "${server}" must start with https:// or http://`);
  const insecure = item["insecure-skip-tls-verify"];
  if (insecure !== undefined && typeof insecure !== "boolean") throw new Error(`${where}: insecure-skip-tls-verify must be true or false`);
  const caData = base64Pem(item, "certificate-authority-data", where);
  const caFile = fileRef(item, "certificate-authority", where, dir);
  if (insecure === true && (caData !== undefined || caFile !== undefined)) {
    throw new Error(`${where}: insecure-skip-tls-verify cannot be combined with a certificate authority (client-go refuses it too); remove one`);
  }
  const extensions = Array.isArray(item.extensions) ? (item.extensions as Json[]) : [];
  const execExtension = extensions.find((e) => e?.name === "client.authentication.k8s.io/exec")?.extension;
  return drop({
    server: server.replace(/\/+$/, ""),
    caData,
    caFile,
    insecureSkipTlsVerify: insecure === true,
    tlsServerName: str(item, "tls-server-name", where),
    caDataBase64: str(item, "certificate-authority-data", where),
    execExtension,
  });
}

function readUser({ item, dir }: Named, where: string): KubeconfigUser {
  const provider = item["auth-provider"] as Json | undefined;
  if (provider) {
    const name = typeof provider.name === "string" ? provider.name : "?";
    throw new Error(
      `${where} uses auth-provider "${name}", which baremetal-lb does not support; use ${supportedAuth} (for OIDC, an exec plugin such as kubelogin; for GKE, gke-gcloud-auth-plugin)`,
    );
  }
  for (const key of ["as", "as-uid", "as-groups", "as-user-extra"]) {
    if (item[key] !== undefined && item[key] !== null) throw new Error(`${where} uses impersonation (${key}), which baremetal-lb does not support; give the user its own credentials`);
  }
  const user = drop({
    token: str(item, "token", where),
    tokenFile: fileRef(item, "tokenFile", where, dir),
    certData: base64Pem(item, "client-certificate-data", where),
    keyData: base64Pem(item, "client-key-data", where),
    certFile: fileRef(item, "client-certificate", where, dir),
    keyFile: fileRef(item, "client-key", where, dir),
    username: str(item, "username", where),
    password: str(item, "password", where),
    exec: item.exec === undefined || item.exec === null ? undefined : readExec(item.exec, `${where}: exec`, dir),
  });
  const hasCert = user.certData !== undefined || user.certFile !== undefined;
  const hasKey = user.keyData !== undefined || user.keyFile !== undefined;
  if (hasCert !== hasKey) throw new Error(`${where} has a client ${hasCert ? "certificate but no key" : "key but no certificate"}; set both client-certificate(-data) and client-key(-data)`);
  if ((user.username !== undefined || user.password !== undefined) && (user.token !== undefined || user.tokenFile !== undefined || user.exec)) {
    throw new Error(`${where} sets both username/password and a token or exec plugin; keep one`);
  }
  return user;
}

function readExec(raw: unknown, where: string, dir: string): ExecPlugin {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new Error(`${where} must be a mapping`);
  const e = raw as Json;
  const apiVersion = str(e, "apiVersion", where);
  const supported = ["client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1"];
  if (!apiVersion || !supported.includes(apiVersion)) {
    throw new Error(`${where}: apiVersion "${apiVersion ?? ""}" is not supported; use ${supported.join(" or ")}`);
  }
  let command = str(e, "command", where);
  if (!command) throw new Error(`${where} has no command`);
  // client-go: a relative command with a path separator is relative to the kubeconfig's directory.
  if (!isAbsolute(command) && command.includes("/")) command = resolve(dir, command);
  const args = e.args ?? [];
  if (!Array.isArray(args) || args.some((a) => typeof a !== "string")) throw new Error(`${where}: args must be a list of strings`);
  const env = e.env ?? [];
  if (!Array.isArray(env) || env.some((v) => typeof v?.name !== "string" || typeof v?.value !== "string")) {
    throw new Error(`${where}: env must be a list of {name, value} strings`);
  }
  const interactiveMode = str(e, "interactiveMode", where);
  if (interactiveMode !== undefined && !["Never", "IfAvailable", "Always"].includes(interactiveMode)) {
    throw new Error(`${where}: interactiveMode "${interactiveMode}" is not Never, IfAvailable or Always`);
  }
  if (interactiveMode === "Always") {
    throw new Error(`${where}: interactiveMode is Always, but baremetal-lb runs without a terminal; use a plugin that works with interactiveMode Never`);
  }
  return drop({
    apiVersion,
    command,
    args: args as string[],
    env: (env as { name: string; value: string }[]).map((v) => ({ name: v.name, value: v.value })),
    installHint: str(e, "installHint", where),
    provideClusterInfo: e.provideClusterInfo === true,
    interactiveMode,
  });
}

function drop<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}
