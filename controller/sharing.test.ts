import { describe, expect, it } from "vitest";
import type { ServicePort } from "./allocation-request.ts";
import { sharingConflict } from "./sharing.ts";
import type { SharingParty } from "./sharing.ts";

function party(
  service: string,
  sharingKey: string | undefined,
  ports: string[],
  externalTrafficPolicy: "Cluster" | "Local" = "Cluster",
  selector: Record<string, string> = { app: "dns" },
): SharingParty {
  const parsed: ServicePort[] = ports.map((p) => {
    const [protocol, port] = p.split("/");
    return { protocol: protocol as ServicePort["protocol"], port: Number(port) };
  });
  return { service, request: { sharingKey, ports: parsed, externalTrafficPolicy, selector } };
}

const IP = "10.0.0.1";
const ANN = "metallb.universe.tf/allow-shared-ip";

describe("sharingConflict", () => {
  it.each<[string, SharingParty, SharingParty, string | undefined]>([
    ["same key, different ports: allowed", party("ns/a", "k", ["TCP/80"]), party("ns/b", "k", ["TCP/443"]), undefined],
    ["TCP/53 and UDP/53 coexist", party("ns/udp", "dns", ["UDP/53"]), party("ns/tcp", "dns", ["TCP/53"]), undefined],
    [
      "neither has a key",
      party("ns/a", undefined, ["TCP/80"]),
      party("ns/b", "", ["TCP/443"]),
      `cannot share ${IP} with ns/b: neither Service has an allow-shared-ip key; request another IP, or give both the same ${ANN} value`,
    ],
    [
      "the holder has no key",
      party("ns/a", "k", ["TCP/80"]),
      party("ns/b", undefined, ["TCP/443"]),
      `cannot share ${IP} with ns/b: ns/b has no allow-shared-ip key; give it ${ANN}: "k" or request another IP`,
    ],
    [
      "the newcomer has no key",
      party("ns/a", undefined, ["TCP/80"]),
      party("ns/b", "k", ["TCP/443"]),
      `cannot share ${IP} with ns/b: this Service has no allow-shared-ip key; set ${ANN}: "k" to share it`,
    ],
    [
      "different keys",
      party("ns/a", "x", ["TCP/80"]),
      party("ns/b", "y", ["TCP/443"]),
      `cannot share ${IP} with ns/b: allow-shared-ip keys differ ("x" here, "y" there); use the same key on both`,
    ],
    [
      "an overlapping port, named with the other Service",
      party("ns/a", "k", ["TCP/80", "UDP/53"]),
      party("ns/web", "k", ["TCP/8080", "TCP/80"]),
      `cannot share ${IP} with ns/web: both use TCP/80; move one Service to another port or IP`,
    ],
    [
      "several overlapping ports, all named",
      party("ns/a", "k", ["TCP/80", "UDP/53", "TCP/443"]),
      party("ns/web", "k", ["TCP/443", "UDP/53", "TCP/80"]),
      `cannot share ${IP} with ns/web: both use TCP/80, UDP/53, TCP/443; move one Service to another port or IP`,
    ],
    [
      "Local with different selectors",
      party("ns/a", "k", ["UDP/53"], "Local", { app: "dns", tier: "a" }),
      party("ns/b", "k", ["TCP/53"], "Local", { app: "dns" }),
      `cannot share ${IP} with ns/b: with externalTrafficPolicy Local the selectors must be identical (app=dns,tier=a here, app=dns there)`,
    ],
    [
      "Local with identical selectors in another key order: allowed",
      party("ns/a", "k", ["UDP/53"], "Local", { tier: "a", app: "dns" }),
      party("ns/b", "k", ["TCP/53"], "Local", { app: "dns", tier: "a" }),
      undefined,
    ],
    [
      "Cluster with different selectors: allowed",
      party("ns/a", "k", ["UDP/53"], "Cluster", { app: "one" }),
      party("ns/b", "k", ["TCP/53"], "Cluster", { app: "two" }),
      undefined,
    ],
    [
      "Local next to Cluster",
      party("ns/a", "k", ["UDP/53"], "Local"),
      party("ns/b", "k", ["TCP/53"], "Cluster"),
      `cannot share ${IP} with ns/b: externalTrafficPolicy differs (Local here, Cluster there); use the same policy on both`,
    ],
  ])("%s", (_name, newcomer, holder, expected) => {
    expect(sharingConflict(IP, newcomer, holder)).toBe(expected);
  });
});
