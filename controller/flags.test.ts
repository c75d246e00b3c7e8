import { describe, expect, it } from "vitest";
import { formatUsage } from "../shared/cli/usage.ts";
import { controllerCommand, parseControllerFlags } from "./flags.ts";

describe("controller flags", () => {
  it("default as documented", () => {
    expect(parseControllerFlags([])).toMatchObject({
      namespace: "metallb-system",
      configMap: "config",
      lbClass: undefined,
      metricsPort: 7472,
      logLevel: "info",
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
    });
  });
  it("read every documented flag", () => {
    const f = parseControllerFlags(["--kubeconfig", "/k", "--namespace", "lb", "--config-map", "pools", "--lb-class", "x", "--metrics-port", "0", "--log-level", "debug"]);
    expect(f).toMatchObject({ kubeconfig: "/k", namespace: "lb", configMap: "pools", lbClass: "x", metricsPort: 0, logLevel: "debug" });
  });
  it("refuse inconsistent leader-election timing", () => {
    expect(() => parseControllerFlags(["--lease-duration", "2s", "--renew-deadline", "3s"])).toThrow("--retry-period < --renew-deadline < --lease-duration");
  });
  it("refuse unknown flags, naming them", () => {
    expect(() => parseControllerFlags(["--lbclass", "x"])).toThrow(/--lbclass/);
  });
  it("--help lists every flag with its default, from the table the parser reads", () => {
    const usage = formatUsage(controllerCommand);
    for (const name of Object.keys(controllerCommand.flags)) expect(usage).toContain(`  --${name} `);
    expect(usage).toMatch(/--metrics-port PORT +port of \/metrics.* \(default: 7472\)/);
    expect(usage).toMatch(/--identity NAME +leader-election identity \(default: \$POD_NAME, else the hostname\)/);
  });
});
