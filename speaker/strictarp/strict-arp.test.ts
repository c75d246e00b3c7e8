import { describe, expect, it } from "vitest";
import {
  STRICT_ARP_FIX,
  STRICT_ARP_RESTART_FIX,
  effectiveArpSysctls,
  parseKubeProxyConfig,
  strictArpVerdict,
  type ArpSysctls,
} from "./strict-arp.ts";

const s = (arpIgnore: number, arpAnnounce: number): ArpSysctls => ({ arpIgnore, arpAnnounce });
const DEFAULTS = { all: s(0, 0), interfaces: { eth0: s(0, 0) } };
const STRICT = { all: s(1, 2), interfaces: { eth0: s(0, 0) } }; // what kube-proxy strictARP sets

describe("parseKubeProxyConfig", () => {
  it("reads mode and ipvs.strictARP from a kubeadm config.conf", () => {
    const text = [
      "apiVersion: kubeproxy.config.k8s.io/v1alpha1",
      "kind: KubeProxyConfiguration",
      "bindAddress: 0.0.0.0",
      "ipvs:",
      "  excludeCIDRs: null",
      "  scheduler: \"\"",
      "  strictARP: true",
      "  syncPeriod: 0s",
      "mode: ipvs",
      "",
    ].join("\n");
    expect(parseKubeProxyConfig(text)).toEqual({ ok: true, config: { mode: "ipvs", strictARP: true } });
  });

  it.each([
    ["mode: \"\"\n", { mode: "", strictARP: false }],
    ["mode: iptables\nipvs:\n  strictARP: false\n", { mode: "iptables", strictARP: false }],
    ["mode: nftables\n", { mode: "nftables", strictARP: false }],
    ["kind: KubeProxyConfiguration\n", { mode: "", strictARP: false }],
    ["", { mode: "", strictARP: false }],
  ])("defaults what is missing in %j", (text, config) => {
    expect(parseKubeProxyConfig(text)).toEqual({ ok: true, config });
  });

  it.each([
    ["mode: [ipvs", /^kube-proxy ConfigMap config.conf is not valid YAML: /],
    ["- mode: ipvs\n", /^kube-proxy ConfigMap config.conf is not a YAML mapping/],
    ["mode: userspace\n", /^kube-proxy ConfigMap config.conf: mode "userspace" is not one of "", "iptables", "ipvs", "nftables"$/],
    ["mode: ipvs\nipvs: yes\n", /^kube-proxy ConfigMap config.conf: ipvs is not a mapping$/],
    ["mode: ipvs\nipvs:\n  strictARP: \"true\"\n", /^kube-proxy ConfigMap config.conf: ipvs.strictARP "true" is not true or false$/],
  ])("says what is wrong with %j", (text, error) => {
    const r = parseKubeProxyConfig(text);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toMatch(error);
  });
});

describe("effectiveArpSysctls", () => {
  it("takes the larger of all and the interface for each sysctl", () => {
    expect(effectiveArpSysctls(s(1, 0), s(0, 2))).toEqual(s(1, 2));
    expect(effectiveArpSysctls(s(0, 0), s(2, 1))).toEqual(s(2, 1));
  });
});

