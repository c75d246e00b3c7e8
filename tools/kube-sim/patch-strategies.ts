/**
 * The strategic-merge metadata (`patchStrategy` / `patchMergeKey` struct tags of k8s.io/api and apimachinery
 * 1.32) for the built-in kinds the simulator serves. Only fields that matter are listed: lists that merge
 * (by `mergeKey`, or as sets of primitives when there is none), maps that are replaced whole, and the struct
 * fields that lead to them. Every other list is replaced by the patch and every other map merges key by key.
 *
 * @example
 * patchStrategies.ServiceSpec.ports; // { strategy: "merge", mergeKey: "port" }
 * patchRootOf("Deployment"); // "Deployment"
 */

/** Patch metadata of one field. `type` names the struct (or list element struct) in {@link patchStrategies}. */
export interface PatchField {
  strategy?: "merge" | "replace";
  mergeKey?: string;
  type?: string;
}

const merge = (mergeKey?: string, type?: string): PatchField => ({ strategy: "merge", mergeKey, type });
const conditions = merge("type");
const struct = (type: string): PatchField => ({ type });
const metadata = struct("ObjectMeta");

/** Struct name → field name → metadata. Kind names are struct names too. */
export const patchStrategies: Readonly<Record<string, Readonly<Record<string, PatchField>>>> = {
  ObjectMeta: { finalizers: merge(), ownerReferences: merge("uid") },
  Object: { metadata },

  Service: { metadata, spec: struct("ServiceSpec"), status: struct("ServiceStatus") },
  ServiceSpec: { ports: merge("port") },
  ServiceStatus: { conditions },

  Pod: { metadata, spec: struct("PodSpec"), status: struct("PodStatus") },
  PodTemplateSpec: { metadata, spec: struct("PodSpec") },
  PodSpec: {
    volumes: merge("name"),
    initContainers: merge("name", "Container"),
    containers: merge("name", "Container"),
    ephemeralContainers: merge("name", "Container"),
    imagePullSecrets: merge("name"),
    hostAliases: merge("ip"),
    topologySpreadConstraints: merge("topologyKey"),
    schedulingGates: merge("name"),
    resourceClaims: merge("name"),
  },
  Container: {
    ports: merge("containerPort"),
    env: merge("name"),
    volumeMounts: merge("mountPath"),
    volumeDevices: merge("devicePath"),
  },
  PodStatus: {
    conditions,
    podIPs: merge("ip"),
    hostIPs: merge("ip"),
    resourceClaimStatuses: merge("name"),
  },

  Node: { metadata, spec: struct("NodeSpec"), status: struct("NodeStatus") },
  NodeSpec: { podCIDRs: merge() },
  NodeStatus: { conditions, addresses: merge("type") },

  Namespace: { metadata, status: struct("NamespaceStatus") },
  NamespaceStatus: { conditions },

  ServiceAccount: { metadata, secrets: merge("name") },

  Deployment: { metadata, spec: struct("WorkloadSpec"), status: struct("WorkloadStatus") },
  DaemonSet: { metadata, spec: struct("WorkloadSpec"), status: struct("WorkloadStatus") },
  WorkloadSpec: { template: struct("PodTemplateSpec") },
  WorkloadStatus: { conditions },

  PodDisruptionBudget: { metadata, spec: struct("PodDisruptionBudgetSpec"), status: struct("PodDisruptionBudgetStatus") },
  PodDisruptionBudgetSpec: { selector: { strategy: "replace" } },
  PodDisruptionBudgetStatus: { conditions },

  ValidatingWebhookConfiguration: { metadata, webhooks: merge("name", "Webhook") },
  MutatingWebhookConfiguration: { metadata, webhooks: merge("name", "Webhook") },
  Webhook: { matchConditions: merge("name") },
};

/**
 * The struct a kind's patch starts from: the kind itself when listed (a struct with `metadata`), else "Object"
 * (metadata only).
 *
 * @example
 * patchRootOf("ConfigMap"); // "Object"
 */
export function patchRootOf(kind: string): string {
  return Object.hasOwn(patchStrategies, kind) && patchStrategies[kind].metadata !== undefined ? kind : "Object";
}
