/**
 * The Debian/Ubuntu package that provides each external program the tests and the lab run: one table, so a skip
 * message, the lab's `apt-get install` and CI name the same package.
 *
 * @example
 * debianPackage("arping"); // "arping"
 * debianPackage("ping"); // "iputils-ping"
 */
const packages: Readonly<Record<string, string>> = {
  ip: "iproute2",
  bridge: "iproute2",
  iptables: "iptables",
  ip6tables: "iptables",
  sysctl: "procps",
  arping: "arping",
  curl: "curl",
  tcpdump: "tcpdump",
  ping: "iputils-ping",
  python3: "python3",
  bash: "bash",
  kubectl: "kubectl",
  podman: "podman",
  runc: "runc",
  mmdebstrap: "mmdebstrap",
};

/** Packages that Debian's own archive does not carry, with where to get them. */
const outsideDebian: Readonly<Record<string, string>> = {
  kubectl: "from the Kubernetes apt repository pkgs.k8s.io, see https://kubernetes.io/docs/tasks/tools/install-kubectl-linux/",
};

/** The Debian package that provides `tool` (its own name when the table does not know it). */
export function debianPackage(tool: string): string {
  return packages[tool] ?? tool;
}

/** The distinct packages that provide `tools`, in order of first need. */
export function debianPackages(tools: readonly string[]): string[] {
  return [...new Set(tools.map(debianPackage))];
}

/** Where to get a package that Debian's archive lacks, or undefined for an ordinary Debian package. */
export function packageSource(pkg: string): string | undefined {
  return outsideDebian[pkg];
}

/** "arping (Debian package arping)": how messages name a missing tool. */
export function describeTool(tool: string): string {
  const pkg = debianPackage(tool);
  const source = packageSource(pkg);
  return `${tool} (Debian package ${pkg}${source ? `, ${source}` : ""})`;
}
