import type { V1ConfigMap, V1Service } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { nothingLoaded, type ConfigState } from "../shared/config/config-source.ts";
import { buildSnapshot, strictArpRefusedAnnotation, type InformerLists } from "./speaker-snapshot.ts";

const pool = "address-pools:\n- name: default\n  protocol: layer2\n  addresses: [192.168.126.40-192.168.126.45]\n";
const opts = { namespace: "metallb-system", configMapName: "config", lbClass: undefined, selfRefused: false, self: "node-1" };

function configMap(data: Record<string, string> | undefined): V1ConfigMap {
  return { metadata: { name: "config", namespace: "metallb-system", uid: "cm-1" }, data };
}

function service(name: string, ip: string): V1Service {
  return {
    metadata: { name, namespace: "default", uid: `svc-${name}` },
    spec: { type: "LoadBalancer", ports: [{ port: 80 }] },
    status: { loadBalancer: { ingress: [{ ip }] } },
  };
}

function lists(cm: V1ConfigMap | undefined, services: V1Service[] = [service("web", "192.168.126.40")]): InformerLists {
  return { services, slices: [], nodes: [{ metadata: { name: "node-1" } }], leases: [], configMap: cm };
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
    ];
    const built = buildSnapshot({ ...l, leases }, nothingLoaded, { ...opts, selfRefused: true });
    expect([...built.snapshot.strictArpRefused].sort()).toEqual(["node-1", "node-2"]);
  });
});
