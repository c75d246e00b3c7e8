import { describe, expect, it } from "vitest";
import { nothingLoaded, type ConfigState } from "../../shared/config/config-source.ts";
import { desiredAnnouncements } from "../election/desired-announcements.ts";
import type { MembershipView } from "../cluster/membership-view.ts";
import { projectConfigMap, type ConfigMapObject } from "../../shared/kube/objects/config-map.ts";
import { projectLease } from "../../shared/kube/objects/lease.ts";
import { projectNode } from "../../shared/kube/objects/node.ts";
import { projectService, type ServiceObject } from "../../shared/kube/objects/service.ts";
import { projectSlice } from "./slice-projection.ts";
import { buildSnapshot, strictArpRefusedAnnotation, type CustomResourceObject, type InformerLists } from "./speaker-snapshot.ts";

const pool = "address-pools:\n- name: default\n  protocol: layer2\n  addresses: [192.168.126.40-192.168.126.45]\n";
const opts = { namespace: "metallb-system", configMapName: "config", lbClass: undefined, selfRefused: false, self: "node-1" };

function configMap(data: Record<string, string> | undefined): ConfigMapObject {
  return projectConfigMap({ metadata: { name: "config", namespace: "metallb-system", uid: "cm-1" }, data });
}

function service(name: string, ip: string, labels?: Record<string, string>): ServiceObject {
  return projectService({
    metadata: { name, namespace: "default", uid: `svc-${name}`, labels },
    spec: { type: "LoadBalancer", ports: [{ port: 80 }] },
    status: { loadBalancer: { ingress: [{ ip }] } },
  });
}

function lists(cm: ConfigMapObject | undefined, services: ServiceObject[] = [service("web", "192.168.126.40")]): InformerLists {
  return { services, slices: [], nodes: [projectNode({ metadata: { name: "node-1" } })], leases: [], configMap: cm };
}

function announcedIps(config: ConfigState, l: InformerLists): { ips: string[]; config: ConfigState } {
  const built = buildSnapshot(l, config, opts);
  return { ips: built.snapshot.services.flatMap((s) => [...s.ips]), config: built.config };
}

