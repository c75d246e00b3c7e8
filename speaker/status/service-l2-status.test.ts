import { describe, expect, it } from "vitest";
import { planAnnouncements, type IpPlan } from "../election/announce-plan.ts";
import {
  announcedL2Services,
  desiredL2Status,
  observeL2Status,
  projectL2Status,
  planServiceL2Statuses,
  serviceL2StatusBody,
  type AnnouncedL2Service,
  type L2StatusAction,
  type ObservedL2Status,
  type ServiceL2StatusFields,
} from "./service-l2-status.ts";

/** An existing object for `service` ("ns/name") labelled with `node`, with the given status. */
function obj(name: string, node: string, service: string, status: ServiceL2StatusFields = {}): ObservedL2Status {
  const [namespace, svcName] = service.split("/");
  return { name, labels: { "metallb.io/node": node, "metallb.io/service-name": svcName, "metallb.io/service-namespace": namespace }, status };
}

/** An object whose status is already what `node` writes for `service` on `interfaces`. */
function written(name: string, node: string, service: string, interfaces: string[] = []): ObservedL2Status {
  return obj(name, node, service, desiredL2Status(node, service, interfaces));
}

const announce = (entries: [string, string[], string[]?][]) =>
  new Map<string, AnnouncedL2Service>(entries.map(([key, interfaces, also]) => [key, { interfaces, alsoAnnouncedBy: also }]));

interface Case {
  name: string;
  announced: Map<string, AnnouncedL2Service>;
  observed: ObservedL2Status[];
  want: L2StatusAction[];
}

