/**
 * Runs the controller and the speakers under the install manifests' RBAC: applies manifests/' ServiceAccounts,
 * Roles, ClusterRoles and bindings into a running simulator through its API (as the admin), makes its
 * {@link RbacAuthorizer} read them, and writes a kubeconfig for each ServiceAccount
 * (`system:serviceaccount:metallb-system:controller` and `:speaker`) to the given paths.
 *
 * @example
 * const rbac = new RbacAuthorizer();
 * const identities = { controller: "/tmp/x/controller.kubeconfig", speaker: "/tmp/x/speaker.kubeconfig" };
 * const lab = await startLabCluster({ ..., authorize: rbac.authorize, identities });
 * await enforceManifestRbac(lab.sim, rbac, identities);
 * // ... start the controller and speakers; afterwards rbac.denials() lists every refused request
 */
import { KubernetesObjectApi, type KubernetesObject } from "@kubernetes/client-node";
import { serviceAccountGroups, type KubeSim } from "../../tools/kube-sim/index.ts";
import type { RbacAuthorizer } from "../../tools/kube-sim/rbac-authorizer.ts";
import { installFiles, loadManifests, type ManifestObject } from "../../tools/lab/load-manifests.ts";

/** The namespace the manifests install into. */
export const installNamespace = "metallb-system";

/** Where to write the two ServiceAccount kubeconfigs. */
export interface IdentityPaths {
  controller: string;
  speaker: string;
}

const identityKinds = new Set(["Namespace", "ServiceAccount", "Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"]);

/** The manifests' Namespace, ServiceAccounts and RBAC objects, in file order. */
export async function manifestIdentityObjects(): Promise<ManifestObject[]> {
  return (await loadManifests(installFiles())).filter((o) => identityKinds.has(o.kind));
}

/**
 * Applies the manifests' identity objects to `sim` (an existing Namespace is kept), attaches `rbac` to the
 * simulator's state and writes the controller's and the speaker's kubeconfigs to `paths`.
 */
export async function enforceManifestRbac(sim: KubeSim, rbac: RbacAuthorizer, paths: IdentityPaths): Promise<void> {
  rbac.attach(sim.state);
  const api = KubernetesObjectApi.makeApiClient(sim.client);
  for (const obj of await manifestIdentityObjects()) {
    try {
      await api.create(structuredClone(obj) as KubernetesObject);
    } catch (err) {
      const exists = (err as { code?: number }).code === 409;
      if (!(exists && obj.kind === "Namespace")) {
        throw new Error(`applying ${obj.kind} ${obj.metadata.name} from manifests/ failed: ${(err as Error).message.split("\n")[0]}`);
      }
    }
  }
  for (const name of ["controller", "speaker"] as const) {
    await sim.issueKubeconfig(paths[name], { name: `system:serviceaccount:${installNamespace}:${name}`, groups: serviceAccountGroups(installNamespace) });
  }
}
