import { describe, expect, it } from "vitest";
import { formatRange } from "../ip/range.ts";
import type { Pool } from "./config-types.ts";
import { parseConfig } from "./parse-config.ts";

/** A one-pool config with the given extra lines under the pool (indented by the helper). */
function onePool(lines: string): string {
  return `address-pools:\n- ${lines.trim().split("\n").join("\n  ")}\n`;
}

function pools(text: string): Pool[] {
  const result = parseConfig(text);
  if (!result.ok) throw new Error(result.errors.join("\n"));
  return [...result.config.pools];
}

function summary(pool: Pool) {
  return {
    name: pool.name,
    ranges: pool.ranges.map((r) => `${r.index}:${r.text}=${formatRange(r)}`),
    autoAssign: pool.autoAssign,
    avoidBuggyIps: pool.avoidBuggyIps,
    namespaces: pool.namespaces,
  };
}

describe("parseConfig accepts", () => {
  it("MetalLB's legacy example unchanged", () => {
    const text = `
address-pools:
- name: default
  protocol: layer2
  addresses:
  - 192.168.126.40-192.168.126.45
  - 10.0.0.0/28
  - fd00:1::/120
  auto-assign: true        # default true
  avoid-buggy-ips: false   # default false; skips .0 and .255 addresses
`;
    expect(pools(text).map(summary)).toEqual([
      {
        name: "default",
        ranges: [
          "0:192.168.126.40-192.168.126.45=192.168.126.40-192.168.126.45",
          "1:10.0.0.0/28=10.0.0.0-10.0.0.15",
          "2:fd00:1::/120=fd00:1::-fd00:1::ff",
        ],
        autoAssign: true,
        avoidBuggyIps: false,
        namespaces: undefined,
      },
    ]);
  });

  it.each([
    ["empty text", ""],
    ["only a comment", "# nothing yet\n"],
    ["an empty list", "address-pools: []\n"],
    ["a null list", "address-pools:\n"],
    ["empty BGP sections", "peers: []\nbgp-communities: {}\nbfd-profiles:\naddress-pools: []\n"],
  ])("%s as a config without pools", (_name, text) => {
    expect(parseConfig(text)).toEqual({ ok: true, config: { pools: [], advertisements: [] } });
  });

  it("defaults auto-assign to true and avoid-buggy-ips to false", () => {
    const [pool] = pools(onePool("name: p\nprotocol: layer2\naddresses: [10.0.0.1]"));
    expect(summary(pool)).toEqual({
      name: "p",
      ranges: ["0:10.0.0.1=10.0.0.1"],
      autoAssign: true,
      avoidBuggyIps: false,
      namespaces: undefined,
    });
  });

  it.each([
    ["a single IP", "10.0.0.7", "10.0.0.7"],
    ["spaces around the dash", "10.0.0.1 - 10.0.0.9", "10.0.0.1-10.0.0.9"],
    ["an IPv6 CIDR", "fd00::/64", "fd00::-fd00::ffff:ffff:ffff:ffff"],
    ["an IPv6 range", "fd00::10-fd00::1f", "fd00::10-fd00::1f"],
    ["an unquoted IPv6 address that YAML 1.1 could read as a number", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"],
    ["a CIDR with host bits set, as Go does", "10.1.2.3/24", "10.1.2.0-10.1.2.255"],
  ])("%s", (_name, entry, expected) => {
    const [pool] = pools(onePool(`name: p\nprotocol: layer2\naddresses:\n- ${entry}`));
    expect(pool.ranges.map(formatRange)).toEqual([expected]);
  });

  it("YAML 1.1 booleans the way Go's yaml.v2 reads them", () => {
    const [pool] = pools(onePool("name: p\nprotocol: layer2\naddresses: [10.0.0.0/30]\nauto-assign: no\navoid-buggy-ips: yes"));
    expect([pool.autoAssign, pool.avoidBuggyIps]).toEqual([false, true]);
  });

  it("the namespaces extension", () => {
    const [pool] = pools(onePool("name: p\nprotocol: layer2\naddresses: [10.0.0.0/30]\nnamespaces: [team-a, b2]"));
    expect(pool.namespaces).toEqual(["team-a", "b2"]);
  });

  it("several pools in config order, touching but not overlapping, with YAML anchors", () => {
    const text = `
address-pools:
- &base
  name: a
  protocol: layer2
  addresses: [10.0.0.0/29]
- <<: *base
  name: b
  addresses: [10.0.0.8-10.0.0.15]
  auto-assign: false
`;
    expect(pools(text).map(summary)).toEqual([
      { name: "a", ranges: ["0:10.0.0.0/29=10.0.0.0-10.0.0.7"], autoAssign: true, avoidBuggyIps: false, namespaces: undefined },
      { name: "b", ranges: ["0:10.0.0.8-10.0.0.15=10.0.0.8-10.0.0.15"], autoAssign: false, avoidBuggyIps: false, namespaces: undefined },
    ]);
  });
});

describe("parseConfig: a layer2 pool's empty bgp-advertisements, as MetalLB v0.12 accepts it", () => {
  it.each([
    ["an empty list", "bgp-advertisements: []"],
    ["a null value", "bgp-advertisements:"],
    ["an explicit null", "bgp-advertisements: ~"],
    ["the word null", "bgp-advertisements: null"],
  ])("%s", (_name, line) => {
    const [pool] = pools(onePool(`name: p\nprotocol: layer2\naddresses: [10.0.0.0/30]\n${line}`));
    expect(summary(pool)).toEqual({ name: "p", ranges: ["0:10.0.0.0/30=10.0.0.0-10.0.0.3"], autoAssign: true, avoidBuggyIps: false, namespaces: undefined });
  });
});

describe("parseConfig: where pools come from and how they are announced", () => {
  const two = "address-pools:\n- name: a\n  protocol: layer2\n  addresses: [10.0.0.0/30]\n- name: b\n  protocol: layer2\n  addresses: [10.0.1.0/30]\n";

  it("marks every pool with the source it came from (default ConfigMap metallb-system/config)", () => {
    expect(pools(two).map((p) => p.source)).toEqual(["ConfigMap metallb-system/config", "ConfigMap metallb-system/config"]);
    const result = parseConfig(two, "ConfigMap lb/pools");
    expect(result.ok && result.config.pools.map((p) => p.source)).toEqual(["ConfigMap lb/pools", "ConfigMap lb/pools"]);
  });

  it("gives the pools one implicit advertisement: every node, every interface, naming its pools", () => {
    const result = parseConfig(two, "ConfigMap lb/pools");
    expect(result.ok && result.config.advertisements).toEqual([
      {
        source: "ConfigMap lb/pools",
        name: "pools",
        ipAddressPools: ["a", "b"],
        ipAddressPoolSelectors: [],
        nodeSelectors: [],
        interfaces: [],
        serviceSelectors: [],
        preferredNodeSelectors: [],
      },
    ]);
  });

  it("gives no advertisement to a config without pools (one naming none would cover every pool, the IPAddressPools' too)", () => {
    expect(parseConfig("address-pools: []\n")).toEqual({ ok: true, config: { pools: [], advertisements: [] } });
  });
});

const P = 'pool "p"';
const BGP = "BGP mode is not supported; baremetal-lb implements layer2 only";
const HEAD = "name: p\nprotocol: layer2";

describe("parseConfig rejects", () => {
  it.each<[string, string, string[]]>([
    ["broken YAML", "address-pools: [\n", ["config is not valid YAML at line 2, column 1: Flow sequence in block collection must be sufficiently indented and end with a ]; fix the syntax"]],
    ["tab indentation", "address-pools:\n\t- name: a\n", ["config is not valid YAML at line 2, column 1: Tabs are not allowed as indentation; fix the syntax"]],
    ["a duplicate top-level key", "address-pools: []\naddress-pools: []\n", ['config has a duplicate key "address-pools" at line 2, column 1; keep only one']],
    ["a duplicate pool key", onePool(`${HEAD}\naddresses: [10.0.0.1]\nprotocol: layer2`), ['config has a duplicate key "protocol" at line 5, column 3; keep only one']],
    ["two YAML documents", "address-pools: []\n---\naddress-pools: []\n", ["config holds more than one YAML document (the second starts at line 2, column 1); keep one"]],
    ["a list at the top", "- name: a\n", ["config must be a YAML mapping with the key address-pools; got a list"]],
    ["plain text", "address pools\n", ['config must be a YAML mapping with the key address-pools; got "address pools"']],
    ["an unknown top-level key", "adress-pools: []\n", ['unknown top-level key "adress-pools"; allowed keys: address-pools (and the BGP keys peers, bgp-communities, bfd-profiles, which must be empty)']],
    ["BGP peers", "peers:\n- peer-address: 10.0.0.1\n  peer-asn: 64501\n  my-asn: 64500\naddress-pools: []\n", [`peers: ${BGP}. Remove peers and use protocol: layer2 pools`]],
    ["BGP communities", "bgp-communities:\n  vpn-only: 1234:1\n", [`bgp-communities: ${BGP}. Remove bgp-communities and use protocol: layer2 pools`]],
    ["BFD profiles", "bfd-profiles:\n- name: fast\n", [`bfd-profiles: ${BGP}. Remove bfd-profiles and use protocol: layer2 pools`]],
    ["address-pools as a mapping", "address-pools:\n  name: a\n", ["address-pools must be a list of pools; got a mapping"]],
    ["a pool that is a string", "address-pools:\n- default\n", ['address-pools[0]: must be a mapping with name, protocol and addresses; got "default"']],
    ["a missing name", onePool("protocol: layer2\naddresses: [10.0.0.1]"), ["address-pools[0]: missing name; add name: <a unique pool name>"]],
    ["an empty name", onePool("name: ''\nprotocol: layer2\naddresses: [10.0.0.1]"), ["address-pools[0]: missing name; add name: <a unique pool name>"]],
    ["a boolean name", onePool("name: true\nprotocol: layer2\naddresses: [10.0.0.1]"), ["address-pools[0]: name must be a string; got true; write a plain name, quoted if it reads as true/false"]],
    [
      "a duplicate pool name",
      "address-pools:\n- name: p\n  protocol: layer2\n  addresses: [10.0.0.1]\n- name: p\n  protocol: layer2\n  addresses: [10.0.0.2]\n",
      ['address-pools[1]: duplicate definition of pool "p" (already defined by address-pools[0]); give each pool a unique name'],
    ],
    ["a missing protocol", onePool("name: p\naddresses: [10.0.0.1]"), [`${P}: missing protocol; add protocol: layer2`]],
    ["protocol bgp", onePool("name: p\nprotocol: bgp\naddresses: [10.0.0.1]"), [`${P}: protocol bgp is not supported (${BGP}); set protocol: layer2`]],
    ["an unknown protocol", onePool("name: p\nprotocol: Layer2\naddresses: [10.0.0.1]"), [`${P}: unknown protocol "Layer2"; set protocol: layer2`]],
    ["bgp-advertisements on a layer2 pool", onePool(`${HEAD}\naddresses: [10.0.0.1]\nbgp-advertisements:\n- aggregation-length: 32`), [`${P}: bgp-advertisements belongs to BGP mode; ${BGP}; remove it`]],
    ["bgp-advertisements as a mapping", onePool(`${HEAD}\naddresses: [10.0.0.1]\nbgp-advertisements: {}`), [`${P}: bgp-advertisements must be a list, and empty on a layer2 pool; got a mapping; remove it`]],
    ["bgp-advertisements as text", onePool(`${HEAD}\naddresses: [10.0.0.1]\nbgp-advertisements: none`), [`${P}: bgp-advertisements must be a list, and empty on a layer2 pool; got "none"; remove it`]],
    ["an unknown pool key", onePool(`${HEAD}\naddresses: [10.0.0.1]\nauto_assign: false`), [`${P}: unknown key "auto_assign"; allowed keys: name, protocol, addresses, auto-assign, avoid-buggy-ips, namespaces`]],
    ["missing addresses", onePool(HEAD), [`${P}: missing addresses; add a list of CIDRs, ranges or IPs, e.g. addresses: [192.168.1.240/28]`]],
    ["an empty address list", onePool(`${HEAD}\naddresses: []`), [`${P}: addresses is empty (the pool has no addresses); add at least one CIDR, range or IP`]],
    ["addresses as a single string", onePool(`${HEAD}\naddresses: 10.0.0.0/28`), [`${P}: addresses must be a list; write each CIDR, range or IP on its own "- " line`]],
    ["an address entry that is a mapping", onePool(`${HEAD}\naddresses:\n- cidr: 10.0.0.0/28`), [`${P}, addresses[0]: must be a CIDR, range or IP written as text; got a mapping`]],
    ["an octet above 255", onePool(`${HEAD}\naddresses:\n- 10.0.0.0/28\n- 10.0.0.300/24`), [`${P}, addresses[1]: "10.0.0.300/24" is not a valid CIDR (octet 300 > 255); write it as a.b.c.d/len`]],
    ["a prefix length above 32", onePool(`${HEAD}\naddresses: [10.0.0.0/33]`), [`${P}, addresses[0]: "10.0.0.0/33" is not a valid CIDR (prefix length 33 > 32 for IPv4); use a length from 0 to 32`]],
    ["an IPv6 prefix length above 128", onePool(`${HEAD}\naddresses: [fd00::/129]`), [`${P}, addresses[0]: "fd00::/129" is not a valid CIDR (prefix length 129 > 128 for IPv6); use a length from 0 to 128`]],
    ["a range with start after end", onePool(`${HEAD}\naddresses: [10.0.0.9-10.0.0.1]`), [`${P}, addresses[0]: "10.0.0.9-10.0.0.1" is not a valid range (start 10.0.0.9 is after end 10.0.0.1); write the lower address first`]],
    ["a range across families", onePool(`${HEAD}\naddresses: [10.0.0.1-fd00::1]`), [`${P}, addresses[0]: "10.0.0.1-fd00::1" is not a valid range (start is IPv4, end is IPv6); keep a range within one family`]],
    ["a range with a bad end", onePool(`${HEAD}\naddresses: [10.0.0.1-10.0.0]`), [`${P}, addresses[0]: "10.0.0.1-10.0.0" is not a valid range (end "10.0.0": expected 4 dot-separated octets, found 3); write it as a.b.c.d-e.f.g.h`]],
    ["a range with two dashes", onePool(`${HEAD}\naddresses: [10.0.0.1-10.0.0.2-10.0.0.3]`), [`${P}, addresses[0]: "10.0.0.1-10.0.0.2-10.0.0.3" is not a valid range (2 dashes, expected one); write it as a.b.c.d-e.f.g.h`]],
    ["a truncated IP", onePool(`${HEAD}\naddresses: [10.0.0]`), [`${P}, addresses[0]: "10.0.0" is not a valid IP address, CIDR or range (expected 4 dot-separated octets, found 3); write a.b.c.d, a.b.c.d/len or a.b.c.d-e.f.g.h`]],
    ["a leading zero", onePool(`${HEAD}\naddresses: [010.0.0.1]`), [`${P}, addresses[0]: "010.0.0.1" is not a valid IP address, CIDR or range (octet "010" has a leading zero); write a.b.c.d, a.b.c.d/len or a.b.c.d-e.f.g.h`]],
    ["an IPv6 zone", onePool(`${HEAD}\naddresses: ["fe80::1%eth0"]`), [`${P}, addresses[0]: "fe80::1%eth0" is not a valid IP address, CIDR or range (zone "%eth0" is not allowed; drop it); write a.b.c.d, a.b.c.d/len or a.b.c.d-e.f.g.h`]],
    ["an IPv4-mapped IPv6 address", onePool(`${HEAD}\naddresses: ["::ffff:10.0.0.1"]`), [`${P}, addresses[0]: "::ffff:10.0.0.1" is not a valid IP address, CIDR or range (IPv4-mapped IPv6 address; write it as 10.0.0.1); write a.b.c.d, a.b.c.d/len or a.b.c.d-e.f.g.h`]],
    ["an empty address entry", onePool(`${HEAD}\naddresses: [""]`), [`${P}, addresses[0]: "" is empty; write a CIDR (a.b.c.d/len), a range (a.b.c.d-e.f.g.h) or an IP`]],
    ["an overlap within a pool", onePool(`${HEAD}\naddresses: [10.0.0.0/28, 10.0.0.5]`), [`${P} addresses[1] 10.0.0.5 overlaps ${P} addresses[0] 10.0.0.0/28 (they share 10.0.0.5); remove the overlap`]],
    ["the same IPv6 prefix twice", onePool(`${HEAD}\naddresses: [fd00:1::/120, "fd00:1::0/120"]`), [`${P} addresses[1] fd00:1::0/120 overlaps ${P} addresses[0] fd00:1::/120 (they share fd00:1::-fd00:1::ff); remove the overlap`]],
    [
      "an overlap across pools",
      "address-pools:\n- name: default\n  protocol: layer2\n  addresses: [192.168.1.0/24, 10.0.0.0/28]\n- name: lan\n  protocol: layer2\n  addresses: [10.0.0.8-10.0.0.20]\n",
      ['pool "lan" addresses[0] 10.0.0.8-10.0.0.20 overlaps pool "default" addresses[1] 10.0.0.0/28 (they share 10.0.0.8-10.0.0.15); remove the overlap'],
    ],
    ["auto-assign that is not a boolean", onePool(`${HEAD}\naddresses: [10.0.0.1]\nauto-assign: maybe`), [`${P}: auto-assign must be true or false; got "maybe"`]],
    ["avoid-buggy-ips that is a list", onePool(`${HEAD}\naddresses: [10.0.0.1]\navoid-buggy-ips: [true]`), [`${P}: avoid-buggy-ips must be true or false; got a list`]],
    ["namespaces as a string", onePool(`${HEAD}\naddresses: [10.0.0.1]\nnamespaces: team-a`), [`${P}: namespaces must be a list of namespace names, e.g. namespaces: [team-a, team-b]`]],
    ["an empty namespaces list", onePool(`${HEAD}\naddresses: [10.0.0.1]\nnamespaces: []`), [`${P}: namespaces is empty, so no Service could use the pool; list at least one namespace or remove the key to allow all`]],
    [
      "an invalid namespace name",
      onePool(`${HEAD}\naddresses: [10.0.0.1]\nnamespaces: [ok, Team_A]`),
      [`${P}, namespaces[1]: "Team_A" is not a valid namespace name; use at most 63 lowercase letters, digits and "-", starting and ending with a letter or digit`],
    ],
    [
      "a namespace name longer than 63 characters",
      onePool(`${HEAD}\naddresses: [10.0.0.1]\nnamespaces: [${"a".repeat(64)}]`),
      [`${P}, namespaces[0]: "${"a".repeat(64)}" is not a valid namespace name; use at most 63 lowercase letters, digits and "-", starting and ending with a letter or digit`],
    ],
    ["a namespace listed twice", onePool(`${HEAD}\naddresses: [10.0.0.1]\nnamespaces: [a, a]`), [`${P}, namespaces[1]: "a" is listed twice; remove one`]],
  ])("%s", (_name, text, errors) => {
    expect(parseConfig(text)).toEqual({ ok: false, errors });
  });

  it("reports every problem of a config, not just the first", () => {
    const text = `
address-pools:
- name: a
  protocol: bgp
  addresses: [10.0.0.0/28, 10.0.0.999]
- protocol: layer2
  addresses: [10.0.0.4-10.0.0.6]
  colour: blue
peers: [{peer-address: 10.0.0.1}]
`;
    expect(parseConfig(text)).toEqual({
      ok: false,
      errors: [
        `peers: ${BGP}. Remove peers and use protocol: layer2 pools`,
        `pool "a": protocol bgp is not supported (${BGP}); set protocol: layer2`,
        `pool "a", addresses[1]: "10.0.0.999" is not a valid IP address, CIDR or range (octet 999 > 255); write a.b.c.d, a.b.c.d/len or a.b.c.d-e.f.g.h`,
        'address-pools[1]: unknown key "colour"; allowed keys: name, protocol, addresses, auto-assign, avoid-buggy-ips, namespaces',
        "address-pools[1]: missing name; add name: <a unique pool name>",
        'address-pools[1] addresses[0] 10.0.0.4-10.0.0.6 overlaps pool "a" addresses[0] 10.0.0.0/28 (they share 10.0.0.4-10.0.0.6); remove the overlap',
      ],
    });
  });

  it("names each pair once when one entry overlaps several", () => {
    const text = onePool(`${HEAD}\naddresses: [10.0.0.0/30, 10.0.0.4/30, 10.0.0.2-10.0.0.5]`);
    expect(parseConfig(text)).toEqual({
      ok: false,
      errors: [
        `${P} addresses[2] 10.0.0.2-10.0.0.5 overlaps ${P} addresses[0] 10.0.0.0/30 (they share 10.0.0.2-10.0.0.3); remove the overlap`,
        `${P} addresses[2] 10.0.0.2-10.0.0.5 overlaps ${P} addresses[1] 10.0.0.4/30 (they share 10.0.0.4-10.0.0.5); remove the overlap`,
      ],
    });
  });
});
