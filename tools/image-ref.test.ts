import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { projectImage, splitImageRef } from "./image-ref.ts";

const read = (file: string) => readFileSync(new URL(`../${file}`, import.meta.url), "utf8");
const repoFiles = { controllerYaml: read("manifests/30-controller.yaml"), speakerYaml: read("manifests/40-speaker.yaml"), packageJson: read("package.json") };

const workload = (kind: string, image: string) => `apiVersion: apps/v1
kind: ${kind}
metadata: {name: w}
spec:
  template:
    spec:
      containers:
      - name: c
        image: ${image}
`;
const files = (controller: string, speaker = controller, pkg = { name: "baremetal-lb", version: "0.1.0" }) => ({
  controllerYaml: `# a comment\n${workload("Deployment", controller)}`,
  speakerYaml: workload("DaemonSet", speaker),
  packageJson: JSON.stringify(pkg),
});

describe("projectImage", () => {
  it("reads the image from manifests/30-controller.yaml, and it agrees with the speaker and package.json", () => {
    const pkg = JSON.parse(repoFiles.packageJson) as { name: string; version: string };
    expect(projectImage(repoFiles)).toEqual({ ref: `ghcr.io/baremetal-lb/${pkg.name}:${pkg.version}`, repository: `ghcr.io/baremetal-lb/${pkg.name}`, tag: pkg.version });
  });

  it.each([
    ["the speaker names another image", files("r.io/o/baremetal-lb:0.1.0", "r.io/o/baremetal-lb:0.2.0"), "manifests/40-speaker.yaml names image r.io/o/baremetal-lb:0.2.0 but manifests/30-controller.yaml names r.io/o/baremetal-lb:0.1.0"],
    ["the tag is not the version", files("r.io/o/baremetal-lb:0.2.0"), "names image r.io/o/baremetal-lb:0.2.0, but package.json's version is 0.1.0"],
    ["the name is not the package's", files("r.io/o/other:0.1.0"), 'whose name "other" is not package.json\'s name "baremetal-lb"'],
    ["there is no tag", files("r.io:5000/o/baremetal-lb"), 'image "r.io:5000/o/baremetal-lb" has no tag'],
  ])("refuses when %s", (_name, input, message) => {
    expect(() => projectImage(input)).toThrow(message);
  });

  it("refuses manifests without a controller Deployment", () => {
    expect(() => projectImage({ ...files("a/baremetal-lb:0.1.0"), controllerYaml: "kind: ConfigMap\n" })).toThrow("expected the controller Deployment to name one image, found none");
  });
});

describe("splitImageRef", () => {
  it("keeps a registry port out of the tag", () => {
    expect(splitImageRef("localhost:5000/baremetal-lb:dev")).toEqual({ ref: "localhost:5000/baremetal-lb:dev", repository: "localhost:5000/baremetal-lb", tag: "dev" });
  });
});
