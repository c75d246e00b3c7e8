/**
 * The simulator's faults against a known client, client-node's informer: the scenarios of
 * test/support/informer-fault-scenarios.ts, which our own informer (shared/kube/informer-faults.test.ts) passes too.
 */
import { CoreV1Api, makeInformer, type Informer, type ObjectCache, type V1Service } from "@kubernetes/client-node";
import { describe } from "vitest";
import { informerFaultScenarios, type FaultHarness } from "../../test/support/informer-fault-scenarios.ts";
import type { KubeSim } from "./index.ts";

type ServiceInformer = Informer<V1Service> & ObjectCache<V1Service>;

let informer: ServiceInformer | undefined;
let stopping = false;

/**
 * A client-node informer on Services in "default" (or in all namespaces) that restarts itself after errors, like
 * a resilient controller.
 */
async function startInformer(sim: KubeSim, allNamespaces: boolean): Promise<FaultHarness> {
  const kc = sim.client;
  const core = kc.makeApiClient(CoreV1Api);
  let lists = 0;
  let errors = 0;
  const path = allNamespaces ? "/api/v1/services" : "/api/v1/namespaces/default/services";
  const inf = makeInformer(kc, path, () => {
    lists++;
    return allNamespaces ? core.listServiceForAllNamespaces() : core.listNamespacedService({ namespace: "default" });
  });
  informer = inf;
  inf.on("error", () => {
    errors++;
    setTimeout(() => {
      if (!stopping && informer === inf) inf.start().catch(() => undefined);
    }, 50);
  });
  await inf.start();
  return {
    sim,
    lists: () => lists,
    errors: () => errors,
    views: () => ({ "informer cache": Object.fromEntries(inf.list("default").map((o) => [o.metadata!.name!, o.metadata!.resourceVersion!])) }),
    has: (name, namespace) => inf.get(name, namespace) !== undefined,
  };
}

describe("a client-node informer stays equal to the server", () => {
  informerFaultScenarios({
    start: startInformer,
    stop: async () => {
      stopping = true;
      await informer?.stop();
      informer = undefined;
      stopping = false;
    },
    resumesWithoutRelist: false,
    convergeMs: 5000,
  });
});
