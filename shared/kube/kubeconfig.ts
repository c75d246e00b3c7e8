import { KubeConfig } from "@kubernetes/client-node";

/**
 * Loads the API client configuration the way both binaries document it:
 * `--kubeconfig PATH` first, then in-cluster config when `KUBERNETES_SERVICE_HOST` is set,
 * then the `KUBECONFIG` environment variable.
 *
 * @example
 * const kc = loadKubeConfig(flags.kubeconfig); // throws a message that says what to pass
 */
export function loadKubeConfig(kubeconfigPath: string | undefined, env: NodeJS.ProcessEnv = process.env): KubeConfig {
  const kc = new KubeConfig();
  if (kubeconfigPath) {
    kc.loadFromFile(kubeconfigPath);
  } else if (env.KUBERNETES_SERVICE_HOST) {
    kc.loadFromCluster();
  } else if (env.KUBECONFIG) {
    kc.loadFromFile(env.KUBECONFIG);
  } else {
    throw new Error(
      "no Kubernetes API configured: pass --kubeconfig PATH, run in a cluster (KUBERNETES_SERVICE_HOST), or set KUBECONFIG",
    );
  }
  if (!kc.getCurrentCluster()) {
    throw new Error(`kubeconfig ${kubeconfigPath ?? env.KUBECONFIG ?? "(in-cluster)"} has no current cluster; set current-context`);
  }
  return kc;
}
