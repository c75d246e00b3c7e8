/**
 * The informer against the simulator's faults: the scenarios client-node's informer passes
 * (test/support/informer-fault-scenarios.ts). After each fault its cache, and the changes it reported, equal the
 * server; a dropped or refused watch resumes without a relist.
 */
import { Writable } from "node:stream";
import { describe } from "vitest";
import type { KubeSim } from "../../tools/kube-sim/index.ts";
import { informerFaultScenarios, type FaultHarness } from "../../test/support/informer-fault-scenarios.ts";
import { createLogger } from "../log.ts";
import { loadClusterAccess } from "./client/cluster-access.ts";
import { createKubeApi } from "./client/http-kube-api.ts";
import type { KubeApi } from "./client/kube-api.ts";
import { services } from "./client/resource-types.ts";
import { startInformer, type ResilientInformer } from "./informer.ts";
import { projectService, type ServiceObject } from "./objects/service.ts";

let informer: ResilientInformer<ServiceObject> | undefined;
let api: KubeApi | undefined;

/** A KubeApi that counts lists and failed lists or watches. */
function counting(inner: KubeApi): { api: KubeApi; lists: () => number; errors: () => number } {
  let lists = 0;
  let errors = 0;
  const counted: KubeApi = {
    ...inner,
    list: async (...args) => {
      lists++;
      try {
        return await inner.list(...args);
      } catch (e) {
        errors++;
        throw e;
      }
    },
    watch: async (...args) => {
      try {
        await inner.watch(...args);
      } catch (e) {
        errors++;
        throw e;
      }
    },
  };
  return { api: counted, lists: () => lists, errors: () => errors };
}

const quiet = createLogger("test", "silent", new Writable({ write: (_c, _e, done) => done() }));

/** The informer on Services of "default" (or every namespace), with what its onChange reported kept beside its cache. */
async function startServiceInformer(sim: KubeSim, allNamespaces: boolean): Promise<FaultHarness> {
  api = createKubeApi(loadClusterAccess(sim.kubeconfigPath, {}));
  const c = counting(api);
  const reported = new Map<string, string>();
  const started = startInformer({
    api: c.api,
    type: services,
    namespace: allNamespaces ? undefined : "default",
    project: projectService,
    log: quiet,
    backoffMs: { initial: 50, max: 400 },
    onChange: (obj, kind) => {
      const key = `${obj.metadata.namespace}/${obj.metadata.name}`;
      if (kind === "delete") reported.delete(key);
      else reported.set(key, obj.metadata.resourceVersion!);
    },
  });
  informer = started;
  await started.synced;
  return {
    sim,
    lists: c.lists,
    errors: c.errors,
    views: () => ({
      "informer cache": Object.fromEntries(started.list("default").map((o) => [o.metadata.name!, o.metadata.resourceVersion!])),
      "changes reported through onChange": Object.fromEntries(
        [...reported].filter(([k]) => k.startsWith("default/")).map(([k, v]) => [k.slice("default/".length), v]),
      ),
    }),
    has: (name, namespace) => started.get(name, namespace) !== undefined,
  };
}

describe("startInformer stays equal to the server", () => {
  informerFaultScenarios({
    start: startServiceInformer,
    stop: async () => {
      await informer?.stop();
      informer = undefined;
      await api?.close();
      api = undefined;
    },
    resumesWithoutRelist: true,
    convergeMs: 8000,
  });
});