describe("buildSnapshot", () => {
  it("announces a Service's IP inside the pools in force, and not one outside them", () => {
    const r = announcedIps(nothingLoaded, lists(configMap({ config: pool }), [service("web", "192.168.126.40"), service("other", "10.0.0.1")]));
    expect(r.ips).toEqual(["192.168.126.40"]);
  });

  it.each([
    ["the config key is removed", configMap({})],
    ["the config is emptied", configMap({ config: "" })],
    ["the config is invalid", configMap({ config: "address-pools: [" })],
    ["the ConfigMap is deleted", undefined],
    ["the new config drops the pool a Service's IP comes from", configMap({ config: pool.replace("192.168.126.40-192.168.126.45", "10.9.0.0/24") })],
  ])("keeps announcing the VIP when %s (the last good config stays in force)", (_what, cm) => {
    const first = announcedIps(nothingLoaded, lists(configMap({ config: pool })));
    expect(first.ips).toEqual(["192.168.126.40"]);
    const second = announcedIps(first.config, lists(cm));
    expect(second.ips).toEqual(["192.168.126.40"]);
    expect(second.config.verdict.kind).toMatch(/^kept-because-/);
  });

  it("announces nothing before a first good config", () => {
    expect(announcedIps(nothingLoaded, lists(undefined)).ips).toEqual([]);
  });

  it("reads the strictARP refusal from peers' Leases and from our own check", () => {
    const l = lists(configMap({ config: pool }));
    const leases = [
      { metadata: { name: "speaker-node-2", labels: { "baremetal-lb.io/node": "node-2" }, annotations: { [strictArpRefusedAnnotation]: "true" } } },
      { metadata: { name: "speaker-node-3", labels: { "baremetal-lb.io/node": "node-3" }, annotations: { [strictArpRefusedAnnotation]: "false" } } },
    ].map(projectLease);
    const built = buildSnapshot({ ...l, leases }, nothingLoaded, { ...opts, selfRefused: true });
    expect([...built.snapshot.strictArpRefused].sort()).toEqual(["node-1", "node-2"]);
  });

  it("gives each IP its pool and each Service its labels, and the snapshot the advertisements in force", () => {
    const web = service("web", "192.168.126.40", { app: "web" });
    const { snapshot } = buildSnapshot(lists(configMap({ config: pool }), [web]), nothingLoaded, opts);
    expect(snapshot.services[0]).toMatchObject({ ips: ["192.168.126.40"], pools: ["default"], labels: { app: "web" } });
    expect(snapshot.advertising?.pools.map((p) => p.name)).toEqual(["default"]);
    // The legacy ConfigMap's implicit advertisement: its pools, every node, every interface.
    expect(snapshot.advertising?.advertisements).toMatchObject([{ ipAddressPools: ["default"], nodeSelectors: [], interfaces: [] }]);
  });

  describe("with MetalLB's CRs", () => {
    const crPool = (name: string, addresses: string[]): CustomResourceObject => ({ metadata: { name, namespace: "metallb-system", uid: `pool-${name}` }, spec: { addresses } });
    const crAd = (name: string, spec: Record<string, unknown>): CustomResourceObject => ({ metadata: { name, namespace: "metallb-system", uid: `ad-${name}` }, spec });
    const nodes = [
      { metadata: { name: "node-1", labels: { edge: "false" } } },
      { metadata: { name: "node-2", labels: { edge: "true" } } },
    ].map(projectNode);
    const view = { live: new Set(["node-1", "node-2"]), quorum: true, quorumReason: "2 of 2" } as unknown as MembershipView;
    const webSlice = projectSlice({
      metadata: { name: "web-1", namespace: "default", labels: { "kubernetes.io/service-name": "web" } },
      addressType: "IPv4",
      endpoints: [{ addresses: ["10.1.0.1"], nodeName: "node-1", conditions: { ready: true } }],
    });
    const withCrs = (pools: CustomResourceObject[], ads: CustomResourceObject[], services = [service("web", "10.9.0.5")]): InformerLists => ({
      ...lists(undefined, services),
      slices: [webSlice],
      nodes,
      ipAddressPools: pools,
      l2Advertisements: ads,
    });

    it("announces an IP from an IPAddressPool from the node its L2Advertisement selects, on its interfaces", () => {
      const l = withCrs([crPool("lan", ["10.9.0.0/24"])], [crAd("edge", { ipAddressPools: ["lan"], nodeSelectors: [{ matchLabels: { edge: "true" } }], interfaces: ["eth1"] })]);
      const { snapshot } = buildSnapshot(l, nothingLoaded, opts);
      expect(snapshot.services[0]).toMatchObject({ ips: ["10.9.0.5"], pools: ["lan"] });
      for (const self of ["node-1", "node-2"]) {
        const d = desiredAnnouncements(snapshot, view, self, { ignoreExcludeLb: false });
        expect(d.owners.get("10.9.0.5")).toBe("node-2");
        if (self === "node-2") expect(d.interfaces.get("10.9.0.5")).toEqual(["eth1"]);
      }
    });

    it("assigns but does not announce an IP from a pool that no L2Advertisement selects", () => {
      const l = withCrs([crPool("lan", ["10.9.0.0/24"]), crPool("dmz", ["10.8.0.0/24"])], [crAd("lan-only", { ipAddressPools: ["dmz"] })]);
      const { snapshot } = buildSnapshot(l, nothingLoaded, opts);
      const d = desiredAnnouncements(snapshot, view, "node-1", { ignoreExcludeLb: false });
      expect(d.unadvertised).toEqual(["10.9.0.5"]);
      expect(d.reasons.get("10.9.0.5")).toBe('not announced: no L2Advertisement selects pool "lan"');
    });

    it("decides the same config whatever order the informers list the CRs in", () => {
      const pools = [crPool("a", ["10.9.0.0/25"]), crPool("b", ["10.9.0.128/25"])];
      const ads = [crAd("x", { ipAddressPools: ["a"] }), crAd("y", { ipAddressPools: ["b"], interfaces: ["eth1"] })];
      const forward = buildSnapshot(withCrs(pools, ads), nothingLoaded, opts).snapshot.advertising;
      const backward = buildSnapshot(withCrs([...pools].reverse(), [...ads].reverse()), nothingLoaded, opts).snapshot.advertising;
      expect(backward).toEqual(forward);
    });

    it("with the CRDs not installed (empty lists) the ConfigMap alone counts, as before", () => {
      const l = { ...lists(configMap({ config: pool })), ipAddressPools: [], l2Advertisements: [] };
      const { snapshot, config } = buildSnapshot(l, nothingLoaded, opts);
      expect(config.verdict.kind).toBe("loaded");
      expect(snapshot.services.flatMap((s) => s.ips)).toEqual(["192.168.126.40"]);
      expect(snapshot.advertising?.advertisements).toMatchObject([{ ipAddressPools: ["default"] }]);
    });
  });
});
