import { describe, expect, it } from "vitest";
import type { AllocationRequest } from "./allocation-request.ts";
import { isOurService } from "../shared/kube/service-class.ts";
import { buildAllocationRequest } from "./service-request.ts";
import type { ServiceObject } from "./service-request.ts";

type Spec = NonNullable<ServiceObject["spec"]>;

function service(annotations: Record<string, string> = {}, spec: Spec = {}): ServiceObject {
  return {
    metadata: { namespace: "default", name: "web", annotations },
    spec: { type: "LoadBalancer", ports: [{ protocol: "TCP", port: 80 }], selector: { app: "web" }, ...spec },
  };
}

function requestOf(svc: ServiceObject): AllocationRequest {
  const result = buildAllocationRequest(svc);
  if (!result.ok) throw new Error(result.error);
  return result.request;
}

function errorOf(svc: ServiceObject): string {
  const result = buildAllocationRequest(svc);
  return result.ok ? "no error" : result.error;
}

const IPS = "metallb.universe.tf/loadBalancerIPs";

describe("buildAllocationRequest", () => {
  it("builds the defaults of a plain LoadBalancer Service", () => {
    expect(requestOf(service())).toEqual({
      namespace: "default",
      ipFamilies: [4],
      ipFamilyPolicy: "SingleStack",
      requestedIps: [],
      ports: [{ protocol: "TCP", port: 80 }],
      externalTrafficPolicy: "Cluster",
      selector: { app: "web" },
      serviceLabels: {},
      namespaceLabels: undefined,
    });
  });

  it("carries the Service's labels and, when given, its Namespace's labels", () => {
    const svc: ServiceObject = { ...service(), metadata: { namespace: "shop", name: "web", labels: { app: "web", tier: "fe" } } };
    expect(requestOf(svc)).toMatchObject({ serviceLabels: { app: "web", tier: "fe" }, namespaceLabels: undefined });
    const result = buildAllocationRequest(svc, { team: "a", "kubernetes.io/metadata.name": "shop" });
    expect(result.ok && result.request).toMatchObject({
      namespace: "shop",
      serviceLabels: { app: "web", tier: "fe" },
      namespaceLabels: { team: "a", "kubernetes.io/metadata.name": "shop" },
    });
  });

  it("reads null labels as none", () => {
    expect(requestOf({ ...service(), metadata: { namespace: "default", name: "web", labels: null } }).serviceLabels).toEqual({});
  });

  it("reads every field and annotation", () => {
    const svc = service(
      {
        "metallb.universe.tf/address-pool": "lan",
        "metallb.universe.tf/allow-shared-ip": "dns",
        [IPS]: "10.0.0.5, fd00::5",
      },
      {
        ipFamilies: ["IPv6", "IPv4"],
        ipFamilyPolicy: "RequireDualStack",
        ports: [{ protocol: "UDP", port: 53 }, { port: 53 }],
        externalTrafficPolicy: "Local",
        selector: { app: "dns" },
      },
    );
    expect(requestOf(svc)).toEqual({
      namespace: "default",
      ipFamilies: [6, 4],
      ipFamilyPolicy: "RequireDualStack",
      requestedIps: [
        { family: 4, value: 0x0a000005n },
        { family: 6, value: 0xfd000000000000000000000000000005n },
      ],
      pool: "lan",
      sharingKey: "dns",
      ports: [
        { protocol: "UDP", port: 53 },
        { protocol: "TCP", port: 53 },
      ],
      externalTrafficPolicy: "Local",
      selector: { app: "dns" },
      serviceLabels: {},
      namespaceLabels: undefined,
    });
  });

  it.each<[string, Record<string, string>, Partial<AllocationRequest>]>([
    ["the metallb.io/ prefix", { "metallb.io/address-pool": "lan", "metallb.io/allow-shared-ip": "k" }, { pool: "lan", sharingKey: "k" }],
    ["both prefixes with equal values", { "metallb.io/address-pool": "lan", "metallb.universe.tf/address-pool": "lan" }, { pool: "lan" }],
    ["empty annotations as unset", { "metallb.universe.tf/address-pool": "", "metallb.universe.tf/allow-shared-ip": "" }, {}],
  ])("accepts %s", (_name, annotations, expected) => {
    const request = requestOf(service(annotations));
    expect({ pool: request.pool, sharingKey: request.sharingKey }).toEqual({ pool: expected.pool, sharingKey: expected.sharingKey });
  });

  it.each<[string, Spec, Record<string, string>, { family: number; value: bigint }[], number[]]>([
    ["spec.loadBalancerIP", { loadBalancerIP: "10.0.0.7" }, {}, [{ family: 4, value: 0x0a000007n }], [4]],
    ["the annotation under metallb.io/", {}, { "metallb.io/loadBalancerIPs": "fd00::7" }, [{ family: 6, value: 0xfd000000000000000000000000000007n }], [6]],
    ["an empty spec.loadBalancerIP as unset", { loadBalancerIP: "" }, {}, [], [4]],
  ])("reads requested IPs from %s and defaults ipFamilies from them", (_name, spec, annotations, ips, families) => {
    const request = requestOf(service(annotations, spec));
    expect([request.requestedIps, request.ipFamilies]).toEqual([ips, families]);
  });

  it.each<[string, ServiceObject, string]>([
    ["both spec.loadBalancerIP and the annotation", service({ [IPS]: "10.0.0.1" }, { loadBalancerIP: "10.0.0.2" }), `service default/web: sets both spec.loadBalancerIP and ${IPS}; remove one`],
    [
      "both spec.loadBalancerIP and the metallb.io/ annotation",
      service({ "metallb.io/loadBalancerIPs": "10.0.0.1" }, { loadBalancerIP: "10.0.0.1" }),
      "service default/web: sets both spec.loadBalancerIP and metallb.io/loadBalancerIPs; remove one",
    ],
    [
      "two IPv4 addresses",
      service({ [IPS]: "10.0.0.1,10.0.0.2" }),
      `service default/web: ${IPS} lists two IPv4 addresses (10.0.0.1, 10.0.0.2); list at most one IPv4 and one IPv6`,
    ],
    [
      "three addresses",
      service({ [IPS]: "10.0.0.1,fd00::1,10.0.0.2" }),
      `service default/web: ${IPS} lists 3 addresses (10.0.0.1, fd00::1, 10.0.0.2); list at most one IPv4 and one IPv6`,
    ],
    ["an invalid IP in the list", service({ [IPS]: "10.0.0.1, 10.0.0.300" }), `service default/web: ${IPS}: "10.0.0.300" is not a valid IP address (octet 300 > 255)`],
    ["an empty list entry", service({ [IPS]: "10.0.0.1," }), `service default/web: ${IPS} "10.0.0.1," has an empty entry; separate IPs with single commas`],
    ["an invalid spec.loadBalancerIP", service({}, { loadBalancerIP: "10.0.0" }), 'service default/web: spec.loadBalancerIP "10.0.0" is not a valid IP address (expected 4 dot-separated octets, found 3)'],
    [
      "different values under both prefixes",
      service({ "metallb.universe.tf/address-pool": "a", "metallb.io/address-pool": "b" }),
      'service default/web: metallb.universe.tf/address-pool is "a" but metallb.io/address-pool is "b"; remove one or make them equal',
    ],
    [
      "different sharing keys under both prefixes",
      service({ "metallb.universe.tf/allow-shared-ip": "x", "metallb.io/allow-shared-ip": "y" }),
      'service default/web: metallb.universe.tf/allow-shared-ip is "x" but metallb.io/allow-shared-ip is "y"; remove one or make them equal',
    ],
    ["an unknown IP family", service({}, { ipFamilies: ["IPv5"] }), 'service default/web: spec.ipFamilies has unknown family "IPv5"; use IPv4 or IPv6'],
    [
      "an unknown family policy",
      service({}, { ipFamilyPolicy: "DualStack" }),
      'service default/web: spec.ipFamilyPolicy "DualStack" is unknown; use SingleStack, PreferDualStack, RequireDualStack',
    ],
    ["an unknown port protocol", service({}, { ports: [{ protocol: "ICMP", port: 1 }] }), 'service default/web: spec.ports[0].protocol "ICMP" is unknown; use TCP, UDP or SCTP'],
    ["a port out of range", service({}, { ports: [{ protocol: "TCP", port: 70000 }] }), "service default/web: spec.ports[0].port 70000 is not a port number from 1 to 65535"],
    ["an unknown traffic policy", service({}, { externalTrafficPolicy: "Nearest" }), 'service default/web: spec.externalTrafficPolicy "Nearest" is unknown; use Cluster or Local'],
    ["a Service without a name", { metadata: {}, spec: { type: "LoadBalancer" } }, "service without metadata.name; give it a name"],
  ])("refuses %s", (_name, svc, error) => {
    expect(errorOf(svc)).toBe(error);
  });
});

describe("isOurService", () => {
  it.each<[string, Spec, string | undefined, boolean]>([
    ["a LoadBalancer without class, no --lb-class", { type: "LoadBalancer" }, undefined, true],
    ["a LoadBalancer with a class, no --lb-class", { type: "LoadBalancer", loadBalancerClass: "other" }, undefined, false],
    ["a LoadBalancer with our class", { type: "LoadBalancer", loadBalancerClass: "ours" }, "ours", true],
    ["a LoadBalancer with another class", { type: "LoadBalancer", loadBalancerClass: "other" }, "ours", false],
    ["a LoadBalancer without class when --lb-class is set", { type: "LoadBalancer" }, "ours", false],
    ["a NodePort Service", { type: "NodePort" }, undefined, false],
    ["a ClusterIP Service with our class", { type: "ClusterIP", loadBalancerClass: "ours" }, "ours", false],
  ])("%s: %s", (_name, spec, lbClass, expected) => {
    expect(isOurService({ metadata: { name: "x" }, spec }, lbClass)).toBe(expected);
  });
});
