import type { KubeConfig } from "@kubernetes/client-node";

type RequestContext = Parameters<KubeConfig["applySecurityAuthentication"]>[0];
type Dispatcher = NonNullable<ReturnType<RequestContext["getDispatcher"]>>;

/**
 * Makes every API client and watch built from `kc` share one HTTP connection pool per
 * (cluster, user). @kubernetes/client-node 2.0 gives each request a new undici Agent, so each
 * request opens a new TCP (and TLS) connection and leaves it idling until the keep-alive
 * timeout: a reconcile loop then spends its time connecting and piles up thousands of sockets.
 * Call it once, right after loading the kubeconfig and before `makeApiClient`. Returns `kc`.
 *
 * @example
 * const kc = reuseConnections(loadKubeConfig(flags.kubeconfig));
 * const core = kc.makeApiClient(CoreV1Api);
 */
export function reuseConnections(kc: KubeConfig): KubeConfig {
  const apply = kc.applySecurityAuthentication.bind(kc);
  const pools = new Map<string, Dispatcher>();
  kc.applySecurityAuthentication = async (context: RequestContext): Promise<void> => {
    await apply(context);
    const fresh = context.getDispatcher();
    if (!fresh) return; // plain HTTP without TLS options: undici's global pool already reuses connections
    const key = JSON.stringify([kc.getCurrentCluster()?.name ?? "", kc.getCurrentUser()?.name ?? ""]);
    const pooled = pools.get(key);
    if (!pooled) {
      pools.set(key, fresh);
      return;
    }
    // The fresh Agent never dispatched anything, so it holds no sockets or timers: the garbage
    // collector takes it. (Closing it would cost a ClientDestroyedError with a stack trace.)
    context.setDispatcher(pooled);
  };
  return kc;
}
