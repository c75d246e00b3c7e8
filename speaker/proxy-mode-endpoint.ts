/**
 * Asks the local kube-proxy which mode it runs in: GET http://127.0.0.1:10249/proxyMode answers "ipvs",
 * "iptables" or "nftables" (kube-proxy's metrics server; it listens on 127.0.0.1 by default).
 */

/** kube-proxy's default proxyMode URL. */
export const DEFAULT_PROXY_MODE_URL = "http://127.0.0.1:10249/proxyMode";

/**
 * The mode kube-proxy reports, or undefined when it does not answer 200 with a plain lowercase word within
 * `timeoutMs` (default 1 s): not running, metrics bound elsewhere, or no kube-proxy at all. Never rejects.
 *
 * @example const mode = await fetchProxyMode(); // "ipvs" | "iptables" | "nftables" | undefined
 */
export async function fetchProxyMode(url = DEFAULT_PROXY_MODE_URL, timeoutMs = 1000): Promise<string | undefined> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: "error" });
    if (response.status !== 200) {
      await response.body?.cancel();
      return undefined;
    }
    const body = (await response.text()).trim();
    return /^[a-z]{1,32}$/.test(body) ? body : undefined;
  } catch {
    return undefined;
  }
}
