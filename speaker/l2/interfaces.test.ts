import { describe, expect, it } from "vitest";
import { DEFAULT_EXCLUDE_PATTERNS, interfacesForVip, parseExcludePatterns, selectInterfaces, type InterfaceInfo } from "./interfaces.ts";

const UP_BROADCAST = { up: true, broadcast: true, loopback: false, noarp: false, slave: false };

function iface(name: string, over: Partial<InterfaceInfo> = {}, addresses: string[] = []): InterfaceInfo {
  return {
    name,
    index: 0,
    mac: "02:00:00:00:00:01",
    flags: UP_BROADCAST,
    addresses: addresses.map((cidr) => {
      const [address, prefix] = cidr.split("/");
      return { family: address.includes(":") ? 6 : 4, address, prefixLength: Number(prefix) };
    }),
    ...over,
  };
}

describe("selectInterfaces", () => {
  it.each([
    ["lo", iface("lo", { flags: { ...UP_BROADCAST, broadcast: false, loopback: true } }), "name matches exclude pattern /^lo$/"],
    ["docker0", iface("docker0"), "name matches exclude pattern /^docker.*/"],
    ["a Docker user bridge", iface("br-3f2a9c1d7e4b"), "name matches exclude pattern /^br-[0-9a-f]{12}$/"],
    ["a veth", iface("veth1234abcd"), "name matches exclude pattern /^veth.*/"],
    ["a Calico interface", iface("cali0123456789a"), "name matches exclude pattern /^cali.*/"],
    ["cni0", iface("cni0"), "name matches exclude pattern /^cni.*/"],
    ["flannel.1", iface("flannel.1"), "name matches exclude pattern /^flannel.*/"],
    ["kube-ipvs0", iface("kube-ipvs0"), "name matches exclude pattern /^kube-ipvs.*/"],
    ["cilium_host", iface("cilium_host"), "name matches exclude pattern /^cilium.*/"],
    ["an interface that is down", iface("eth1", { flags: { ...UP_BROADCAST, up: false } }), "down (IFF_UP not set)"],
    ["a loopback under another name", iface("lo2", { flags: { ...UP_BROADCAST, loopback: true } }), "loopback"],
    ["a NOARP interface", iface("ifb0", { flags: { ...UP_BROADCAST, noarp: true } }), "NOARP"],
    ["a point-to-point interface", iface("wg0", { flags: { ...UP_BROADCAST, broadcast: false } }), "not broadcast-capable (IFF_BROADCAST not set)"],
    ["a bond slave", iface("eth2", { flags: { ...UP_BROADCAST, slave: true }, master: { name: "bond0", kind: "bond" } }), "bond slave of bond0"],
    ["a bond slave whose master kind is unknown", iface("eth2", { flags: { ...UP_BROADCAST, slave: true }, master: { name: "bond0", kind: "" } }), "bond slave of bond0 (IFF_SLAVE)"],
    ["a bridge port", iface("eth3", { master: { name: "br0", kind: "bridge" } }), "port of bridge br0"],
    ["an Open vSwitch port", iface("eth4", { master: { name: "ovs-system", kind: "openvswitch" } }), "port of Open vSwitch ovs-system"],
    ["a port of an unknown master", iface("eth5", { master: { name: "x0", kind: "" } }), "enslaved to x0 (unknown kind)"],
  ])("excludes %s", (_name, info, reason) => {
    expect(selectInterfaces([info])).toEqual({ eligible: [], excluded: [{ name: info.name, reason }] });
  });

  it.each([
    ["eth0", iface("eth0")],
    ["a bond master", iface("bond0")],
    ["a LAN bridge named br0", iface("br0")],
    ["an OVN external bridge br-ex", iface("br-ex")],
    ["a VRF member", iface("eth6", { master: { name: "vrf-red", kind: "vrf" } })],
    ["a VLAN sub-interface", iface("eth0.100")],
  ])("keeps %s", (_name, info) => {
    expect(selectInterfaces([info]).eligible).toEqual([info]);
  });

  it("keeps input order and uses the given patterns instead of the defaults", () => {
    const all = [iface("eth0"), iface("docker0"), iface("eth1")];
    expect(selectInterfaces(all).eligible.map((i) => i.name)).toEqual(["eth0", "eth1"]);
    expect(selectInterfaces(all, [/^eth1$/]).eligible.map((i) => i.name)).toEqual(["eth0", "docker0"]);
  });

  it("has lo in the default list", () => {
    expect(DEFAULT_EXCLUDE_PATTERNS.some((p) => p.test("lo"))).toBe(true);
    expect(DEFAULT_EXCLUDE_PATTERNS.some((p) => p.test("eth0") || p.test("ens3") || p.test("bond0") || p.test("br0"))).toBe(false);
  });
});

describe("parseExcludePatterns", () => {
  it("compiles each pattern", () => {
    const r = parseExcludePatterns(["^lo$", "^veth.*"]);
    expect(r.ok && r.patterns.map(String)).toEqual(["/^lo$/", "/^veth.*/"]);
  });
  it("names the pattern that is not a regular expression", () => {
    const r = parseExcludePatterns(["^lo$", "^(veth"]);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toMatch(/^exclude pattern 2 "\^\(veth" is not a valid regular expression: /);
  });
});

describe("interfacesForVip", () => {
  const eth0 = iface("eth0", {}, ["192.0.2.5/24", "2001:db8:1::5/64", "fe80::1/64"]);
  const eth1 = iface("eth1", {}, ["198.51.100.5/25"]);
  const eth2 = iface("eth2", {}, ["198.51.100.200/25", "2001:db8:2::5/64"]);
  const eligible = [eth0, eth1, eth2];

  it.each([
    ["an IPv4 VIP in eth0's subnet", "192.0.2.10", ["eth0"], true],
    ["an IPv4 VIP in eth1's /25", "198.51.100.100", ["eth1"], true],
    ["an IPv4 VIP in eth2's /25 (upper half)", "198.51.100.130", ["eth2"], true],
    ["an IPv6 VIP in eth2's subnet", "2001:db8:2::10", ["eth2"], true],
    ["an IPv4 VIP in no subnet: all eligible", "203.0.113.10", ["eth0", "eth1", "eth2"], false],
    ["an IPv6 VIP in no subnet: all eligible", "2001:db8:9::10", ["eth0", "eth1", "eth2"], false],
  ])("announces %s on %j", (_name, vip, names, bySubnet) => {
    expect(interfacesForVip(eligible, vip)).toEqual({ names, bySubnet });
  });

  it("announces on every interface whose subnet contains the VIP", () => {
    const twin = iface("eth9", {}, ["192.0.2.6/24"]);
    expect(interfacesForVip([eth0, twin], "192.0.2.10")).toEqual({ names: ["eth0", "eth9"], bySubnet: true });
  });

  it("matches across a non-octet prefix boundary exactly", () => {
    const slash20 = iface("eth7", {}, ["10.1.16.1/20"]);
    expect(interfacesForVip([slash20, eth1], "10.1.31.255").names).toEqual(["eth7"]);
    expect(interfacesForVip([slash20, eth1], "10.1.32.0").bySubnet).toBe(false);
  });

  it("is empty when there are no eligible interfaces", () => {
    expect(interfacesForVip([], "192.0.2.10")).toEqual({ names: [], bySubnet: false });
  });

  it("rejects a VIP that is not an IP", () => {
    expect(() => interfacesForVip(eligible, "192.0.2.300")).toThrow('interfacesForVip: "192.0.2.300" is not an IP address');
  });
});
