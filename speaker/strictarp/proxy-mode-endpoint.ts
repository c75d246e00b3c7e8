/**
 * Asks the local kube-proxy which mode it runs in: GET http://127.0.0.1:10249/proxyMode answers "ipvs",
 * "iptables" or "nftables" (kube-proxy's metrics server; it listens on 127.0.0.1 by default).
 *
 * Plain node:http, which the API client loads anyway: `fetch` would load Node's bundled undici (its
 * code and its WebAssembly HTTP parser, several MB resident) for one tiny request every 30 s (and so
 * would an ESM import of node:http, see shared/http-modules.ts).
 */
import { http } from "../../shared/http-modules.ts";

/** kube-proxy's default proxyMode URL. */
export const DEFAULT_PROXY_MODE_URL = "http://127.0.0.1:10249/proxyMode";

/** A mode is one short word; anything longer is not kube-proxy's answer. */
const maxBodyBytes = 64;

/**
 * The mode kube-proxy reports, or undefined when it does not answer 200 with a plain lowercase word within
 * `timeoutMs` (default 1 s): not running, metrics bound elsewhere, or no kube-proxy at all. Never rejects.
 * Redirects are not followed.
 *
 * @example const mode = await fetchProxyMode(); // "ipvs" | "iptables" | "nftables" | undefined
 */
export function fetchProxyMode(url = DEFAULT_PROXY_MODE_URL, timeoutMs = 1000): Promise<string | undefined> {
  return new Promise((resolve) => {
    let body = "";
    const done = (mode: string | undefined) => {
      clearTimeout(timer);
      req.destroy();
      resolve(mode);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    let req: ReturnType<typeof http.get>;
    try {
      req = http.get(url, { agent: false }, (res) => {
        if (res.statusCode !== 200) return done(undefined);
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          body += chunk;
          if (body.length > maxBodyBytes) done(undefined);
        });
        res.on("end", () => {
          const mode = body.trim();
          done(/^[a-z]{1,32}$/.test(mode) ? mode : undefined);
        });
        res.on("error", () => done(undefined));
      });
    } catch {
      // An URL node:http refuses (not http:, say).
      clearTimeout(timer);
      resolve(undefined);
      return;
    }
    req.on("error", () => done(undefined));
  });
}
