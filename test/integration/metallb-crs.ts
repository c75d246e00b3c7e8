/**
 * MetalLB's IPAddressPools and L2Advertisements in the API simulator, for controller tests: install
 * the CRDs from manifests/01-crds.yaml, create, change and delete the objects, and read what
 * `kubectl get ipaddresspools -o yaml` would show (the Ready condition and the usage counts).
 *
 * @example
 * await installMetallbCrds(sim);
 * const crs = metallbCrs(sim);
 * await crs.create("ipaddresspools", "lan", { addresses: ["192.168.10.0/29"] });
 * await eventually(async () => (await crs.ready("ipaddresspools", "lan"))?.status === "True", { ms: 10_000, what: "lan to be Ready" });
 */
import { join } from "node:path";
import { CustomObjectsApi, KubernetesObjectApi, PatchStrategy, setHeaderOptions, type KubernetesObject } from "@kubernetes/client-node";
import type { KubeSim } from "../../tools/kube-sim/index.ts";
import { loadManifests, manifestsDir } from "../../tools/lab/load-manifests.ts";
import { eventually } from "../../tools/support/eventually.ts";
import { namespace } from "../../tools/lab/controller-harness.ts";

/** The plurals these tests write. */
export type ConfigPlural = "ipaddresspools" | "l2advertisements";

/** A `metav1.Condition` as the controller writes it. */
export interface ShownCondition {
  type: string;
  status: string;
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

/** An IPAddressPool or L2Advertisement as read back. */
export interface ConfigCr {
  metadata: { name: string; generation?: number; uid?: string; labels?: Record<string, string> };
  spec: Record<string, unknown>;
  status?: { conditions?: ShownCondition[]; assignedIPv4?: number; assignedIPv6?: number; availableIPv4?: number; availableIPv6?: number };
}

const group = "metallb.io";
const version = "v1beta1";
const mergePatch = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

/** Creates MetalLB's CRDs from manifests/01-crds.yaml and waits until IPAddressPools and L2Advertisements are served. */
export async function installMetallbCrds(sim: KubeSim): Promise<void> {
  const crds = (await loadManifests([join(manifestsDir, "01-crds.yaml")])).filter((o) => o.kind === "CustomResourceDefinition");
  const api = KubernetesObjectApi.makeApiClient(sim.client);
  for (const crd of crds) await api.create(structuredClone(crd) as KubernetesObject);
  const custom = sim.client.makeApiClient(CustomObjectsApi);
  for (const plural of ["ipaddresspools", "l2advertisements"]) {
    let refused: unknown;
    await eventually(
      async () => {
        try {
          await custom.listNamespacedCustomObject({ group, version, namespace, plural });
          return true;
        } catch (err) {
          refused = err; // until the kind is served
          return undefined;
        }
      },
      { ms: 5_000, what: `${plural} to be served`, everyMs: 50, detail: () => String(refused) },
    );
  }
}

/** Create, patch, delete and read IPAddressPools and L2Advertisements in metallb-system. */
export function metallbCrs(sim: KubeSim) {
  const custom = sim.client.makeApiClient(CustomObjectsApi);
  const kindOf = { ipaddresspools: "IPAddressPool", l2advertisements: "L2Advertisement" } as const;
  const get = async (plural: ConfigPlural, name: string): Promise<ConfigCr> =>
    (await custom.getNamespacedCustomObject({ group, version, namespace, plural, name })) as ConfigCr;
  return {
    async create(plural: ConfigPlural, name: string, spec: Record<string, unknown>, labels?: Record<string, string>): Promise<ConfigCr> {
      const body = { apiVersion: `${group}/${version}`, kind: kindOf[plural], metadata: { name, namespace, labels }, spec };
      return (await custom.createNamespacedCustomObject({ group, version, namespace, plural, body })) as ConfigCr;
    },
    /** A JSON merge patch of the spec (arrays are replaced whole). */
    async patchSpec(plural: ConfigPlural, name: string, spec: Record<string, unknown>): Promise<ConfigCr> {
      return (await custom.patchNamespacedCustomObject({ group, version, namespace, plural, name, body: { spec } }, mergePatch)) as ConfigCr;
    },
    async remove(plural: ConfigPlural, name: string): Promise<void> {
      await custom.deleteNamespacedCustomObject({ group, version, namespace, plural, name });
    },
    get,
    async exists(plural: ConfigPlural, name: string): Promise<boolean> {
      try {
        await get(plural, name);
        return true;
      } catch (err) {
        if ((err as { code?: number }).code === 404) return false;
        throw err;
      }
    },
    /** The object's Ready condition, or undefined while it has none. */
    async ready(plural: ConfigPlural, name: string): Promise<ShownCondition | undefined> {
      return (await get(plural, name)).status?.conditions?.find((c) => c.type === "Ready");
    },
  };
}
