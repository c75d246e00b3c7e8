/**
 * The built-in resource types the simulator serves: one entry per resource, the single source
 * for routing, discovery, OpenAPI and Tables.
 *
 * @example
 * const svc = findResource("", "v1", "services"); // { kind: "Service", namespaced: true, ... }
 */
import type { SchemaNode } from "./crd-schema.ts";
import type { PrinterColumn } from "./custom-resource-printer.ts";

export interface ResourceType {
  /** API group; "" for core. */
  group: string;
  version: string;
  kind: string;
  /** Lower-case plural used in URLs, e.g. "services". */
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames?: string[];
  categories?: string[];
  /** Subresources served, e.g. ["status"]. */
  subresources?: string[];
  /** True when the spec/status split applies (main endpoint ignores status; /status changes only status). */
  hasStatus?: boolean;
  /** Custom resources (from CRDs) accept only merge-patch and json-patch, not strategic merge. */
  custom?: boolean;
  /** A custom resource version's `additionalPrinterColumns` (its Table columns after Name). */
  printerColumns?: PrinterColumn[];
  /** A custom resource version's `openAPIV3Schema` (served in OpenAPI v3 for `kubectl explain`). */
  openAPIV3Schema?: SchemaNode;
}

const core = (kind: string, plural: string, namespaced: boolean, extra: Partial<ResourceType> = {}): ResourceType => ({
  group: "",
  version: "v1",
  kind,
  plural,
  singular: kind.toLowerCase(),
  namespaced,
  ...extra,
});

const grouped = (
  group: string,
  version: string,
  kind: string,
  plural: string,
  namespaced: boolean,
  extra: Partial<ResourceType> = {},
): ResourceType => ({ group, version, kind, plural, singular: kind.toLowerCase(), namespaced, ...extra });

/** Every built-in resource. Custom resources are added at run time from stored CRDs. */
export const builtinResources: readonly ResourceType[] = [
  core("Namespace", "namespaces", false, { shortNames: ["ns"], subresources: ["status", "finalize"], hasStatus: true }),
  core("Service", "services", true, { shortNames: ["svc"], categories: ["all"], subresources: ["status"], hasStatus: true }),
  core("Endpoints", "endpoints", true, { shortNames: ["ep"], singular: "endpoints" }),
  core("ConfigMap", "configmaps", true, { shortNames: ["cm"] }),
  core("Secret", "secrets", true),
  core("Node", "nodes", false, { shortNames: ["no"], subresources: ["status"], hasStatus: true }),
  core("Pod", "pods", true, { shortNames: ["po"], categories: ["all"], subresources: ["status"], hasStatus: true }),
  core("Event", "events", true, { shortNames: ["ev"] }),
  core("ServiceAccount", "serviceaccounts", true, { shortNames: ["sa"] }),
  grouped("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", true),
  grouped("coordination.k8s.io", "v1", "Lease", "leases", true),
  grouped("events.k8s.io", "v1", "Event", "events", true, { shortNames: ["ev"] }),
  grouped("apps", "v1", "Deployment", "deployments", true, {
    shortNames: ["deploy"],
    categories: ["all"],
    subresources: ["status"],
    hasStatus: true,
  }),
  grouped("apps", "v1", "DaemonSet", "daemonsets", true, {
    shortNames: ["ds"],
    categories: ["all"],
    subresources: ["status"],
    hasStatus: true,
  }),
  grouped("rbac.authorization.k8s.io", "v1", "Role", "roles", true),
  grouped("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", true),
  grouped("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", false),
  grouped("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", false),
  grouped("apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions", false, {
    shortNames: ["crd", "crds"],
    subresources: ["status"],
    hasStatus: true,
  }),
  grouped("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", true, {
    shortNames: ["pdb"],
    subresources: ["status"],
    hasStatus: true,
  }),
  grouped("admissionregistration.k8s.io", "v1", "ValidatingWebhookConfiguration", "validatingwebhookconfigurations", false),
  grouped("admissionregistration.k8s.io", "v1", "MutatingWebhookConfiguration", "mutatingwebhookconfigurations", false),
];

/** "apps/v1" or "v1" for the core group. */
export function apiVersionOf(r: Pick<ResourceType, "group" | "version">): string {
  return r.group === "" ? r.version : `${r.group}/${r.version}`;
}

/** Object metadata as the simulator stores it (a subset of meta/v1 ObjectMeta, open for the rest). */
export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: unknown[];
  managedFields?: unknown[];
  [key: string]: unknown;
}

/** Any Kubernetes object as JSON. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [key: string]: unknown;
}