const cases: Case[] = [
  {
    name: "nothing announced, nothing exists: no writes",
    announced: announce([]),
    observed: [],
    want: [],
  },
  {
    name: "steady state: our object with the right status costs nothing",
    announced: announce([["default/web", ["eth0"]]]),
    observed: [written("l2-aaaaa", "node-1", "default/web", ["eth0"])],
    want: [],
  },
  {
    name: "first announce: create",
    announced: announce([["default/web", ["eth0"]]]),
    observed: [],
    want: [{ verb: "create", service: "default/web" }],
  },
  {
    name: "just created (empty status): write the status",
    announced: announce([["default/web", ["eth0", "eth1"]]]),
    observed: [obj("l2-aaaaa", "node-1", "default/web")],
    want: [
      {
        verb: "updateStatus",
        service: "default/web",
        name: "l2-aaaaa",
        status: { node: "node-1", serviceName: "web", serviceNamespace: "default", interfaces: [{ name: "eth0" }, { name: "eth1" }] },
      },
    ],
  },
  {
    name: "interfaces changed: update the status",
    announced: announce([["default/web", ["eth1"]]]),
    observed: [written("l2-aaaaa", "node-1", "default/web", ["eth0"])],
    want: [
      { verb: "updateStatus", service: "default/web", name: "l2-aaaaa", status: { node: "node-1", serviceName: "web", serviceNamespace: "default", interfaces: [{ name: "eth1" }] } },
    ],
  },
  {
    name: "the same interfaces in another order are no change",
    announced: announce([["default/web", ["eth1", "eth0"]]]),
    observed: [obj("l2-aaaaa", "node-1", "default/web", { node: "node-1", serviceName: "web", serviceNamespace: "default", interfaces: [{ name: "eth1" }, { name: "eth0" }] })],
    want: [],
  },
  {
    name: "Service no longer announced here (gone or moved): delete ours",
    announced: announce([]),
    observed: [written("l2-aaaaa", "node-1", "default/web")],
    want: [{ verb: "delete", service: "default/web", name: "l2-aaaaa", reason: "not announced by node-1" }],
  },
  {
    name: "another node's object for a Service we do not announce is left alone",
    announced: announce([]),
    observed: [written("l2-bbbbb", "node-2", "default/web")],
    want: [],
  },
  {
    name: "failover to node 1: delete node 2's object, then create ours",
    announced: announce([["default/web", []]]),
    observed: [written("l2-bbbbb", "node-2", "default/web")],
    want: [
      { verb: "delete", service: "default/web", name: "l2-bbbbb", reason: "announced by node-1 now, was node-2" },
      { verb: "create", service: "default/web" },
    ],
  },
  {
    name: "dual-stack Service whose other IP node 2 announces: node 2's object is kept",
    announced: announce([["default/web", [], ["node-2"]]]),
    observed: [written("l2-bbbbb", "node-2", "default/web")],
    want: [{ verb: "create", service: "default/web" }],
  },
  {
    name: "two objects of ours for one Service: keep the one with the right status, delete the other",
    announced: announce([["default/web", []]]),
    observed: [obj("l2-aaaaa", "node-1", "default/web"), written("l2-zzzzz", "node-1", "default/web")],
    want: [{ verb: "delete", service: "default/web", name: "l2-aaaaa", reason: "duplicate of l2-zzzzz" }],
  },
  {
    name: "two objects of ours, neither written: keep the lowest name and write its status",
    announced: announce([["default/web", []]]),
    observed: [obj("l2-zzzzz", "node-1", "default/web"), obj("l2-aaaaa", "node-1", "default/web")],
    want: [
      { verb: "delete", service: "default/web", name: "l2-zzzzz", reason: "duplicate of l2-aaaaa" },
      { verb: "updateStatus", service: "default/web", name: "l2-aaaaa", status: { node: "node-1", serviceName: "web", serviceNamespace: "default" } },
    ],
  },
  {
    name: "our duplicates for a Service we no longer announce: delete them all",
    announced: announce([]),
    observed: [written("l2-aaaaa", "node-1", "default/web"), written("l2-bbbbb", "node-1", "default/web")],
    want: [
      { verb: "delete", service: "default/web", name: "l2-aaaaa", reason: "not announced by node-1" },
      { verb: "delete", service: "default/web", name: "l2-bbbbb", reason: "not announced by node-1" },
    ],
  },
  {
    name: "our label but a status naming another node (immutable): replace it",
    announced: announce([["default/web", []]]),
    observed: [obj("l2-aaaaa", "node-1", "default/web", { node: "node-2", serviceName: "web", serviceNamespace: "default" })],
    want: [
      { verb: "delete", service: "default/web", name: "l2-aaaaa", reason: 'status.node is "node-2", which cannot change' },
      { verb: "create", service: "default/web" },
    ],
  },
  {
    name: "an object naming no Service is left alone",
    announced: announce([["default/web", []]]),
    observed: [{ name: "l2-ccccc", labels: { "metallb.io/node": "node-1" }, status: {} }, written("l2-aaaaa", "node-1", "default/web")],
    want: [],
  },
  {
    name: "an object without labels is matched by its status",
    announced: announce([]),
    observed: [{ name: "l2-ccccc", labels: {}, status: { node: "node-1", serviceName: "web", serviceNamespace: "default" } }],
    want: [{ verb: "delete", service: "default/web", name: "l2-ccccc", reason: "not announced by node-1" }],
  },
  {
    name: "several Services: deletes of a Service come before its create; unannounced Services last",
    announced: announce([
      ["default/a", []],
      ["default/b", []],
    ]),
    observed: [written("l2-old", "node-1", "default/gone"), written("l2-b2", "node-2", "default/b"), written("l2-a1", "node-1", "default/a")],
    want: [
      { verb: "delete", service: "default/b", name: "l2-b2", reason: "announced by node-1 now, was node-2" },
      { verb: "create", service: "default/b" },
      { verb: "delete", service: "default/gone", name: "l2-old", reason: "not announced by node-1" },
    ],
  },
];

describe("planServiceL2Statuses", () => {
  it.each(cases)("$name", ({ announced, observed, want }) => {
    expect(planServiceL2Statuses("node-1", announced, observed)).toEqual(want);
  });

  it("a plan applied and observed again is empty", () => {
    const announced = announce([["default/a", ["eth0"]], ["default/b", []], ["default/c", ["eth1"], ["node-3"]]]);
    let observed: ObservedL2Status[] = [written("x1", "node-2", "default/a"), obj("x2", "node-1", "default/b"), written("x3", "node-1", "default/gone"), written("x4", "node-3", "default/c")];
    let next = 0;
    for (let round = 0; round < 5; round++) {
      const plan = planServiceL2Statuses("node-1", announced, observed);
      if (plan.length === 0) break;
      for (const a of plan) {
        if (a.verb === "delete") observed = observed.filter((o) => o.name !== a.name);
        else if (a.verb === "create") observed.push(obj(`new-${next++}`, "node-1", a.service));
        else observed = observed.map((o) => (o.name === a.name ? { ...o, status: a.status } : o));
      }
    }
    expect(planServiceL2Statuses("node-1", announced, observed)).toEqual([]);
    expect(observed.map((o) => `${o.labels["metallb.io/node"]} ${o.status.serviceNamespace}/${o.status.serviceName}`).sort()).toEqual([
      "node-1 default/a",
      "node-1 default/b",
      "node-1 default/c",
      "node-3 default/c",
    ]);
  });
});

