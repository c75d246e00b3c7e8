/**
 * Writes a kubeconfig file for one user of the simulator: one cluster (plain HTTP, marked
 * insecure-skip-tls-verify as @kubernetes/client-node requires for http://), one bearer-token user, one current
 * context. Both kubectl and @kubernetes/client-node read it.
 *
 * @example
 * await writeKubeconfig("/tmp/kc", { server: "http://127.0.0.1:6443", userName: "kube-sim:admin", token });
 */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { stringify } from "yaml";

/** What goes into the kubeconfig. */
export interface KubeconfigSpec {
  server: string;
  userName: string;
  token: string;
  /** Default namespace of the context (omitted when undefined). */
  namespace?: string;
}

/** The kubeconfig document text. */
export function kubeconfigText(spec: KubeconfigSpec): string {
  const context: Record<string, string> = { cluster: "kube-sim", user: spec.userName };
  if (spec.namespace !== undefined) context.namespace = spec.namespace;
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    // @kubernetes/client-node refuses http:// servers unless TLS verification is marked skipped.
    clusters: [{ name: "kube-sim", cluster: { server: spec.server, "insecure-skip-tls-verify": true } }],
    users: [{ name: spec.userName, user: { token: spec.token } }],
    contexts: [{ name: "kube-sim", context }],
    "current-context": "kube-sim",
    preferences: {},
  });
}

/** Writes the kubeconfig to `path` (mode 0600), creating parent directories. */
export async function writeKubeconfig(path: string, spec: KubeconfigSpec): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, kubeconfigText(spec), { mode: 0o600 });
}
