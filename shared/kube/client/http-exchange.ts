/**
 * One HTTP round trip to the API server over a pooled keep-alive connection: the request goes out,
 * the answer's status and headers come back with the response stream (for watches) or with the whole
 * body read (for everything else). No retries here; ./http-kube-api.ts decides those.
 */
import type { Agent as HttpAgent, ClientRequest, IncomingHttpHeaders, IncomingMessage } from "node:http";
import { http, https as httpsModule } from "../../http-modules.ts";
import type { ClusterAccess, Credentials } from "./cluster-access.ts";

/** The pool and fixed settings of one API client. */
export interface Endpoint {
  readonly url: URL;
  readonly agent: HttpAgent;
  readonly userAgent: string;
}

/**
 * The keep-alive pool for `access`: one Agent, TLS settings (CA, insecure, server name) applied to
 * every connection. No socket limit, so long-running watches never make requests queue.
 *
 * @example
 * const endpoint = createEndpoint(access, "baremetal-lb/0.1.0");
 */
export function createEndpoint(access: ClusterAccess, userAgent: string): Endpoint {
  let url: URL;
  try {
    url = new URL(access.server);
  } catch {
    throw new Error(`${access.source}: server "${access.server}" is not a URL`);
  }
  const common = { keepAlive: true, maxSockets: Infinity, maxFreeSockets: 32 };
  const agent =
    url.protocol === "https:"
      ? new httpsModule.Agent({
          ...common,
          ...(access.ca !== undefined ? { ca: access.ca } : {}),
          rejectUnauthorized: !access.insecureSkipTlsVerify,
          ...(access.tlsServerName ? { servername: access.tlsServerName } : {}),
        })
      : new http.Agent(common);
  return { url, agent, userAgent };
}

/** One request. */
export interface ExchangeRequest {
  readonly method: string;
  /** Path and query, relative to the server URL's path. */
  readonly path: string;
  readonly credentials: Credentials;
  readonly body?: { readonly text: string; readonly contentType: string };
  readonly signal?: AbortSignal;
  /** Whole exchange (streams: until the headers arrive). */
  readonly timeoutMs: number;
  /** Resolve once the headers are in, handing over the unread response (for a 2xx answer). */
  readonly stream?: boolean;
}

/** An answer: the body as text, or for a streamed 2xx answer the response to read. */
export interface ExchangeResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly stream?: { readonly res: IncomingMessage; readonly req: ClientRequest };
}

/** A transport error, marked when it happened on a reused keep-alive connection before any answer. */
export interface TransportError extends Error {
  code?: string;
  reusedSocket?: boolean;
}

/**
 * Sends one request and resolves with the answer (any status). Rejects with a transport error
 * (ECONNREFUSED, ECONNRESET, a TLS failure, the timeout, an abort).
 *
 * @example
 * const res = await exchange(endpoint, { method: "GET", path: "/api/v1/nodes", credentials, timeoutMs: 30_000 });
 * res.status; // 200
 */
export function exchange(endpoint: Endpoint, r: ExchangeRequest): Promise<ExchangeResponse> {
  const { url } = endpoint;
  const headers: Record<string, string | number> = { Accept: "application/json", "User-Agent": endpoint.userAgent };
  const creds = r.credentials;
  if (creds.token !== undefined) headers.Authorization = `Bearer ${creds.token}`;
  else if (creds.basic) headers.Authorization = `Basic ${Buffer.from(`${creds.basic.username}:${creds.basic.password}`).toString("base64")}`;
  if (r.body) {
    headers["Content-Type"] = r.body.contentType;
    headers["Content-Length"] = Buffer.byteLength(r.body.text);
  }
  const https = url.protocol === "https:";
  const options = {
    method: r.method,
    host: url.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: url.port || (https ? 443 : 80),
    path: `${url.pathname.replace(/\/+$/, "")}${r.path}`,
    headers,
    agent: endpoint.agent,
    ...(https && creds.clientCert ? { cert: creds.clientCert.cert, key: creds.clientCert.key } : {}),
  };
  return new Promise<ExchangeResponse>((resolve, reject) => {
    const { signal } = r;
    if (signal?.aborted) return reject(signal.reason);
    const req = https ? httpsModule.request(options) : http.request(options);
    let answered = false;
    // Not http.request's `signal` option: the Agent would bind it to the pooled socket too, and a later
    // abort would destroy a connection another request is using.
    const onAbort = () => req.destroy(signal?.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    const timer = setTimeout(() => {
      req.destroy(Object.assign(new Error(`${r.method} ${r.path}: no answer within ${r.timeoutMs} ms`), { code: "ETIMEDOUT" }));
    }, r.timeoutMs);
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    };
    req.on("error", (err: TransportError) => {
      done();
      if (!answered) err.reusedSocket = req.reusedSocket;
      reject(err);
    });
    req.on("response", (res) => {
      answered = true;
      const status = res.statusCode ?? 0;
      if (r.stream && status >= 200 && status < 300) {
        done(); // the caller owns the stream (and its abort) from here
        resolve({ status, headers: res.headers, body: "", stream: { res, req } });
        return;
      }
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("error", (err) => {
        done();
        reject(err);
      });
      res.on("end", () => {
        done();
        resolve({ status, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") });
      });
    });
    req.end(r.body?.text);
  });
}
