import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { convertLegacyConfig } from "../shared/config/convert-legacy.ts";

const root = new URL("..", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "convert-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the CLI as `npm run convert-config` does, with `args` and `stdin`. */
function cli(args: string[], stdin = "") {
  const run = spawnSync(process.execPath, ["tools/convert-config.ts", ...args], { cwd: root, input: stdin, encoding: "utf8" });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

const config = "address-pools:\n- name: lan\n  protocol: layer2\n  addresses: [192.168.10.0/24]\n";
const expected = (convertLegacyConfig(config) as { ok: true; yaml: string }).yaml;

describe("npm run convert-config", () => {
  it("converts a file", () => {
    const file = join(dir, "config.yaml");
    writeFileSync(file, `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: config\n  namespace: metallb-system\ndata:\n  config: |\n${config.replace(/^/gm, "    ")}`);
    expect(cli([file])).toEqual({ status: 0, stdout: expected, stderr: "" });
  });

  it("converts stdin when the argument is -", () => {
    expect(cli(["-"], config)).toEqual({ status: 0, stdout: expected, stderr: "" });
  });

  it("prints each problem on stderr and exits 1 on an invalid config", () => {
    const run = cli(["-"], "address-pools:\n- name: a\n  protocol: layer2\n  addresses: []\n  colour: blue\n");
    expect(run).toEqual({
      status: 1,
      stdout: "",
      stderr:
        'convert-config: ConfigMap metallb-system/config: pool "a": unknown key "colour"; allowed keys: name, protocol, addresses, auto-assign, avoid-buggy-ips, namespaces\n' +
        'convert-config: ConfigMap metallb-system/config: pool "a": addresses is empty (the pool has no addresses); add at least one CIDR, range or IP\n' +
        "convert-config: 2 problem(s); nothing converted. Fix them and run again.\n",
    });
  });

  it("says what it could not read, and how it is used", () => {
    const missing = cli([join(dir, "nope.yaml")]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/^convert-config: cannot read .*nope\.yaml: ENOENT/);
    expect(cli([])).toEqual({
      status: 2,
      stdout: "",
      stderr: "convert-config: expected one FILE (or - for stdin), got 0\nusage: npm run convert-config -- FILE|-   (--help lists every flag and its default)\n",
    });
  });

  it("prints its usage on --help and exits 0", () => {
    const help = cli(["--help"]);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^usage: npm run convert-config -- FILE\|-\n/);
    expect(help.stdout).toContain("- reads stdin");
  });
});
