import { afterEach, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { startKubeSim, type KubeSim } from "../../tools/kube-sim/index.ts";
import { kubectl } from "../../tools/kube-sim/kubectl-runner.ts";
import { requireTools } from "../support/requirements.ts";
import { installFiles, loadManifests, manifestsDir, type ManifestObject } from "../../tools/lab/load-manifests.ts";

const skip = requireTools(["kubectl"]);

const rbacGroup = "rbac.authorization.k8s.io";

/** The line kubectl prints for a created object, e.g. "clusterrole.rbac.authorization.k8s.io/x created". */
function createdLine(o: ManifestObject): string {
  const group = o.apiVersion.includes("/") ? o.apiVersion.split("/")[0] : "";
  return `${o.kind.toLowerCase()}${group ? `.${group}` : ""}/${o.metadata.name} created`;
}

/** The stored object for a manifest object, or undefined. */
function stored(sim: KubeSim, o: ManifestObject): Record<string, unknown> | undefined {
  const [group, version] = o.apiVersion.includes("/") ? o.apiVersion.split("/") : ["", o.apiVersion];
  const type = sim.state.registry.all().find((t) => t.group === group && t.version === version && t.kind === o.kind);
  if (!type) throw new Error(`the simulator does not serve ${o.apiVersion} ${o.kind}`);
  return sim.state.find(type, o.metadata.namespace ?? "", o.metadata.name)?.object;
}

describe.skipIf(skip)("installing with the real kubectl", () => {
  let sim: KubeSim | undefined;
  afterEach(async () => {
    await sim?.stop();
    sim = undefined;
  });

  it("`kubectl apply -f manifests/` creates every object in one run, and a second run changes nothing", async () => {
    sim = await startKubeSim({ endpointsController: false });
    const objects = await loadManifests(installFiles());
    const first = await kubectl(sim.kubeconfigPath, ["apply", "-f", manifestsDir], { timeoutMs: 60_000 });
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(first.stdout.trim().split("\n")).toEqual(objects.map(createdLine));
    for (const o of objects) expect(stored(sim, o), `${o.kind} ${o.metadata.name}`).toBeDefined();
    expect(sim.state.list(sim.state.registry.find("", "v1", "configmaps")!, "metallb-system")).toEqual([]);

    const second = await kubectl(sim.kubeconfigPath, ["apply", "-f", manifestsDir], { timeoutMs: 60_000 });
    expect(second.code).toBe(0);
    expect(second.stdout.trim().split("\n")).toEqual(objects.map((o) => createdLine(o).replace(/created$/, "unchanged")));
  }, 120_000);

  it("`kubectl apply -k manifests/` installs the same objects as -f, with the image from Kustomization", async () => {
    sim = await startKubeSim({ endpointsController: false });
    const objects = await loadManifests(installFiles());
    const built = await kubectl(sim.kubeconfigPath, ["kustomize", manifestsDir]);
    expect(built.code).toBe(0);
    const rendered = parseAllDocuments(built.stdout).map((d) => d.toJS() as ManifestObject);
    const key = (o: ManifestObject) => `${o.apiVersion} ${o.kind} ${o.metadata.namespace ?? ""}/${o.metadata.name}`;
    const sorted = (list: ManifestObject[]) => [...list].sort((a, b) => key(a).localeCompare(key(b)));
    expect(sorted(rendered)).toEqual(sorted(objects));

    const applied = await kubectl(sim.kubeconfigPath, ["apply", "-k", manifestsDir], { timeoutMs: 60_000 });
    expect(applied.stderr).toBe("");
    expect(applied.code).toBe(0);
    for (const o of objects) expect(stored(sim, o), `${o.kind} ${o.metadata.name}`).toBeDefined();
    const role = stored(sim, objects.find((o) => o.kind === "Role" && o.metadata.namespace === "kube-system")!);
    expect(role?.apiVersion).toBe(`${rbacGroup}/v1`);
  }, 120_000);
});
