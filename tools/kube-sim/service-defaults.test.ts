import { afterEach, describe, expect, it } from "vitest";
import { ApiError } from "./api-error.ts";
import type { KubeObject } from "./resources.ts";
import { inServiceRange } from "./service-allocator.ts";
import { createSimulatedCluster, type SimulatedCluster } from "./simulated-cluster.ts";

let cluster: SimulatedCluster;
afterEach(() => cluster?.stop());

interface Spec {
  type: string;
  clusterIP: string;
  clusterIPs: string[];
  ipFamilies: string[];
  ipFamilyPolicy: string;
  ports: { name?: string; port: number; protocol: string; targetPort: number | string; nodePort?: number }[];
  externalTrafficPolicy?: string;
  internalTrafficPolicy?: string;
  sessionAffinity: string;
  allocateLoadBalancerNodePorts?: boolean;
  healthCheckNodePort?: number;
  loadBalancerClass?: string;
}

function create(spec: Record<string, unknown>, name = "web"): KubeObject & { spec: Spec } {
  cluster ??= createSimulatedCluster({ endpointsController: false });
  return cluster.state.create(cluster.types.services, "default", { metadata: { name }, spec }).object as KubeObject & { spec: Spec };
}

function update(obj: KubeObject, sub?: "status"): KubeObject & { spec: Spec } {
  return cluster.state.update(cluster.types.services, "default", obj.metadata.name!, obj, sub).object.object as KubeObject & { spec: Spec };
}

function causes(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof ApiError && e.code === 422) return e.status.details!.causes!.map((c) => `${c.field}: ${c.message}`);
    throw e;
  }
  throw new Error("expected 422 Invalid, but the write succeeded");
}

function fresh(): void {
  cluster?.stop();
  cluster = createSimulatedCluster({ endpointsController: false });
}

describe("Service defaulting", () => {
  it("defaults a ClusterIP Service like kube-apiserver", () => {
    fresh();
    const s = create({ ports: [{ port: 80 }] });
    expect(s.spec).toMatchObject({
      type: "ClusterIP",
      sessionAffinity: "None",
      internalTrafficPolicy: "Cluster",
      ipFamilies: ["IPv4"],
      ipFamilyPolicy: "SingleStack",
      ports: [{ port: 80, protocol: "TCP", targetPort: 80 }],
    });
    expect(s.spec.clusterIPs).toEqual([s.spec.clusterIP]);
    expect(inServiceRange(s.spec.clusterIP) && s.spec.clusterIP.startsWith("10.")).toBe(true);
    expect(s.spec.ports[0].nodePort).toBeUndefined();
    expect(s.spec.externalTrafficPolicy).toBeUndefined();
    expect(s.status).toEqual({ loadBalancer: {} });
  });

  it("allocates node ports and the Cluster traffic policy for LoadBalancer Services", () => {
    fresh();
    const s = create({ type: "LoadBalancer", ports: [{ name: "dns", port: 53, protocol: "UDP" }, { name: "dns-tcp", port: 53, protocol: "TCP" }] });
    const [udp, tcp] = s.spec.ports.map((p) => p.nodePort!);
    expect(udp).toBeGreaterThanOrEqual(30000);
    expect(udp).toBeLessThanOrEqual(32767);
    expect(tcp).toBe(udp); // one node port per port number, shared across protocols
    expect(s.spec).toMatchObject({ externalTrafficPolicy: "Cluster", allocateLoadBalancerNodePorts: true });
  });

  it("skips node ports when allocateLoadBalancerNodePorts is false and adds a health check port for Local", () => {
    fresh();
    const s = create({ type: "LoadBalancer", allocateLoadBalancerNodePorts: false, externalTrafficPolicy: "Local", ports: [{ port: 80 }] });
    expect(s.spec.ports[0].nodePort).toBeUndefined();
    expect(s.spec.healthCheckNodePort).toBeGreaterThanOrEqual(30000);
  });

  it("allocates IPv6 and dual-stack cluster IPs when asked", () => {
    fresh();
    const v6 = create({ ipFamilies: ["IPv6"], ports: [{ port: 80 }] }, "v6");
    expect(v6.spec.clusterIP).toMatch(/^fd00:10:96::/);
    expect(inServiceRange(v6.spec.clusterIP)).toBe(true);
    const dual = create({ ipFamilyPolicy: "PreferDualStack", ports: [{ port: 80 }] }, "dual");
    expect(dual.spec.ipFamilies).toEqual(["IPv4", "IPv6"]);
    expect(dual.spec.clusterIPs).toHaveLength(2);
    expect(dual.spec.clusterIPs[1]).toMatch(/^fd00:10:96::/);
  });

  it("keeps headless Services headless and allows them without ports", () => {
    fresh();
    const s = create({ clusterIP: "None", selector: { app: "db" } });
    expect(s.spec).toMatchObject({ clusterIP: "None", clusterIPs: ["None"] });
  });

  it("never hands out the same cluster IP or node port twice", () => {
    fresh();
    const ips = new Set<string>();
    const ports = new Set<number>();
    for (let i = 0; i < 300; i++) {
      const s = create({ type: "NodePort", ports: [{ port: 80 }] }, `s${i}`);
      ips.add(s.spec.clusterIP);
      ports.add(s.spec.ports[0].nodePort!);
    }
    expect(ips.size).toBe(300);
    expect(ports.size).toBe(300);
  });

  it("keeps allocated values on an update that omits them, and drops node ports when the type no longer needs them", () => {
    fresh();
    const s = create({ type: "LoadBalancer", ports: [{ port: 80 }] });
    const replaced = update({ ...s, spec: { type: "LoadBalancer", ports: [{ port: 80 }] } });
    expect(replaced.spec.clusterIP).toBe(s.spec.clusterIP);
    expect(replaced.spec.ports[0].nodePort).toBe(s.spec.ports[0].nodePort);
    const asClusterIP = update({ ...replaced, spec: { ...replaced.spec, type: "ClusterIP" } });
    expect(asClusterIP.spec.ports[0].nodePort).toBeUndefined();
    expect(asClusterIP.spec.externalTrafficPolicy).toBeUndefined();
    expect(asClusterIP.spec.allocateLoadBalancerNodePorts).toBeUndefined();
    const back = update({ ...asClusterIP, spec: { ...asClusterIP.spec, type: "NodePort" } });
    expect(back.spec.ports[0].nodePort).toBeGreaterThanOrEqual(30000);
  });

  it("defaults status ipMode to VIP for ingress with an IP", () => {
    fresh();
    const s = create({ type: "LoadBalancer", ports: [{ port: 80 }] });
    const st = update({ ...s, status: { loadBalancer: { ingress: [{ ip: "192.0.2.5" }, { hostname: "lb.example.com" }] } } }, "status");
    expect(st.status).toEqual({ loadBalancer: { ingress: [{ ip: "192.0.2.5", ipMode: "VIP" }, { hostname: "lb.example.com" }] } });
  });
});

