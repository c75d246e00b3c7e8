/**
 * The Kubernetes resource types baremetal-lb reads or writes, each as its apiVersion and plural:
 * one place that spells them, for the API client's paths, the informers and RBAC tests.
 *
 * @example
 * api.get({ ...leases, namespace: "metallb-system", name: "metallb-controller" });
 */

/** A resource type: `apiVersion` as in objects ("v1", "coordination.k8s.io/v1") and the URL plural. */
export interface ResourceType {
  readonly apiVersion: string;
  readonly plural: string;
}

export const METALLB_GROUP = "metallb.io";
export const METALLB_VERSION = "v1beta1";

export const services: ResourceType = { apiVersion: "v1", plural: "services" };
export const configMaps: ResourceType = { apiVersion: "v1", plural: "configmaps" };
export const nodes: ResourceType = { apiVersion: "v1", plural: "nodes" };
export const namespaces: ResourceType = { apiVersion: "v1", plural: "namespaces" };
export const secrets: ResourceType = { apiVersion: "v1", plural: "secrets" };
export const events: ResourceType = { apiVersion: "v1", plural: "events" };
export const endpointSlices: ResourceType = { apiVersion: "discovery.k8s.io/v1", plural: "endpointslices" };
export const leases: ResourceType = { apiVersion: "coordination.k8s.io/v1", plural: "leases" };
export const ipAddressPools: ResourceType = { apiVersion: `${METALLB_GROUP}/${METALLB_VERSION}`, plural: "ipaddresspools" };
export const l2Advertisements: ResourceType = { apiVersion: `${METALLB_GROUP}/${METALLB_VERSION}`, plural: "l2advertisements" };
export const serviceL2Statuses: ResourceType = { apiVersion: `${METALLB_GROUP}/${METALLB_VERSION}`, plural: "servicel2statuses" };
