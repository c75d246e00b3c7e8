/**
 * The HTTP front of the simulator: authentication (bearer tokens), the authorization hook, injected faults and
 * latency, discovery / OpenAPI / version / health endpoints, and dispatch of resource requests. Errors leave as
 * meta/v1 Status bodies with the matching HTTP code.
 *
 * @example
 * const server = new KubeSimServer({ state, identities, authorize: allowAll, bookmarkIntervalMs: 5000 });
 * const url = await server.listen("127.0.0.1", 0);
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { ApiError, failureStatus, pathNotFound, unauthorized } from "./api-error.ts";
import type { ClusterState } from "./cluster-state.ts";
import { aggregatedDiscovery, AGGREGATED_DISCOVERY_CONTENT_TYPE, legacyDiscovery, versionInfo } from "./discovery.ts";
import { Faults } from "./faults.ts";
import { ANONYMOUS_USER, UNSECURED_USER, type Authorizer, type Identities, type RequestAttributes, type UserInfo } from "./identities.ts";
import { openapiGroupVersion, openapiRoot } from "./openapi.ts";
import { requestInfo } from "./request-info.ts";
import { listRequestName } from "./list-request-name.ts";
import { handleResourceRequest, readBody } from "./resource-handler.ts";
import type { ServerTls } from "./self-signed-tls.ts";
import type { ActiveWatch } from "./watch.ts";

/** What the server is built from. */
export interface KubeSimServerOptions {
  state: ClusterState;
  identities: Identities;
  authorize: Authorizer;
  bookmarkIntervalMs: number;
  /** Serve https:// with this certificate (plain http:// when undefined). */
  tls?: ServerTls;
}

/** Paths anonymous users may read (kube-apiserver's system:public-info-viewer). */
const publicPaths = new Set(["/version", "/healthz", "/livez", "/readyz"]);

/** True when the Accept header asks for aggregated discovery v2. */
function wantsAggregatedDiscovery(accept: string | undefined): boolean {
  if (!accept) return false;
  return accept.split(",").some((entry) => {
    const params = entry.split(";").map((p) => p.trim());
    return params.includes("g=apidiscovery.k8s.io") && params.includes("v=v2") && params.includes("as=APIGroupDiscoveryList");
  });
}

function sendJson(res: ServerResponse, code: number, body: unknown, contentType = "application/json", headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { "Content-Type": contentType, "Content-Length": Buffer.byteLength(text), "Cache-Control": "no-cache, private", ...headers });
  res.end(text);
}

function forbiddenMessage(user: UserInfo, a: RequestAttributes, reason: string | undefined): string {
  const suffix = reason ? `: ${reason}` : "";
  if (!a.isResourceRequest) return `forbidden: User "${user.name}" cannot ${a.verb} path "${a.path}"${suffix}`;
  const res = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const what = a.name ? `${a.resource}${a.apiGroup ? `.${a.apiGroup}` : ""} "${a.name}"` : `${a.resource}${a.apiGroup ? `.${a.apiGroup}` : ""}`;
  const scope = a.namespace ? ` in the namespace "${a.namespace}"` : " at the cluster scope";
  return `${what} is forbidden: User "${user.name}" cannot ${a.verb} resource "${res}" in API group "${a.apiGroup}"${scope}${suffix}`;
}

/** The simulator's HTTP server. */
export class KubeSimServer {
  readonly faults: Faults;
  readonly #opts: KubeSimServerOptions;
  readonly #watches = new Set<ActiveWatch>();
  #server: Server;
  #host = "127.0.0.1";
  #port = 0;

  constructor(opts: KubeSimServerOptions) {
    this.#opts = opts;
    this.faults = new Faults({
      endWatches: () => this.endWatches(),
      compact: () => opts.state.store.compact(),
      restart: (downtimeMs) => this.restart(downtimeMs),
    });
    this.#server = this.#createServer();
  }