describe("Service validation", () => {
  for (const type of ["LoadBalancer", "NodePort", "ClusterIP"]) {
    it(`requires ports on a ${type} Service`, () => {
      fresh();
      expect(causes(() => create({ type }))).toEqual(["spec.ports: Required value"]);
    });
  }

  it("refuses duplicate ports, bad port numbers and a node port on ClusterIP", () => {
    fresh();
    expect(causes(() => create({ ports: [{ name: "a", port: 80 }, { name: "b", port: 80 }] }))).toEqual(['spec.ports[1]: Duplicate value: {"port":80,"protocol":"TCP"}']);
    expect(causes(() => create({ ports: [{ port: 0 }] }))).toContain("spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive");
    expect(causes(() => create({ ports: [{ port: 70000 }] }))).toContain("spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive");
    expect(causes(() => create({ ports: [{ port: 80 }, { port: 81 }] }))).toEqual(["spec.ports[0].name: Required value", "spec.ports[1].name: Required value"]);
    expect(causes(() => create({ ports: [{ port: 80, nodePort: 30080 }] }))).toEqual(["spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"]);
    expect(causes(() => create({ type: "NodePort", ports: [{ port: 80, nodePort: 80 }] }))).toEqual([
      "spec.ports[0].nodePort: Invalid value: 80: provided port is not in the valid range. The range of valid ports is 30000-32767",
    ]);
    expect(causes(() => create({ ports: [{ port: 80, protocol: "HTTP" }] }))).toEqual([
      'spec.ports[0].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"',
    ]);
  });

  it("refuses cluster IPs and node ports that are out of range or taken", () => {
    fresh();
    const a = create({ type: "NodePort", ports: [{ port: 80 }] }, "a");
    expect(causes(() => create({ clusterIP: "192.168.1.1", ports: [{ port: 80 }] }, "b"))).toEqual([
      'spec.clusterIPs[0]: Invalid value: "192.168.1.1": provided IP is not in the valid range. The range of valid IPs is 10.96.0.0/12',
    ]);
    expect(causes(() => create({ clusterIP: a.spec.clusterIP, ports: [{ port: 80 }] }, "b"))).toEqual([
      `spec.clusterIPs[0]: Invalid value: "${a.spec.clusterIP}": provided IP is already allocated`,
    ]);
    expect(causes(() => create({ type: "NodePort", ports: [{ port: 80, nodePort: a.spec.ports[0].nodePort }] }, "b"))).toEqual([
      `spec.ports[0].nodePort: Invalid value: ${a.spec.ports[0].nodePort}: provided port is already allocated`,
    ]);
    expect(create({ clusterIP: "10.96.0.50", ports: [{ port: 80 }] }, "c").spec.clusterIP).toBe("10.96.0.50");
  });

  it("refuses an invalid loadBalancerIP and loadBalancerIP on other types", () => {
    fresh();
    expect(causes(() => create({ type: "LoadBalancer", loadBalancerIP: "10.0.0.300", ports: [{ port: 80 }] }))).toEqual([
      'spec.loadBalancerIP: Invalid value: "10.0.0.300": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)',
    ]);
    expect(causes(() => create({ loadBalancerIP: "10.0.0.3", ports: [{ port: 80 }] }))).toEqual([
      "spec.loadBalancerIP: Forbidden: may only be used when `type` is 'LoadBalancer'",
    ]);
  });

  it("makes loadBalancerClass immutable once the Service is a LoadBalancer", () => {
    fresh();
    const s = create({ type: "LoadBalancer", loadBalancerClass: "example.com/lb", ports: [{ port: 80 }] });
    expect(causes(() => update({ ...s, spec: { ...s.spec, loadBalancerClass: "example.com/other" } }))).toEqual([
      'spec.loadBalancerClass: Invalid value: "example.com/other": may not change once set',
    ]);
    expect(causes(() => update({ ...s, spec: { ...s.spec, loadBalancerClass: undefined } }))).toEqual([
      "spec.loadBalancerClass: Invalid value: null: may not change once set",
    ]);
    expect(causes(() => create({ loadBalancerClass: "example.com/lb", ports: [{ port: 80 }] }, "c"))).toEqual([
      "spec.loadBalancerClass: Forbidden: may only be used when `type` is 'LoadBalancer'",
    ]);
  });

  it("makes the cluster IP immutable", () => {
    fresh();
    const s = create({ ports: [{ port: 80 }] });
    const other = s.spec.clusterIP === "10.96.0.77" ? "10.96.0.78" : "10.96.0.77";
    expect(causes(() => update({ ...s, spec: { ...s.spec, clusterIP: other, clusterIPs: [other] } }))).toEqual([
      `spec.clusterIPs[0]: Invalid value: ["${other}"]: may not change once set`,
    ]);
  });

  it("validates load-balancer status: IPs, ipMode values, ipMode without ip, ingress on other types", () => {
    fresh();
    const lb = create({ type: "LoadBalancer", ports: [{ port: 80 }] }, "lb");
    const withIngress = (s: KubeObject, ingress: unknown[]) => update({ ...s, status: { loadBalancer: { ingress } } }, "status");
    expect(causes(() => withIngress(lb, [{ ip: "not-an-ip" }]))).toEqual([
      'status.loadBalancer.ingress[0].ip: Invalid value: "not-an-ip": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)',
    ]);
    expect(causes(() => withIngress(lb, [{ ip: "192.0.2.1", ipMode: "Bogus" }]))).toEqual([
      'status.loadBalancer.ingress[0].ipMode: Unsupported value: "Bogus": supported values: "Proxy", "VIP"',
    ]);
    expect(causes(() => withIngress(lb, [{ hostname: "a.example.com", ipMode: "VIP" }]))).toEqual([
      "status.loadBalancer.ingress[0].ipMode: Forbidden: may not be specified when `ip` is not set",
    ]);
    expect(withIngress(lb, [{ ip: "2001:db8::1", ipMode: "Proxy" }]).status).toEqual({ loadBalancer: { ingress: [{ ip: "2001:db8::1", ipMode: "Proxy" }] } });
    const cip = create({ ports: [{ port: 80 }] }, "cip");
    expect(causes(() => withIngress(cip, [{ ip: "192.0.2.1" }]))).toEqual([
      "status.loadBalancer.ingress: Forbidden: may only be used when `spec.type` is 'LoadBalancer'",
    ]);
  });
});
