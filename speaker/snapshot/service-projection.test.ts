import { describe, expect, it } from "vitest";
import { heldIpsOf } from "../../shared/config/config-source.ts";
import { isOurService } from "../../shared/kube/service-class.ts";
import { projectSpeakerService } from "./service-projection.ts";

const lbService = {
  metadata: {
    name: "web",
    namespace: "shop",
    uid: "u-1",
    resourceVersion: "42",
    creationTimestamp: "2026-01-01T00:00:00Z",
    labels: { app: "web" },
    annotations: { "metallb.io/address-pool": "lan", "metallb.io/loadBalancerIPs": "10.0.0.5", "kubectl.kubernetes.io/last-applied-configuration": "{…}" },
    managedFields: [{ manager: "kubectl" }],
  },
  spec: { type: "LoadBalancer", externalTrafficPolicy: "Local", ports: [{ port: 80, protocol: "TCP" }], selector: { app: "web" }, ipFamilies: ["IPv4"] },
  status: { loadBalancer: { ingress: [{ ip: "10.0.0.5", ipMode: "VIP" }] } },
};

describe("projectSpeakerService", () => {
  it("keeps what the speaker reads of a LoadBalancer Service, and nothing else", () => {
    expect(projectSpeakerService(lbService)).toEqual({
      metadata: { name: "web", namespace: "shop", uid: "u-1", resourceVersion: "42", labels: { app: "web" }, annotations: { "metallb.io/address-pool": "lan" } },
      spec: { type: "LoadBalancer", externalTrafficPolicy: "Local" },
      status: { loadBalancer: { ingress: [{ ip: "10.0.0.5" }] } },
    });
  });

  it("reads the same as the shared projection for the class filter and the held IPs", () => {
    const p = projectSpeakerService(lbService);
    expect(isOurService(p)).toBe(true);
    expect(isOurService(projectSpeakerService({ ...lbService, spec: { ...lbService.spec, loadBalancerClass: "other" } }))).toBe(false);
    expect(heldIpsOf(p)).toEqual({ service: "shop/web", ips: ["10.0.0.5"], pool: "lan" });
  });

  it("keeps only name, namespace, resourceVersion and type of any other Service", () => {
    expect(projectSpeakerService({ ...lbService, spec: { type: "ClusterIP", selector: { app: "web" } }, status: {} })).toEqual({
      metadata: { name: "web", namespace: "shop", resourceVersion: "42" },
      spec: { type: "ClusterIP" },
      status: {},
    });
  });

  it("survives JSON that is not a Service", () => {
    expect(projectSpeakerService(null)).toEqual({ metadata: {}, spec: {}, status: {} });
    expect(projectSpeakerService({ spec: { type: "LoadBalancer" }, status: { loadBalancer: { ingress: [{ hostname: "lb.example" }] } } })).toEqual({
      metadata: {},
      spec: { type: "LoadBalancer" },
      status: { loadBalancer: { ingress: [{}] } },
    });
  });
});
