import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startKubeSim, type KubeSim } from "../../tools/kube-sim/index.ts";
import { goJson } from "../../tools/kube-sim/json-value.ts";
import { kubectl, type KubectlResult } from "../../tools/kube-sim/kubectl-runner.ts";
import { requireTools } from "../support/requirements.ts";
import { loadManifests, manifestsDir, type ManifestObject } from "../../tools/lab/load-manifests.ts";

const skip = requireTools(["kubectl"]);

/** MetalLB's documentation examples, copied unchanged (each file names its page). */
const fixtures = new URL("./fixtures/metallb-docs/", import.meta.url).pathname;
const ns = "metallb-system";

/** `kubectl get` output as rows of header → cell, cut at the header's column starts (kubectl aligns every column). */
function table(stdout: string): Record<string, string>[] {
  const [header, ...lines] = stdout.replace(/\n$/, "").split("\n");
  const names = header.split(/ {3,}/);
  let from = 0;
  const starts = names.map((n) => {
    const at = header.indexOf(n, from);
    from = at + n.length;
    return at;
  });
  return lines.map((line) => Object.fromEntries(names.map((n, i) => [n, line.slice(starts[i], starts[i + 1] ?? line.length).trim()])));
}

function createdOrConfigured(o: ManifestObject, verb: string): string {
  return `${o.kind.toLowerCase()}.metallb.io/${o.metadata.name} ${verb}`;
}

