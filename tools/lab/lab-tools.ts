/**
 * The programs the lab runs, and what to do when some are missing: install their Debian packages with apt-get
 * (as root, where apt-get exists, unless --no-install), or print the exact command and stop. Pure: the lab's
 * tool-installer.ts carries the plan out.
 *
 * @example
 * planLabTools(["iptables", "arping"], { root: true, aptGet: true, noInstall: false });
 * // { action: "install", packages: ["iptables", "arping"], commands: [["apt-get", "update"], ["apt-get", "install", …]], … }
 */
import { debianPackages, describeTool, packageSource } from "../support/debian-packages.ts";

/** The programs the lab runs, on PATH. */
export const labTools: readonly string[] = ["ip", "iptables", "sysctl", "arping", "curl", "kubectl"];

/** What this process may do about missing tools. */
export interface InstallContext {
  /** Running as root. */
  root: boolean;
  /** apt-get is on PATH. */
  aptGet: boolean;
  /** --no-install was given. */
  noInstall: boolean;
}

/** What the lab does about its tools. */
export type ToolPlan =
  | { action: "ready" }
  | { action: "install"; packages: string[]; commands: string[][]; announce: string }
  | { action: "stop"; message: string };

/** The environment apt-get runs in: never ask a question. */
export const aptEnv: Readonly<Record<string, string>> = { DEBIAN_FRONTEND: "noninteractive" };

/** The apt-get commands that install `packages`. */
export function aptCommands(packages: readonly string[]): string[][] {
  return [
    ["apt-get", "update"],
    ["apt-get", "install", "-y", "--no-install-recommends", ...packages],
  ];
}

/** The one shell line a person runs to install `packages` ("sudo apt-get update && sudo apt-get install …"). */
export function aptCommandLine(packages: readonly string[], sudo: boolean): string {
  return aptCommands(packages)
    .map((argv) => `${sudo ? "sudo " : ""}${argv.join(" ")}`)
    .join(" && ");
}

function sourcesNote(packages: readonly string[]): string {
  return packages
    .filter((pkg) => packageSource(pkg) !== undefined)
    .map((pkg) => `\n(${pkg} is not in Debian's own archive: get it ${packageSource(pkg)})`)
    .join("");
}

/**
 * What to do about the `missing` lab tools here.
 *
 * @example
 * planLabTools(["arping"], { root: false, aptGet: true, noInstall: false }).message;
 * // "the lab needs these tools on PATH: arping (Debian package arping); install them with:\n  sudo apt-get update && …"
 */
export function planLabTools(missing: readonly string[], here: InstallContext): ToolPlan {
  if (missing.length === 0) return { action: "ready" };
  const packages = debianPackages(missing);
  const needs = `the lab needs these tools on PATH: ${missing.map(describeTool).join(", ")}`;
  const note = sourcesNote(packages);
  if (!here.aptGet) {
    return {
      action: "stop",
      message: `${needs}; this machine has no apt-get, so install the packages that provide them with its package manager (their Debian names: ${packages.join(", ")}) and run the lab again${note}`,
    };
  }
  if (!here.root || here.noInstall) {
    const why = here.noInstall && here.root ? " (--no-install: not installing them myself)" : "";
    return { action: "stop", message: `${needs}${why}; install them with:\n  ${aptCommandLine(packages, !here.root)}\nthen run the lab again${note}` };
  }
  return {
    action: "install",
    packages,
    commands: aptCommands(packages),
    announce: `${needs}; installing ${packages.length === 1 ? "its package" : "their packages"} with apt-get (--no-install to refuse): ${packages.join(" ")}`,
  };
}
