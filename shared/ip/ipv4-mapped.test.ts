import { describe, expect, it } from "vitest";
import { canonicalIp, formatIp, parseIp } from "./address.ts";
import { formatIpBytes, ipFromBytes, ipToBytes } from "./bytes.ts";

// What each caller reads from IP text today. `refuse`: the controller and the config parsers. `keep`: the speaker
// turning a VIP into the bytes it puts in frames (announcer, interfaces). `unmap`: the speaker's canonical text,
// which the election hashes and the snapshot keys VIPs by (Go's net.IP.String()).
const parseCases: { text: string; refuse: string; keep: string | undefined; unmap: string | undefined }[] = [
  { text: "192.0.2.1", refuse: "IPv4 192.0.2.1", keep: "c0000201", unmap: "192.0.2.1" },
  { text: "2001:DB8:0:0:0:0:0:1", refuse: "IPv6 2001:db8::1", keep: "20010db8000000000000000000000001", unmap: "2001:db8::1" },
  // IPv4-mapped IPv6 (::ffff:0:0/96), however it is written: the one place the callers differ.
  { text: "::ffff:192.0.2.1", refuse: "refused: IPv4-mapped IPv6 address; write it as 192.0.2.1", keep: "00000000000000000000ffffc0000201", unmap: "192.0.2.1" },
  { text: "::FFFF:c000:0201", refuse: "refused: IPv4-mapped IPv6 address; write it as 192.0.2.1", keep: "00000000000000000000ffffc0000201", unmap: "192.0.2.1" },
  { text: "0:0:0:0:0:ffff:192.0.2.1", refuse: "refused: IPv4-mapped IPv6 address; write it as 192.0.2.1", keep: "00000000000000000000ffffc0000201", unmap: "192.0.2.1" },
  { text: "::ffff:0.0.0.0", refuse: "refused: IPv4-mapped IPv6 address; write it as 0.0.0.0", keep: "00000000000000000000ffff00000000", unmap: "0.0.0.0" },
  // Other IPv6 forms with an IPv4 inside are plain IPv6 for everyone.
  { text: "::192.0.2.1", refuse: "IPv6 ::c000:201", keep: "000000000000000000000000c0000201", unmap: "::c000:201" },
  { text: "64:ff9b::192.0.2.1", refuse: "IPv6 64:ff9b::c000:201", keep: "0064ff9b0000000000000000c0000201", unmap: "64:ff9b::c000:201" },
  { text: "::ffff:0:192.0.2.1", refuse: "IPv6 ::ffff:0:c000:201", keep: "0000000000000000ffff0000c0000201", unmap: "::ffff:0:c000:201" },
  // Zones, leading zeros, prefixes and spaces: refused by every caller.
  { text: "fe80::1%eth0", refuse: 'refused: zone "%eth0" is not allowed; drop it', keep: undefined, unmap: undefined },
  { text: "::ffff:192.0.2.1%eth0", refuse: 'refused: zone "%eth0" is not allowed; drop it', keep: undefined, unmap: undefined },
  { text: "01.2.3.4", refuse: 'refused: octet "01" has a leading zero', keep: undefined, unmap: undefined },
  { text: "::ffff:01.2.3.4", refuse: "refused: iPv4 addresses can't have leading zeroes", keep: undefined, unmap: undefined },
  { text: "2001:0db8::0001", refuse: "IPv6 2001:db8::1", keep: "20010db8000000000000000000000001", unmap: "2001:db8::1" },
  { text: "02001:db8::1", refuse: "refused: address failed regex: 02001", keep: undefined, unmap: undefined },
  { text: "192.0.2.1/32", refuse: "refused: a prefix length is not allowed here", keep: undefined, unmap: undefined },
  { text: " 192.0.2.1", refuse: "refused: contains whitespace", keep: undefined, unmap: undefined },
  { text: "", refuse: "refused: empty address", keep: undefined, unmap: undefined },
];

// How each caller prints an address. `keep`: the controller (RFC 5952 hex groups for every IPv6 address).
// `unmap`: the speaker (IPv4-mapped as a dotted quad, as Go's net.IP.String() does).
const formatCases: { hex: string; keep: string; unmap: string }[] = [
  { hex: "c0000201", keep: "192.0.2.1", unmap: "192.0.2.1" },
  { hex: "00000000000000000000ffffc0000201", keep: "::ffff:c000:201", unmap: "192.0.2.1" },
  { hex: "00000000000000000000ffff00000000", keep: "::ffff:0:0", unmap: "0.0.0.0" },
  { hex: "000000000000000000000000c0000201", keep: "::c000:201", unmap: "::c000:201" },
  { hex: "20010db8000000000001000000000001", keep: "2001:db8::1:0:0:1", unmap: "2001:db8::1:0:0:1" },
  { hex: "00000000000000000000000000000000", keep: "::", unmap: "::" },
];

describe("IPv4-mapped policy per caller", () => {
  it.each(parseCases)("reads $text: refuse $refuse, keep $keep, unmap $unmap", ({ text, refuse, keep, unmap }) => {
    const refused = parseIp(text, { ipv4Mapped: "refuse" });
    expect(refused.ok ? `IPv${refused.ip.family} ${formatIp(refused.ip)}` : `refused: ${refused.reason}`).toBe(refuse);
    expect(parseIp(text)).toEqual(refused); // "refuse" is the default
    const kept = parseIp(text, { ipv4Mapped: "keep" });
    expect(kept.ok ? Buffer.from(ipToBytes(kept.ip)).toString("hex") : undefined).toBe(keep);
    expect(canonicalIp(text, { ipv4Mapped: "unmap" })).toBe(unmap);
  });

  it.each(formatCases)("prints $hex as $keep (keep) or $unmap (unmap)", ({ hex, keep, unmap }) => {
    const bytes = Buffer.from(hex, "hex");
    expect(formatIp({ family: bytes.length === 4 ? 4 : 6, value: BigInt(`0x${hex}`) })).toBe(keep);
    expect(formatIpBytes(bytes, { ipv4Mapped: "unmap" })).toBe(unmap);
    // One formatter: from bytes with the default, it prints what formatIp does.
    expect(formatIpBytes(bytes)).toBe(keep);
    expect(formatIp(ipFromBytes(bytes)!)).toBe(keep);
  });
});
