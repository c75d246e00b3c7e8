import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { workloadIdentities } from "./manifest-identities.ts";

const workload = (kind: string, name: string, sa?: string) => `apiVersion: apps/v1
kind: ${kind}
metadata:
  namespace: metallb-system
  name: ${name}
spec:
  template:
    spec:
${sa ? `      serviceAccountName: ${sa}\n` : ""}      containers: [{ name: ${name}, image: "baremetal-lb:0.1.0" }]
`;

let dir: string | undefined;
async function manifests(files: Record<string, string>): Promise<string> {
  dir = await mkdtemp(join(tmpdir(), "blb-lab-manifests-"));
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  return dir;
}
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("workloadIdentities", () => {
  it("authenticates the controller and the speaker as the ServiceAccounts their Pods run as", async () => {
    const d = await manifests({
      "controller.yaml": `apiVersion: v1\nkind: ServiceAccount\nmetadata: { namespace: metallb-system, name: controller }\n---\n${workload("Deployment", "controller", "controller")}`,
      "speaker.yaml": workload("DaemonSet", "speaker", "speaker"),
      "kustomization.yaml": "resources: [controller.yaml, speaker.yaml]\n",
    });
    expect(await workloadIdentities(d)).toEqual({
      controller: { name: "system:serviceaccount:metallb-system:controller", groups: ["system:serviceaccounts", "system:serviceaccounts:metallb-system", "system:authenticated"] },
      speaker: { name: "system:serviceaccount:metallb-system:speaker", groups: ["system:serviceaccounts", "system:serviceaccounts:metallb-system", "system:authenticated"] },
    });
  });

  it("names the workload that has no serviceAccountName", async () => {
    const d = await manifests({ "a.yaml": `${workload("Deployment", "controller", "controller")}---\n${workload("DaemonSet", "speaker")}` });
    await expect(workloadIdentities(d)).rejects.toThrow('the speaker DaemonSet "speaker" needs metadata.namespace and spec.template.spec.serviceAccountName');
  });

  it("refuses manifests without exactly one speaker DaemonSet", async () => {
    const d = await manifests({ "a.yaml": workload("Deployment", "controller", "controller") });
    await expect(workloadIdentities(d)).rejects.toThrow("expected exactly one DaemonSet (the speaker), found 0");
  });
});