describe.skipIf(skip)("MetalLB's documentation examples, applied unchanged with the real kubectl", () => {
  let sim: KubeSim;
  let dir: string;
  const k = (args: string[], stdin?: string): Promise<KubectlResult> => kubectl(sim.kubeconfigPath, args, { stdin, timeoutMs: 30_000 });
  const stored = (kind: "ipaddresspools" | "l2advertisements" | "servicel2statuses", name: string) =>
    sim.state.find(sim.state.registry.find("metallb.io", "v1beta1", kind)!, ns, name)?.object;
  const fixture = async (file: string) => ({ path: join(fixtures, file), objects: await loadManifests([join(fixtures, file)]) });

  beforeAll(async () => {
    sim = await startKubeSim({ endpointsController: false });
    dir = await mkdtemp(join(tmpdir(), "metallb-examples-"));
  });

  afterAll(async () => {
    await sim?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it("`kubectl apply` creates the namespace and the three CRDs, and a second run changes nothing", async () => {
    const files = ["-f", join(manifestsDir, "00-namespace.yaml"), "-f", join(manifestsDir, "01-crds.yaml")];
    const crds = ["ipaddresspools", "l2advertisements", "servicel2statuses"].map((p) => `customresourcedefinition.apiextensions.k8s.io/${p}.metallb.io`);
    const first = await k(["apply", ...files]);
    expect(first).toMatchObject({ code: 0, stderr: "" });
    expect(first.stdout.trim().split("\n")).toEqual([`namespace/${ns} created`, ...crds.map((c) => `${c} created`)]);
    const second = await k(["apply", ...files]);
    expect(second.stdout.trim().split("\n")).toEqual([`namespace/${ns} unchanged`, ...crds.map((c) => `${c} unchanged`)]);
  });

  it("applies every IPAddressPool example and keeps each field, with MetalLB's defaults filled in", async () => {
    const files = (await readdir(fixtures)).filter((f) => /^\d+-pool-/.test(f)).sort();
    expect(files).toEqual(["01-pool-simple.yaml", "02-pool-cheap.yaml", "03-pool-expensive.yaml", "04-pool-service-allocation.yaml"]);
    for (const file of files) {
      const { path, objects } = await fixture(file);
      const applied = await k(["apply", "-f", path]);
      expect(applied, file).toMatchObject({ code: 0, stderr: "" });
      expect(applied.stdout.trim().split("\n")).toEqual(objects.map((o) => createdOrConfigured(o, "created")));
      for (const o of objects) expect(stored("ipaddresspools", o.metadata.name)?.spec, file).toEqual({ autoAssign: true, avoidBuggyIPs: false, ...(o.spec as object) });
    }
  });

  it("prints `kubectl get ipaddresspools` with MetalLB's columns, then READY, and the usage with -o wide", async () => {
    const plain = await k(["get", "ipaddresspools", "-n", ns]);
    expect(plain.stderr).toBe("");
    expect(plain.stdout).toBe(
      [
        "NAME                             AUTO ASSIGN   AVOID BUGGY IPS   ADDRESSES                                                                   READY",
        'cheap                            true          false             ["192.168.10.0/24"]                                                         ',
        'expensive                        false         false             ["42.176.25.64/30"]                                                         ',
        'first-pool                       true          false             ["192.168.10.0/24","192.168.9.1-192.168.9.5","fc00:f853:0ccd:e799::/124"]   ',
        'ippool-ns-service-alloc-sample   true          true              ["192.168.20.0/24"]                                                         ',
        "",
      ].join("\n"),
    );
    const wide = table((await k(["get", "ipaddresspools", "-n", ns, "-o", "wide"])).stdout);
    expect(Object.keys(wide[0])).toEqual(["NAME", "AUTO ASSIGN", "AVOID BUGGY IPS", "ADDRESSES", "READY", "REASON", "ASSIGNED IPV4", "AVAILABLE IPV4", "ASSIGNED IPV6", "AVAILABLE IPV6"]);
  });

  it("applies every L2Advertisement example (by pool list, with nodeSelectors, with interfaces) and prints its columns", async () => {
    const files = (await readdir(fixtures)).filter((f) => /^\d+-l2-/.test(f)).sort();
    expect(files).toEqual([
      "05-l2-all-pools.yaml",
      "06-l2-pool-list.yaml",
      "07-l2-node-selectors.yaml",
      "08-l2-interfaces.yaml",
      "09-l2-node-selectors-interfaces.yaml",
      "10-l2-interfaces-union.yaml",
      "11-l2-preferred-node-selectors.yaml",
    ]);
    // As the API server prints a list or object cell: Go's encoding/json, keys sorted.
    const json = (v: unknown) => (v === undefined ? "" : goJson(v));
    const seen = new Set<string>();
    for (const file of files) {
      const { path, objects } = await fixture(file);
      const applied = await k(["apply", "-f", path]);
      expect(applied, file).toMatchObject({ code: 0, stderr: "" });
      expect(applied.stdout.trim().split("\n")).toEqual(objects.map((o) => createdOrConfigured(o, seen.has(o.metadata.name) ? "configured" : "created")));
      for (const o of objects) seen.add(o.metadata.name);

      const names = objects.map((o) => o.metadata.name);
      const rows = table((await k(["get", "l2advertisements", ...names, "-n", ns, "-o", "wide"])).stdout);
      const plainHeader = (await k(["get", "l2advertisements", names[0], "-n", ns])).stdout.split("\n")[0].split(/ {3,}/);
      expect(plainHeader).toEqual(["NAME", "IPADDRESSPOOLS", "IPADDRESSPOOL SELECTORS", "INTERFACES", "READY"]);
      objects.forEach((o, i) => {
        const spec = (o.spec ?? {}) as Record<string, unknown>;
        expect(stored("l2advertisements", o.metadata.name)?.spec, file).toEqual(o.spec);
        expect(rows[i], file).toEqual({
          NAME: o.metadata.name,
          IPADDRESSPOOLS: json(spec.ipAddressPools),
          "IPADDRESSPOOL SELECTORS": json(spec.ipAddressPoolSelectors),
          INTERFACES: json(spec.interfaces),
          "NODE SELECTORS": json(spec.nodeSelectors),
          READY: "",
          REASON: "",
          "SERVICE SELECTORS": json(spec.serviceSelectors),
          "PREFERRED NODE SELECTORS": json(spec.preferredNodeSelectors),
        });
      });
    }
    const wide = table((await k(["get", "l2advertisements", "example", "-n", ns, "-o", "wide"])).stdout);
    expect(wide[0]["NODE SELECTORS"]).toBe('[{"matchLabels":{"kubernetes.io/hostname":"NodeA"}}]');
    const preferred = table((await k(["get", "l2advertisements", "tiered-zones", "-n", ns, "-o", "wide"])).stdout);
    expect(preferred[0]["PREFERRED NODE SELECTORS"]).toBe('[{"preference":{"matchLabels":{"zone":"primary"}},"weight":100},{"preference":{"matchLabels":{"zone":"secondary"}},"weight":50}]');
  });

  it("lists both kinds in one `kubectl get ipaddresspools,l2advertisements`, each with its own columns", async () => {
    const both = await k(["get", "ipaddresspools,l2advertisements", "-n", ns]);
    expect(both).toMatchObject({ code: 0, stderr: "" });
    const [pools, advs] = both.stdout.split("\n\n");
    expect(pools.split("\n")[0].split(/ {3,}/)).toEqual(["NAME", "AUTO ASSIGN", "AVOID BUGGY IPS", "ADDRESSES", "READY"]);
    expect(pools.split("\n").slice(1).map((l) => l.split(" ")[0])).toEqual([
      "ipaddresspool.metallb.io/cheap",
      "ipaddresspool.metallb.io/expensive",
      "ipaddresspool.metallb.io/first-pool",
      "ipaddresspool.metallb.io/ippool-ns-service-alloc-sample",
    ]);
    expect(advs.split("\n")[0].split(/ {3,}/)).toEqual(["NAME", "IPADDRESSPOOLS", "IPADDRESSPOOL SELECTORS", "INTERFACES", "READY"]);
    expect(advs.trim().split("\n").slice(1).map((l) => l.split(" ")[0])).toEqual([
      "l2advertisement.metallb.io/example",
      "l2advertisement.metallb.io/example-advertisement10",
      "l2advertisement.metallb.io/example-advertisement9",
      "l2advertisement.metallb.io/tiered-zones",
    ]);
    const wide = await k(["get", "ipaddresspools,l2advertisements", "-n", ns, "-o", "wide"]);
    const [widePools, wideAdvs] = wide.stdout.split("\n\n");
    expect(widePools.split("\n")[0].split(/ {3,}/)).toContain("AVAILABLE IPV6");
    expect(wideAdvs.split("\n")[0].split(/ {3,}/)).toEqual([
      "NAME",
      "IPADDRESSPOOLS",
      "IPADDRESSPOOL SELECTORS",
      "INTERFACES",
      "NODE SELECTORS",
      "READY",
      "REASON",
      "SERVICE SELECTORS",
      "PREFERRED NODE SELECTORS",
    ]);
  });

  it("shows READY, the reason and the usage once they are written through the status subresource, and apply leaves them", async () => {
    const status = {
      assignedIPv4: 1,
      assignedIPv6: 0,
      availableIPv4: 259,
      availableIPv6: 16,
      conditions: [{ type: "Ready", status: "True", reason: "Accepted", message: "in force", lastTransitionTime: "2026-05-01T10:00:00Z", observedGeneration: 1 }],
    };
    const patched = await k(["patch", "ipaddresspool", "first-pool", "-n", ns, "--subresource=status", "--type=merge", "-p", JSON.stringify({ status })]);
    expect(patched).toMatchObject({ code: 0, stdout: "ipaddresspool.metallb.io/first-pool patched\n" });
    const [row] = table((await k(["get", "ipaddresspools", "first-pool", "-n", ns, "-o", "wide"])).stdout);
    expect(row).toMatchObject({ READY: "True", REASON: "Accepted", "ASSIGNED IPV4": "1", "AVAILABLE IPV4": "259", "ASSIGNED IPV6": "0", "AVAILABLE IPV6": "16" });

    const again = await k(["apply", "-f", join(fixtures, "01-pool-simple.yaml")]);
    expect(again.stdout).toBe("ipaddresspool.metallb.io/first-pool unchanged\n");
    expect(stored("ipaddresspools", "first-pool")?.status).toEqual(status);
  });

  it("refuses a misspelt field with the API server's strict decoding error, when creating and when updating", async () => {
    const pool = (name: string, spec: string) => `apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata:\n  name: ${name}\n  namespace: ${ns}\nspec:\n${spec}`;
    const typo = join(dir, "typo.yaml");
    await writeFile(typo, pool("typo-pool", "  adresses:\n  - 192.168.30.0/24\n"));
    const created = await k(["apply", "-f", typo]);
    expect(created.code).toBe(1);
    expect(created.stderr).toBe(
      `Error from server (BadRequest): error when creating "${typo}": IPAddressPool in version "v1beta1" cannot be handled as a IPAddressPool: strict decoding error: unknown field "spec.adresses"\n`,
    );
    expect(stored("ipaddresspools", "typo-pool")).toBeUndefined();

    const update = join(dir, "update.yaml");
    await writeFile(update, pool("cheap", "  addresses:\n  - 192.168.10.0/24\n  avoidBuggyIps: true\n"));
    const updated = await k(["apply", "-f", update]);
    expect(updated.code).toBe(1);
    expect(updated.stderr).toMatch(/^The request is invalid: patch: Invalid value: ".*": strict decoding error: unknown field "spec.avoidBuggyIps"\n$/s);
    expect(stored("ipaddresspools", "cheap")?.spec).toEqual({ addresses: ["192.168.10.0/24"], autoAssign: true, avoidBuggyIPs: false });

    const warned = await k(["apply", "-f", update, "--validate=warn"]);
    expect(warned).toMatchObject({ code: 0, stdout: "ipaddresspool.metallb.io/cheap configured\n", stderr: 'Warning: unknown field "spec.avoidBuggyIps"\n' });
    const ignored = await k(["apply", "-f", update, "--validate=false"]);
    expect(ignored).toMatchObject({ code: 0, stderr: "" });
    expect(stored("ipaddresspools", "cheap")?.spec).toEqual({ addresses: ["192.168.10.0/24"], autoAssign: true, avoidBuggyIPs: false });

    const serverSide = await k(["apply", "--server-side", "-f", update]);
    expect(serverSide.code).toBe(1);
    expect(serverSide.stderr).toBe(
      `Error from server: failed to create typed patch object (${ns}/cheap; metallb.io/v1beta1, Kind=IPAddressPool): .spec.avoidBuggyIps: field not declared in schema\n`,
    );
  });

  it("shows a ServiceL2Status's node and Service once its status is written through the status subresource", async () => {
    const manifest = [
      "apiVersion: metallb.io/v1beta1",
      "kind: ServiceL2Status",
      "metadata:",
      "  name: l2-x7k2p",
      `  namespace: ${ns}`,
      "  labels:",
      "    metallb.io/node: node-1",
      "    metallb.io/service-name: web",
      "    metallb.io/service-namespace: default",
      "status:",
      "  node: node-9",
      "",
    ].join("\n");
    const created = await k(["apply", "-f", "-"], manifest);
    expect(created).toMatchObject({ code: 0, stdout: "servicel2status.metallb.io/l2-x7k2p created\n", stderr: "" });
    expect(stored("servicel2statuses", "l2-x7k2p")?.status).toBeUndefined();

    const status = { node: "node-1", serviceName: "web", serviceNamespace: "default", interfaces: [{ name: "eth0" }] };
    const patched = await k(["patch", "servicel2status", "l2-x7k2p", "-n", ns, "--subresource=status", "--type=merge", "-p", JSON.stringify({ status })]);
    expect(patched.code).toBe(0);
    const shown = await k(["get", "servicel2statuses", "-n", ns]);
    expect(shown.stdout).toBe(["NAME       ALLOCATED NODE   SERVICE NAME   SERVICE NAMESPACE", "l2-x7k2p   node-1           web            default", ""].join("\n"));
    const byNode = await k(["get", "servicel2statuses", "-A", "-l", "metallb.io/node=node-1", "--field-selector", "metadata.name=l2-x7k2p"]);
    expect(table(byNode.stdout)).toEqual([{ NAMESPACE: ns, NAME: "l2-x7k2p", "ALLOCATED NODE": "node-1", "SERVICE NAME": "web", "SERVICE NAMESPACE": "default" }]);
    expect(stored("servicel2statuses", "l2-x7k2p")?.status).toEqual(status);
  });
});
