import { describe, expect, it } from "vitest";
import { formatUsage } from "../shared/cli/usage.ts";
import { parseSpeakerFlags, speakerCommand } from "./flags.ts";

describe("speaker flags", () => {
  it("take the node name from NODE_NAME when --node-name is absent, and default the rest", () => {
    const f = parseSpeakerFlags([], { NODE_NAME: "node-7" });
    expect(f).toMatchObject({
      nodeName: "node-7",
      namespace: "metallb-system",
      configMap: "config",
      metricsPort: 7473,
      strictArp: "warn",
      ignoreExcludeLb: false,
      heartbeatPort: 7947,
      heartbeatIntervalMs: 25,
      heartbeatTimeoutMs: 150,
      heartbeatStallLimitMs: 2000,
      leaseDurationMs: 4000,
      leaseRenewMs: 1000,
      reannounceIntervalMs: 60_000,
    });
    expect(f.excludeInterfaces.some((p) => p.test("lo"))).toBe(true);
  });
  it("prefer --node-name over NODE_NAME and read the documented flags", () => {
    const f = parseSpeakerFlags(["--node-name", "a", "--strict-arp", "refuse", "--ignore-exclude-lb", "--reannounce-interval", "0"], { NODE_NAME: "b" });
    expect(f).toMatchObject({ nodeName: "a", strictArp: "refuse", ignoreExcludeLb: true, reannounceIntervalMs: 0 });
  });
  it("explain what is missing or wrong", () => {
    expect(() => parseSpeakerFlags([], {})).toThrow("pass --node-name NAME or set NODE_NAME");
    expect(() => parseSpeakerFlags(["--node-name", "a", "--strict-arp", "yes"], {})).toThrow('--strict-arp "yes" must be warn or refuse');
    expect(() => parseSpeakerFlags(["--node-name", "a", "--heartbeat-timeout", "90ms"], {})).toThrow("at least four times --heartbeat-interval");
    expect(() => parseSpeakerFlags(["--node-name", "a", "--heartbeat-stall-limit", "40ms"], {})).toThrow("--heartbeat-stall-limit (40 ms) must be at least twice --heartbeat-interval (25 ms)");
    expect(() => parseSpeakerFlags(["--node-name", "a", "--lease-renew", "500ms", "--lease-duration", "2s"], {})).toThrow("more than once per second");
    expect(() => parseSpeakerFlags(["--node-name", "a", "--exclude-interfaces", "(("], {})).toThrow("not a valid regular expression");
  });
  it("--help lists every flag with its default, from the table the parser reads", () => {
    const usage = formatUsage(speakerCommand);
    for (const name of Object.keys(speakerCommand.flags)) expect(usage).toContain(`  --${name} `);
    expect(usage).toMatch(/--heartbeat-timeout DURATION +a peer silent .* \(default: 150ms\)/s);
    expect(usage).toContain("(default: $NODE_NAME; one of the two is needed)");
  });
});
