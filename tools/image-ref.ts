/**
 * The project's image reference, from its one source: the image the controller Deployment in
 * manifests/30-controller.yaml names. The speaker DaemonSet must name the same image, and its last path segment and
 * tag must be package.json's name and version; any disagreement is an error that names both values and the file to
 * change. Pure: the caller reads the files.
 *
 * @example
 * projectImage({ controllerYaml, speakerYaml, packageJson }).ref; // "ghcr.io/baremetal-lb/baremetal-lb:0.1.0"
 */
import { parseAllDocuments } from "yaml";

/** An image reference split into repository and tag. */
export interface ImageRef {
  /** "ghcr.io/baremetal-lb/baremetal-lb:0.1.0" */
  ref: string;
  /** "ghcr.io/baremetal-lb/baremetal-lb" */
  repository: string;
  /** "0.1.0" */
  tag: string;
}

interface Workload {
  kind?: string;
  spec?: { template?: { spec?: { containers?: { name?: string; image?: string }[] } } };
}

/** The images of every container of the Deployments and DaemonSets in a YAML file. */
function workloadImages(yamlText: string, file: string): string[] {
  const images: string[] = [];
  for (const doc of parseAllDocuments(yamlText)) {
    if (doc.errors.length > 0) throw new Error(`${file}: not valid YAML: ${doc.errors[0].message}`);
    const w = doc.toJS() as Workload | null;
    if (!w || (w.kind !== "Deployment" && w.kind !== "DaemonSet")) continue;
    for (const c of w.spec?.template?.spec?.containers ?? []) {
      if (!c.image) throw new Error(`${file}: container "${c.name ?? "?"}" of the ${w.kind} has no image`);
      images.push(c.image);
    }
  }
  return images;
}

/** Splits "registry/path/name:tag" (a registry port's colon is not a tag). */
export function splitImageRef(ref: string): ImageRef {
  const slash = ref.lastIndexOf("/");
  const colon = ref.lastIndexOf(":");
  if (colon <= slash || ref.includes("@")) throw new Error(`image "${ref}" has no tag; name it as REPOSITORY:TAG`);
  return { ref, repository: ref.slice(0, colon), tag: ref.slice(colon + 1) };
}

/**
 * The image both workloads run, checked against package.json; throws naming what disagrees.
 *
 * @example
 * projectImage({ controllerYaml: read("manifests/30-controller.yaml"), speakerYaml: read("manifests/40-speaker.yaml"), packageJson: read("package.json") });
 */
export function projectImage(files: { controllerYaml: string; speakerYaml: string; packageJson: string }): ImageRef {
  const controllerFile = "manifests/30-controller.yaml";
  const speakerFile = "manifests/40-speaker.yaml";
  const controller = [...new Set(workloadImages(files.controllerYaml, controllerFile))];
  if (controller.length !== 1) {
    throw new Error(`${controllerFile}: expected the controller Deployment to name one image, found ${controller.length === 0 ? "none" : controller.join(", ")}`);
  }
  const image = splitImageRef(controller[0]);
  for (const other of workloadImages(files.speakerYaml, speakerFile)) {
    if (other !== image.ref) throw new Error(`${speakerFile} names image ${other} but ${controllerFile} names ${image.ref}; both workloads run one image`);
  }
  const pkg = JSON.parse(files.packageJson) as { name?: string; version?: string };
  const name = image.repository.slice(image.repository.lastIndexOf("/") + 1);
  if (pkg.name !== name) throw new Error(`${controllerFile} names image ${image.ref}, whose name "${name}" is not package.json's name "${pkg.name}"`);
  if (pkg.version !== image.tag) {
    throw new Error(`${controllerFile} names image ${image.ref}, but package.json's version is ${pkg.version}; make the tag equal the version in manifests/ (and Kustomization)`);
  }
  return image;
}