describe("serviceL2StatusBody", () => {
  it("is MetalLB's shape: generateName l2-, the three labels, owned by the speaker Pod, empty spec", () => {
    expect(serviceL2StatusBody("metallb-system", "node-1", "default/web", { name: "speaker-x7k2p", uid: "uid-1" })).toEqual({
      apiVersion: "metallb.io/v1beta1",
      kind: "ServiceL2Status",
      metadata: {
        generateName: "l2-",
        namespace: "metallb-system",
        labels: { "metallb.io/node": "node-1", "metallb.io/service-name": "web", "metallb.io/service-namespace": "default" },
        ownerReferences: [{ apiVersion: "v1", kind: "Pod", name: "speaker-x7k2p", uid: "uid-1" }],
      },
      spec: {},
    });
  });

  it("has no owner reference when the Pod is unknown", () => {
    expect(serviceL2StatusBody("metallb-system", "node-1", "default/web").metadata.ownerReferences).toBeUndefined();
    expect(serviceL2StatusBody("metallb-system", "node-1", "default/web", { name: "speaker-x", uid: "" }).metadata.ownerReferences).toBeUndefined();
  });

  it("refuses a key that is not namespace/name", () => {
    expect(() => serviceL2StatusBody("metallb-system", "node-1", "web")).toThrow('service key "web" is not "namespace/name"');
  });
});

describe("desiredL2Status", () => {
  it("sorts and de-duplicates interfaces, and leaves them out when there are none", () => {
    expect(desiredL2Status("node-1", "ns/web", ["eth1", "eth0", "eth1"])).toEqual({
      node: "node-1",
      serviceName: "web",
      serviceNamespace: "ns",
      interfaces: [{ name: "eth0" }, { name: "eth1" }],
    });
    expect(desiredL2Status("node-1", "ns/web", [])).toEqual({ node: "node-1", serviceName: "web", serviceNamespace: "ns" });
  });
});

describe("projectL2Status and observeL2Status", () => {
  it("keep name, resourceVersion, MetalLB's three labels and status; drop everything else and objects being deleted", () => {
    const raw = {
      metadata: {
        name: "l2-a",
        namespace: "metallb-system",
        resourceVersion: "7",
        labels: { "metallb.io/node": "n", "metallb.io/service-name": "web", "metallb.io/service-namespace": "ns", app: "x" },
        ownerReferences: [{ apiVersion: "v1", kind: "Pod", name: "speaker-x", uid: "u" }],
        managedFields: [{ manager: "speaker" }],
      },
      spec: {},
      status: { node: "n", serviceName: "web", serviceNamespace: "ns", interfaces: [{ name: "eth0", extra: 1 }], other: "dropped" },
    };
    const projected = projectL2Status(raw);
    expect(projected).toEqual({
      metadata: { name: "l2-a", namespace: "metallb-system", resourceVersion: "7", labels: { "metallb.io/node": "n", "metallb.io/service-name": "web", "metallb.io/service-namespace": "ns" } },
      status: { node: "n", serviceName: "web", serviceNamespace: "ns", interfaces: [{ name: "eth0" }] },
    });
    expect(observeL2Status(projected)).toEqual({ name: "l2-a", resourceVersion: "7", labels: projected.metadata.labels, status: projected.status });
    expect(observeL2Status(projectL2Status({ metadata: { name: "l2-a", deletionTimestamp: "2026-01-01T00:00:00Z" } }))).toBeUndefined();
    expect(observeL2Status(projectL2Status({ metadata: {} }))).toBeUndefined();
    expect(observeL2Status(projectL2Status(null))).toBeUndefined();
    expect(observeL2Status(projectL2Status({ metadata: { name: "l2-b" } }))).toEqual({ name: "l2-b", resourceVersion: undefined, labels: {}, status: {} });
  });
});