describe("strictArpVerdict", () => {
  it("IPVS without strictARP: not ok, names the interface, gives the exact fix", () => {
    expect(strictArpVerdict({ proxyModeEndpoint: "ipvs", sysctls: DEFAULTS })).toEqual({
      ok: false,
      mode: "ipvs",
      reason:
        "kube-proxy runs in IPVS mode without strictARP: effective arp_ignore < 1 on eth0 (arp_ignore=0), " +
        "so this node's kernel answers ARP for every LoadBalancer IP bound to kube-ipvs0",
      fix: STRICT_ARP_FIX,
      interfaces: ["eth0"],
    });
    expect(STRICT_ARP_FIX).toBe(
      "edit the kube-proxy ConfigMap: kubectl -n kube-system edit configmap kube-proxy, and under config.conf set ipvs.strictARP: true; " +
        "then restart kube-proxy: kubectl -n kube-system rollout restart daemonset kube-proxy",
    );
  });

  it("IPVS with strictARP applied through net.ipv4.conf.all: ok", () => {
    expect(strictArpVerdict({ proxyModeEndpoint: "ipvs", sysctls: STRICT })).toEqual({
      ok: true,
      mode: "ipvs",
      detail: "kube-proxy mode ipvs, strictARP in effect (arp_ignore >= 1 on eth0)",
    });
  });

  it("IPVS with arp_ignore set on the interface alone: ok for that interface, not for another", () => {
    const v = strictArpVerdict({ proxyModeEndpoint: "ipvs", sysctls: { all: s(0, 2), interfaces: { eth0: s(1, 0), eth1: s(0, 0) } } });
    expect(v).toMatchObject({ ok: false, interfaces: ["eth1"] });
  });

  it("IPVS, ConfigMap says strictARP: true but the kernel disagrees: tells to restart kube-proxy", () => {
    const v = strictArpVerdict({ configMap: { mode: "ipvs", strictARP: true }, sysctls: DEFAULTS });
    expect(v).toMatchObject({ ok: false, fix: STRICT_ARP_RESTART_FIX });
    expect(!v.ok && v.reason).toContain("ConfigMap sets ipvs.strictARP: true, but it is not in effect on eth0 (arp_ignore=0)");
  });

  it("IPVS with arp_ignore but not arp_announce: ok, with a warning", () => {
    const v = strictArpVerdict({ proxyModeEndpoint: "ipvs", sysctls: { all: s(1, 0), interfaces: { eth0: s(0, 1) } } });
    expect(v.ok).toBe(true);
    expect(v.ok && v.warning).toMatch(/^arp_announce < 2 on eth0 \(arp_announce=1\): /);
  });

  it("iptables or nftables: ok whatever the sysctls", () => {
    expect(strictArpVerdict({ proxyModeEndpoint: "iptables", sysctls: DEFAULTS })).toEqual({ ok: true, mode: "iptables", detail: "kube-proxy mode iptables: no strictARP needed" });
    expect(strictArpVerdict({ configMap: { mode: "nftables", strictARP: false }, sysctls: DEFAULTS }).ok).toBe(true);
  });

  it("an empty ConfigMap mode means iptables", () => {
    expect(strictArpVerdict({ configMap: { mode: "", strictARP: false }, sysctls: DEFAULTS })).toMatchObject({ ok: true, mode: "iptables" });
  });

  it("trusts the running kube-proxy's /proxyMode over the ConfigMap", () => {
    expect(strictArpVerdict({ proxyModeEndpoint: "ipvs\n", configMap: { mode: "iptables", strictARP: false }, sysctls: DEFAULTS }).ok).toBe(false);
    expect(strictArpVerdict({ proxyModeEndpoint: "iptables", configMap: { mode: "ipvs", strictARP: false }, sysctls: DEFAULTS }).ok).toBe(true);
  });

  it("with no kube-proxy to ask, kube-ipvs0 on the node means IPVS", () => {
    expect(strictArpVerdict({ kubeIpvs0Present: true, sysctls: DEFAULTS })).toMatchObject({ ok: false, mode: "ipvs" });
    expect(strictArpVerdict({ kubeIpvs0Present: false, sysctls: DEFAULTS })).toMatchObject({ ok: true, mode: "unknown" });
  });

  it("with no announcing interface, judges net.ipv4.conf.all", () => {
    expect(strictArpVerdict({ proxyModeEndpoint: "ipvs", sysctls: { all: s(0, 0), interfaces: {} } })).toMatchObject({ ok: false, interfaces: ["all"] });
    expect(strictArpVerdict({ proxyModeEndpoint: "ipvs", sysctls: { all: s(1, 2), interfaces: {} } }).ok).toBe(true);
  });
});
