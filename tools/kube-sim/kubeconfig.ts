/**
 * Writes a kubeconfig file for one user of the simulator: one cluster (plain HTTP marked
 * insecure-skip-tls-verify, as @kubernetes/client-node requires for http://; or HTTPS with the simulator's CA),
 * one bearer-token user, one current context. Both kubectl and @kubernetes/client-node read it.
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
  /** CA certificate (PEM) of an https:// server; without it the cluster is marked insecure-skip-tls-verify. */
  caPem?: string;
}

/** The kubeconfig document text. */
export function kubeconfigText(spec: KubeconfigSpec): string {
  const context: Record<string, string> = { cluster: "kube-sim", user: spec.userName };
  if (spec.namespace !== undefined) context.namespace = spec.namespace;
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    // @kubernetes/client-node refuses http:// servers unless TLS verification is marked skipped.
    clusters: [
      {
        name: "kube-sim",
        cluster:
          spec.caPem === undefined
            ? { server: spec.server, "insecure-skip-tls-verify": true }
            : { server: spec.server, "certificate-authority-data": Buffer.from(spec.caPem).toString("base64") },
      },
    ],
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