describe("announcedL2Services", () => {
  type Outcome = [key: string, owner: string | undefined, interfaces?: string[][]];
  /** A plan for `ip`; each Service's advertisements have the given interface lists (absent: no policy). */
  const plan = (ip: string, services: Outcome[]): [string, IpPlan] => [
    ip,
    {
      ip,
      owner: services.find(([, o]) => o)?.[1],
      reason: undefined,
      services: services.map(([key, owner, ifs]) => ({ key, owner, reason: undefined, advertisements: ifs?.map((interfaces) => advertisement(interfaces)) })),
    },
  ];
  const advertisement = (interfaces: string[]) => ({
    source: "L2Advertisement metallb-system/ad",
    name: "ad",
    ipAddressPools: [],
    ipAddressPoolSelectors: [],
    nodeSelectors: [],
    interfaces,
    serviceSelectors: [],
    preferredNodeSelectors: [],
  });

  it("a Service is announced when one of its IPs is; the owner of its other IP is alsoAnnouncedBy", () => {
    const plans = new Map([
      plan("192.168.126.40", [["default/web", "node-1"]]),
      plan("fc00::40", [["default/web", "node-2"]]),
      plan("192.168.126.41", [
        ["default/dns-tcp", "node-1"],
        ["default/dns-udp", "node-1"],
      ]),
      plan("192.168.126.42", [["default/other", "node-2"]]),
    ]);
    expect(announcedL2Services("node-1", new Set(["192.168.126.40", "192.168.126.41"]), plans)).toEqual(
      new Map([
        ["default/web", { interfaces: [], alsoAnnouncedBy: ["node-2"] }],
        ["default/dns-tcp", { interfaces: [], alsoAnnouncedBy: [] }],
        ["default/dns-udp", { interfaces: [], alsoAnnouncedBy: [] }],
      ]),
    );
  });

  it("interfaces are the union of the advertisements' interfaces, and none when one advertisement allows every interface", () => {
    const plans = new Map([
      plan("192.168.126.40", [["default/web", "node-1", [["eth1"], ["eth0", "eth1"]]]]),
      plan("fc00::40", [["default/web", "node-1", [["eth2"]]]]),
      plan("192.168.126.41", [["default/all", "node-1", [["eth0"], []]]]),
    ]);
    const out = announcedL2Services("node-1", new Set(["192.168.126.40", "fc00::40", "192.168.126.41"]), plans);
    expect(out.get("default/web")).toEqual({ interfaces: ["eth0", "eth1", "eth2"], alsoAnnouncedBy: [] });
    expect(out.get("default/all")).toEqual({ interfaces: [], alsoAnnouncedBy: [] });
  });

  it("Services sharing a dual-stack pair in opposite family order: the owner reports both, and nobody else is named", () => {
    // MetalLB would rank dns-tcp by fd00:126::43 (node-2) and dns-udp by 192.168.126.43 (node-3); here both rank by
    // dns-tcp's first IP (speaker/election/ranking-ips.ts), so node-2 announces both IPs for both Services.
    const all = ["node-1", "node-2", "node-3"];
    const endpoints = all.map((nodeName) => ({ nodeName, ready: true }));
    const plans = planAnnouncements(
      [
        { key: "kube-system/dns-udp", ips: ["192.168.126.43", "fd00:126::43"], endpoints },
        { key: "kube-system/dns-tcp", ips: ["fd00:126::43", "192.168.126.43"], endpoints },
      ],
      all.map((name) => ({ name })),
      new Set(all),
    );
    const both = { interfaces: [], alsoAnnouncedBy: [] };
    expect(announcedL2Services("node-2", new Set(["192.168.126.43", "fd00:126::43"]), plans)).toEqual(
      new Map([
        ["kube-system/dns-tcp", both],
        ["kube-system/dns-udp", both],
      ]),
    );
  });

  it("an IP elected to us but not announced yet (takeover gate) announces nothing", () => {
    const plans = new Map([plan("192.168.126.40", [["default/web", "node-1"]])]);
    expect(announcedL2Services("node-1", new Set(), plans)).toEqual(new Map());
  });
});
