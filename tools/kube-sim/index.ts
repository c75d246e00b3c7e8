/**
 * kube-sim: an in-memory Kubernetes API server for tests and labs, driven by real kubectl 1.32 and
 * @kubernetes/client-node 2.x. It follows kube-apiserver semantics ("API Concepts") so that code passing against
 * it also works against a real cluster.
 *
 * API
 * - `startKubeSim(opts?) → Promise<KubeSim>`: listens on `opts.host` (127.0.0.1) : `opts.port` (0 = free port),
 *   writes an admin kubeconfig (bearer token, user "kube-sim:admin", group system:masters) to
 *   `opts.kubeconfigPath` (default: a fresh temp file) and resolves once ready. Plain http:// by default; kubectl
 *   sends no token there, so its requests run as superuser "system:unsecured" (client-node does send tokens).
 *   `opts.tls: true` serves https:// with a generated CA so kubectl authenticates as the kubeconfig's user too.
 * - `KubeSim`: `url`, `kubeconfigPath`, `client` (a loaded admin `KubeConfig`), `faults`, `state` (in-process
 *   access to the stored objects, for assertions), `issueKubeconfig(path, user)` (another identity, e.g. a
 *   ServiceAccount: `{ name: "system:serviceaccount:<ns>:<sa>", groups: serviceAccountGroups("<ns>") }`) and
 *   `stop()`.
 * - `faults`: `dropWatches()`, `failNext(n, 500|503|429, retryAfterSeconds?)`, `setLatency(ms)`, `compact()`
 *   (older resourceVersions → 410 Gone; watches get an ERROR event with code 410, reason Expired),
 *   `restart(downtimeMs?)` (connections reset, same port, state kept).
 * - Served: every type in `builtinResources` plus the types of stored CRDs; get/list/watch/create/update/patch
 *   (merge, json, strategic for built-ins, apply)/delete/deletecollection; status and namespace finalize
 *   subresources; discovery (aggregated and legacy), OpenAPI v3, Tables, /version, /healthz.
 * - Simulated controllers: namespace lifecycle (Terminating → contents deleted → namespace gone), CRD
 *   registration, schema pruning/defaulting/validation of custom resources and cleanup, EndpointSlice +
 *   Endpoints for Services with selectors, Service defaulting (clusterIP, nodePorts, policies) and validation.
 * - Custom resources as kube-apiserver serves them: unknown fields per `fieldValidation` (Strict: the strict
 *   decoding error; Warn, the default: Warning headers; Ignore: pruned), the status subresource, Tables from the
 *   CRD's `additionalPrinterColumns` (JSONPath, filters included), label and field selectors, and the schema in
 *   OpenAPI v3 (`kubectl explain`). CEL rules (`x-kubernetes-validations`) are not evaluated.
 * - Authorization: `opts.authorize(user, attributes)` is called for every request (default: allow all).
 * - CLI: `npm run kube-sim -- --port PORT --kubeconfig PATH [--host ADDR] [--tls]` (see main.ts).
 *
 * @example
 * const sim = await startKubeSim();
 * const core = sim.client.makeApiClient(CoreV1Api);
 * await core.createNamespacedService({ namespace: "default", body: { metadata: { name: "web" }, spec: { ports: [{ port: 80 }] } } });
 * await sim.stop();
 */
import { mkdtemp } from "node:fs/promises";
import { isIP } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import type { ClusterState } from "./cluster-state.ts";
import type { Faults } from "./faults.ts";
import { ADMIN_USER, allowAll, Identities, type Authorizer, type UserInfo } from "./identities.ts";
import { writeKubeconfig } from "./kubeconfig.ts";
import { createServerTls } from "./self-signed-tls.ts";
import { KubeSimServer } from "./server.ts";
import { createSimulatedCluster } from "./simulated-cluster.ts";

export { serviceAccountGroups, type Authorizer, type RequestAttributes, type UserInfo, type Decision } from "./identities.ts";
export type { Faults } from "./faults.ts";
export type { ClusterState } from "./cluster-state.ts";

/** Options of `startKubeSim`. */
export interface KubeSimOptions {
  /** TCP port; 0 (default) picks a free one. */
  port?: number;
  /** Listen address; default 127.0.0.1. */
  host?: string;
  /** Where to write the admin kubeconfig; default a fresh temp file. */
  kubeconfigPath?: string;
  /** Interval of watch BOOKMARK events when a client allows them; default 5000 ms. */
  bookmarkIntervalMs?: number;
  /** Watch history kept for replay (events); older resourceVersions get 410. Default 10,000. */
  historySize?: number;
  /** Delay of the namespace controller's cleanup passes; default 100 ms. */
  namespaceTickMs?: number;
  /** Run the EndpointSlice/Endpoints controller; default true. */
  endpointsController?: boolean;
  /** Authorization hook called for every authenticated request; default allows all. */
  authorize?: Authorizer;
  /**
   * Serve https:// with a fresh self-signed CA (in the kubeconfigs). Needed when kubectl must act as a specific
   * identity: kubectl sends no token to http:// servers, so over http its requests run as the superuser
   * "system:unsecured"; over https tokenless requests are "system:anonymous". Default false.
   */
  tls?: boolean;
}

/** A running simulator. */
export interface KubeSim {
  /** Base URL, e.g. http://127.0.0.1:41234. */
  url: string;
  kubeconfigPath: string;
  /** Admin client configuration loaded from `kubeconfigPath`. */
  client: KubeConfig;
  faults: Faults;
  /** In-process access to the stored objects (for assertions in tests). */
  state: ClusterState;
  /** Writes a kubeconfig for another identity and returns it loaded. */
  issueKubeconfig(path: string, user: UserInfo): Promise<KubeConfig>;
  /** Stops the server and the simulated controllers. */
  stop(): Promise<void>;
}

/** Starts a simulator; see the module comment for what it serves. */
export async function startKubeSim(opts: KubeSimOptions = {}): Promise<KubeSim> {
  const cluster = createSimulatedCluster({
    historySize: opts.historySize,
    namespaceTickMs: opts.namespaceTickMs,
    endpointsController: opts.endpointsController,
  });
  const { state } = cluster;

  const identities = new Identities();
  const host = opts.host ?? "127.0.0.1";
  const tls = opts.tls ? createServerTls([...new Set([host, "127.0.0.1", "::1"])].filter((h) => isIP(h) !== 0 && h !== "0.0.0.0" && h !== "::")) : undefined;
  const server = new KubeSimServer({
    state,
    identities,
    authorize: opts.authorize ?? allowAll,
    bookmarkIntervalMs: opts.bookmarkIntervalMs ?? 5000,
    tls,
  });
  const url = await server.listen(host, opts.port ?? 0);
  const kubeconfigPath = opts.kubeconfigPath ?? join(await mkdtemp(join(tmpdir(), "kube-sim-")), "kubeconfig");

  const issueKubeconfig = async (path: string, user: UserInfo): Promise<KubeConfig> => {
    const token = identities.issue(user);
    await writeKubeconfig(path, { server: url, userName: user.name, token, caPem: tls?.caPem });
    const kc = new KubeConfig();
    kc.loadFromFile(path);
    return kc;
  };
  const client = await issueKubeconfig(kubeconfigPath, ADMIN_USER);
  let stopped = false;
  return {
    url,
    kubeconfigPath,
    client,
    faults: server.faults,
    state,
    issueKubeconfig,
    async stop() {
      if (stopped) return;
      stopped = true;
      cluster.stop();
      await server.close();
    },
  };
}
