/**
 * Wires the in-memory cluster without HTTP: store, served types, kind strategies (Service allocation and
 * validation, namespaces, pods, CRDs) and the simulated controllers, with the default namespaces created.
 * `startKubeSim` serves one of these; tests of semantics use it directly.
 *
 * @example
 * const cluster = createSimulatedCluster();
 * cluster.state.create(cluster.types.services, "default", { metadata: { name: "web" }, spec: { ports: [{ port: 80 }] } });
 * cluster.stop();
 */
import { ClusterState } from "./cluster-state.ts";
import { crdStrategy, runCrdController } from "./custom-resources.ts";
import { runEndpointsController } from "./endpoints-controller.ts";
import type { KindStrategy } from "./kind-strategy.ts";
import { leaseAndEventStrategies } from "./lease-event-strategies.ts";
import { runNamespaceController } from "./namespace-lifecycle.ts";
import { rbacStrategies } from "./rbac-strategies.ts";
import { ResourceRegistry } from "./resource-registry.ts";
import { builtinResources, type ResourceType } from "./resources.ts";
import { ServiceAllocator } from "./service-allocator.ts";
import { serviceStrategy } from "./service-defaults.ts";
import { Store } from "./store.ts";
import { workloadStrategies } from "./workload-strategies.ts";

/** Options of the simulated cluster. */
export interface SimulatedClusterOptions {
  /** Watch history kept for replay (events); default 10,000. */
  historySize?: number;
  /** Delay of the namespace controller's cleanup passes; default 100 ms. */
  namespaceTickMs?: number;
  /** Run the EndpointSlice/Endpoints controller; default true. */
  endpointsController?: boolean;
}

/** The namespaces every cluster starts with. */
export const DEFAULT_NAMESPACES = ["default", "kube-system", "kube-public", "kube-node-lease"] as const;

/** A cluster: its state, shortcuts to common types, and the function that stops its controllers. */
export interface SimulatedCluster {
  state: ClusterState;
  types: { namespaces: ResourceType; services: ResourceType; pods: ResourceType; endpointSlices: ResourceType; endpoints: ResourceType; crds: ResourceType };
  stop(): void;
}

function builtin(group: string, plural: string): ResourceType {
  const t = builtinResources.find((r) => r.group === group && r.plural === plural);
  if (!t) throw new Error(`built-in resource ${plural}.${group} is missing from resources.ts`);
  return t;
}

/** Creates a cluster with the default namespaces and running controllers. */
export function createSimulatedCluster(opts: SimulatedClusterOptions = {}): SimulatedCluster {
  const store = new Store(opts.historySize ?? 10_000);
  const registry = new ResourceRegistry(builtinResources);
  const allocator = new ServiceAllocator(store);
  const strategies = new Map<string, KindStrategy>([
    ...workloadStrategies(),
    ...leaseAndEventStrategies(),
    ...rbacStrategies(),
    ["/Service", serviceStrategy(allocator)],
    ["apiextensions.k8s.io/CustomResourceDefinition", crdStrategy],
  ]);
  const state = new ClusterState(store, registry, strategies);
  const stops = [runCrdController(state), runNamespaceController(state, { tickMs: opts.namespaceTickMs })];
  if (opts.endpointsController !== false) stops.push(runEndpointsController(state));
  const types = {
    namespaces: builtin("", "namespaces"),
    services: builtin("", "services"),
    pods: builtin("", "pods"),
    endpointSlices: builtin("discovery.k8s.io", "endpointslices"),
    endpoints: builtin("", "endpoints"),
    crds: builtin("apiextensions.k8s.io", "customresourcedefinitions"),
  };
  for (const name of DEFAULT_NAMESPACES) state.create(types.namespaces, "", { metadata: { name } });
  return {
    state,
    types,
    stop() {
      for (const stop of stops) stop();
    },
  };
}