  #createServer(): Server {
    const handler = (req: IncomingMessage, res: ServerResponse) => {
      this.#handle(req, res).catch((e: unknown) => this.#fail(res, e));
    };
    const tls = this.#opts.tls;
    const server: Server = tls
      ? createHttpsServer({ keepAlive: true, noDelay: true, key: tls.keyPem, cert: tls.certPem }, handler)
      : createServer({ keepAlive: true, noDelay: true }, handler);
    server.keepAliveTimeout = 60_000;
    return server;
  }

  /** The base URL, e.g. http://127.0.0.1:6443 (valid after `listen`). */
  get url(): string {
    const host = this.#host.includes(":") ? `[${this.#host}]` : this.#host;
    return `${this.#opts.tls ? "https" : "http"}://${host}:${this.#port}`;
  }

  /** Starts listening; port 0 picks a free port. Resolves to the base URL. */
  listen(host: string, port: number): Promise<string> {
    this.#host = host;
    return new Promise((resolve, reject) => {
      const onError = (e: Error) => reject(new Error(`kube-sim cannot listen on ${host}:${port}: ${e.message}`));
      this.#server.once("error", onError);
      this.#server.listen(port, host, () => {
        this.#server.off("error", onError);
        this.#port = (this.#server.address() as AddressInfo).port;
        resolve(this.url);
      });
    });
  }

  /** Ends every open watch stream cleanly. */
  endWatches(): void {
    for (const w of [...this.#watches]) w.end();
  }

  /** Stops listening and drops every connection (watches are ended cleanly first). */
  async close(): Promise<void> {
    this.endWatches();
    await this.#closeAbruptly();
  }

  /** Stops listening and destroys every connection, as a crashed apiserver would. */
  async #closeAbruptly(): Promise<void> {
    const server = this.#server;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }

  /**
   * Destroys every connection (clients see a reset, not a clean end), stays down `downtimeMs`, then listens
   * again on the same address and port; state is kept.
   */
  async restart(downtimeMs = 0): Promise<void> {
    await this.#closeAbruptly();
    if (downtimeMs > 0) await sleep(downtimeMs);
    this.#server = this.#createServer();
    await this.listen(this.#host, this.#port);
  }

  #fail(res: ServerResponse, e: unknown): void {
    if (res.headersSent) {
      if (!res.writableEnded) res.destroy();
      return;
    }
    if (e instanceof ApiError) {
      sendJson(res, e.code, e.status, "application/json", e.headers);
      return;
    }
    const message = e instanceof Error ? e.message : String(e);
    sendJson(res, 500, failureStatus(500, "InternalError", `Internal error occurred: ${message}`));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://kube-sim");
    const latency = this.faults.latencyMs;
    if (latency > 0) await sleep(latency);
    const injected = this.faults.takeFailure();
    if (injected) {
      await readBody(req).catch(() => undefined);
      throw injected;
    }
    const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, "") : url.pathname;
    // A token that is sent must be valid. No credentials at all: over http the insecure-port superuser (kubectl sends
    // no token to http:// servers, see UNSECURED_USER); over https the anonymous user.
    const anonymous = this.#opts.tls ? ANONYMOUS_USER : UNSECURED_USER;
    const user = req.headers.authorization === undefined ? anonymous : this.#opts.identities.authenticate(req.headers.authorization);
    if (!user && !(req.method === "GET" && publicPaths.has(path))) throw unauthorized();
    const info = requestInfo(req.method ?? "GET", path, url.searchParams);
    if (user) {
      const attributes: RequestAttributes =
        info.kind === "resource"
          ? {
              verb: info.verb,
              isResourceRequest: true,
              path,
              apiGroup: info.group,
              apiVersion: info.version,
              resource: info.resource,
              subresource: info.subresource,
              namespace: info.namespace,
              name: listRequestName(info, path, url.searchParams),
            }
          : { verb: info.verb, isResourceRequest: false, path, apiGroup: "", apiVersion: "", resource: "", subresource: "", namespace: "", name: "" };
      const decision = this.#opts.authorize(user, attributes);
      if (!decision.allowed) {
        throw new ApiError(failureStatus(403, "Forbidden", forbiddenMessage(user, attributes, decision.reason), info.kind === "resource" ? { name: info.name, group: info.group, kind: info.resource } : undefined));
      }
    }
    if (info.kind === "resource") {
      await handleResourceRequest(
        {
          state: this.#opts.state,
          bookmarkIntervalMs: this.#opts.bookmarkIntervalMs,
          trackWatch: (w) => {
            this.#watches.add(w);
            return () => this.#watches.delete(w);
          },
        },
        info,
        req,
        res,
        url,
      );
      return;
    }
    this.#handleNonResource(req, res, path);
  }

  #handleNonResource(req: IncomingMessage, res: ServerResponse, path: string): void {
    const resources = this.#opts.state.registry.all();
    if (req.method !== "GET" && req.method !== "HEAD") {
      throw new ApiError(failureStatus(405, "MethodNotAllowed", `the server does not allow this method on the requested resource (${req.method} ${path})`));
    }
    if (path === "/healthz" || path === "/livez" || path === "/readyz") {
      res.writeHead(200, { "Content-Type": "text/plain; charset=utf-8", "Content-Length": 2 });
      res.end("ok");
      return;
    }
    if (path === "/version") return sendJson(res, 200, versionInfo());
    if (path === "/api" || path === "/apis") {
      if (wantsAggregatedDiscovery(req.headers.accept)) {
        return sendJson(res, 200, aggregatedDiscovery(resources, path === "/api" ? "core" : "groups"), AGGREGATED_DISCOVERY_CONTENT_TYPE);
      }
    }
    if (path === "/api" || path.startsWith("/api/") || path === "/apis" || path.startsWith("/apis/")) {
      const doc = legacyDiscovery(resources, path);
      if (doc === undefined) throw pathNotFound();
      return sendJson(res, 200, doc);
    }
    if (path === "/openapi/v3") return sendJson(res, 200, openapiRoot(resources));
    if (path.startsWith("/openapi/v3/")) {
      const doc = openapiGroupVersion(resources, path.slice("/openapi/v3/".length));
      if (doc === undefined) throw pathNotFound();
      return sendJson(res, 200, doc);
    }
    res.writeHead(404, { "Content-Type": "text/plain; charset=utf-8" });
    res.end("404 page not found\n");
  }
}
