import { CoreV1Api, RbacAuthorizationV1Api } from "@kubernetes/client-node";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_USER, serviceAccountGroups, type RequestAttributes, type UserInfo } from "./identities.ts";
import { startKubeSim, type KubeSim } from "./index.ts";
import { RbacAuthorizer } from "./rbac-authorizer.ts";
import { unusedGrants, type RoleObject } from "./rbac-coverage.ts";
import { createSimulatedCluster, type SimulatedCluster } from "./simulated-cluster.ts";

const group = "rbac.authorization.k8s.io";

function sa(namespace: string, name: string): UserInfo {
  return { name: `system:serviceaccount:${namespace}:${name}`, groups: serviceAccountGroups(namespace) };
}
const speaker = sa("lb", "speaker");
const controller = sa("lb", "controller");
const stranger = sa("other", "speaker");
const ops: UserInfo = { name: "olga", groups: ["ops", "system:authenticated"] };
const monitor: UserInfo = { name: "mon", groups: ["system:authenticated"] };
const dave: UserInfo = { name: "dave", groups: ["system:authenticated"] };

function resource(verb: string, apiGroup: string, res: string, namespace: string, name = "", subresource = ""): RequestAttributes {
  return { verb, isResourceRequest: true, path: "", apiGroup, apiVersion: "v1", resource: res, subresource, namespace, name };
}
function url(verb: string, path: string): RequestAttributes {
  return { verb, isResourceRequest: false, path, apiGroup: "", apiVersion: "", resource: "", subresource: "", namespace: "", name: "" };
}

const roles: RoleObject[] = [
  { kind: "ClusterRole", metadata: { name: "svc-reader" }, rules: [{ apiGroups: [""], resources: ["services"], verbs: ["get", "list", "watch"] }] },
  {
    kind: "Role",
    metadata: { name: "config-reader", namespace: "lb" },
    rules: [
      { apiGroups: [""], resources: ["configmaps"], resourceNames: ["config"], verbs: ["get", "list", "watch"] },
      { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["*"] },
    ],
  },
  { kind: "ClusterRole", metadata: { name: "status-writer" }, rules: [{ apiGroups: [""], resources: ["services/status"], verbs: ["update"] }] },
  { kind: "ClusterRole", metadata: { name: "scaler" }, rules: [{ apiGroups: ["*"], resources: ["*/scale"], verbs: ["patch"] }] },
  { kind: "ClusterRole", metadata: { name: "metrics-reader" }, rules: [{ nonResourceURLs: ["/metrics", "/debug/*"], verbs: ["get"] }] },
];

const bindings = [
  {
    kind: "ClusterRoleBinding",
    metadata: { name: "svc-reader" },
    roleRef: { apiGroup: group, kind: "ClusterRole", name: "svc-reader" },
    subjects: [{ kind: "ServiceAccount", name: "speaker", namespace: "lb" }],
  },
  {
    // A ServiceAccount subject without a namespace means the binding's own namespace.
    kind: "RoleBinding",
    metadata: { name: "config-reader", namespace: "lb" },
    roleRef: { apiGroup: group, kind: "Role", name: "config-reader" },
    subjects: [{ kind: "ServiceAccount", name: "speaker" }],
  },
  {
    // A RoleBinding to a ClusterRole grants it in the binding's namespace only.
    kind: "RoleBinding",
    metadata: { name: "status-writer", namespace: "web" },
    roleRef: { apiGroup: group, kind: "ClusterRole", name: "status-writer" },
    subjects: [{ kind: "ServiceAccount", name: "controller", namespace: "lb" }],
  },
  {
    kind: "ClusterRoleBinding",
    metadata: { name: "scaler" },
    roleRef: { apiGroup: group, kind: "ClusterRole", name: "scaler" },
    subjects: [{ kind: "Group", apiGroup: group, name: "ops" }],
  },
  {
    kind: "ClusterRoleBinding",
    metadata: { name: "metrics-reader" },
    roleRef: { apiGroup: group, kind: "ClusterRole", name: "metrics-reader" },
    subjects: [{ kind: "User", apiGroup: group, name: "mon" }],
  },
  {
    kind: "ClusterRoleBinding",
    metadata: { name: "dangling" },
    roleRef: { apiGroup: group, kind: "ClusterRole", name: "missing" },
    subjects: [{ kind: "User", apiGroup: group, name: "dave" }],
  },
];

/** Stores `roles` and `bindings` (and their namespaces) in a simulated cluster. */
function storePolicy(cluster: SimulatedCluster): void {
  const { state } = cluster;
  for (const ns of ["lb", "web", "other"]) state.create(cluster.types.namespaces, "", { metadata: { name: ns } });
  for (const obj of [...roles, ...bindings]) {
    const plural = `${obj.kind.toLowerCase()}s`;
    const type = state.registry.find(group, "v1", plural)!;
    state.create(type, obj.metadata.namespace ?? "", structuredClone({ apiVersion: `${group}/v1`, ...obj }));
  }
}

describe("RBAC authorizer", () => {
  let cluster: SimulatedCluster;
  let rbac: RbacAuthorizer;

  beforeAll(() => {
    cluster = createSimulatedCluster({ endpointsController: false });
    storePolicy(cluster);
    rbac = new RbacAuthorizer();
    rbac.attach(cluster.state);
  });
  afterAll(() => cluster.stop());

  const cases: [string, UserInfo, RequestAttributes, boolean][] = [
    ["a ClusterRoleBinding grants list at the cluster scope", speaker, resource("list", "", "services", ""), true],
    ["a ClusterRoleBinding grants watch in any namespace", speaker, resource("watch", "", "services", "default"), true],
    ["a verb the rule lacks is denied", speaker, resource("update", "", "services", "default", "web"), false],
    ["the same resource name in another API group is denied", speaker, resource("list", "apps", "services", ""), false],
    ["resourceNames allow get of the named object", speaker, resource("get", "", "configmaps", "lb", "config"), true],
    ["resourceNames deny get of another object", speaker, resource("get", "", "configmaps", "lb", "other"), false],
    ["resourceNames deny a list that names no object", speaker, resource("list", "", "configmaps", "lb"), false],
    ["resourceNames allow a list pinned to the name by fieldSelector", speaker, resource("list", "", "configmaps", "lb", "config"), true],
    ["resourceNames allow a watch pinned to the name by fieldSelector", speaker, resource("watch", "", "configmaps", "lb", "config"), true],
    ["a RoleBinding grants nothing in another namespace", speaker, resource("get", "", "configmaps", "kube-system", "config"), false],
    ["a RoleBinding grants nothing at the cluster scope", speaker, resource("list", "", "configmaps", ""), false],
    ["the verb wildcard allows create", speaker, resource("create", "coordination.k8s.io", "leases", "lb"), true],
    ["the verb wildcard allows delete", speaker, resource("delete", "coordination.k8s.io", "leases", "lb", "speaker-a"), true],
    ["the verb wildcard stays in the binding's namespace", speaker, resource("create", "coordination.k8s.io", "leases", "default"), false],
    ["a ServiceAccount of the same name in another namespace gets nothing", stranger, resource("list", "", "services", ""), false],
    ["a RoleBinding to a ClusterRole grants it in the binding's namespace", controller, resource("update", "", "services", "web", "front", "status"), true],
    ["a RoleBinding to a ClusterRole grants nothing elsewhere", controller, resource("update", "", "services", "default", "front", "status"), false],
    ["a subresource rule does not grant the main resource", controller, resource("update", "", "services", "web", "front"), false],
    ["a subresource rule grants only its verbs", controller, resource("patch", "", "services", "web", "front", "status"), false],
    ["*/scale matches the scale subresource of any resource in any group", ops, resource("patch", "apps", "deployments", "x", "web", "scale"), true],
    ["*/scale does not match the main resource", ops, resource("patch", "apps", "deployments", "x", "web"), false],
    ["system:masters may do anything", ADMIN_USER, resource("delete", "", "nodes", "", "node-1"), true],
    ["every authenticated user may read discovery", stranger, url("get", "/apis/apps/v1"), true],
    ["every authenticated user may read the version", stranger, url("get", "/version"), true],
    ["every authenticated user may read OpenAPI", stranger, url("get", "/openapi/v3/api/v1"), true],
    ["other paths need a nonResourceURLs rule", stranger, url("get", "/metrics"), false],
    ["an exact nonResourceURL allows the path", monitor, url("get", "/metrics"), true],
    ["a prefix* nonResourceURL allows paths below it", monitor, url("get", "/debug/pprof/heap"), true],
    ["a nonResourceURL rule allows only its verbs", monitor, url("post", "/metrics"), false],
  ];

  it.each(cases)("%s", (_name, user, attributes, allowed) => {
    expect(rbac.authorize(user, attributes).allowed).toBe(allowed);
  });

  it("names a binding whose role is missing in the denial reason, as kube-apiserver does", () => {
    expect(rbac.authorize(dave, resource("get", "", "pods", "default", "x"))).toEqual({
      allowed: false,
      reason: `RBAC: clusterrole.${group} "missing" not found`,
    });
  });

  it("records which binding, role and rule allowed each request, and every denial", () => {
    const fresh = new RbacAuthorizer();
    fresh.attach(cluster.state);
    fresh.authorize(speaker, resource("list", "", "configmaps", "lb", "config"));
    fresh.authorize(speaker, resource("list", "", "configmaps", "lb", "config"));
    fresh.authorize(speaker, resource("update", "coordination.k8s.io", "leases", "lb", "speaker-a"));
    fresh.authorize(speaker, resource("get", "", "configmaps", "kube-system", "kube-proxy"));
    expect(fresh.usage()).toEqual([
      {
        binding: "RoleBinding/lb/config-reader",
        role: "Role/lb/config-reader",
        ruleIndex: 0,
        user: speaker.name,
        verb: "list",
        apiGroup: "",
        resource: "configmaps",
        namespace: "lb",
        name: "config",
        count: 2,
      },
      {
        binding: "RoleBinding/lb/config-reader",
        role: "Role/lb/config-reader",
        ruleIndex: 1,
        user: speaker.name,
        verb: "update",
        apiGroup: "coordination.k8s.io",
        resource: "leases",
        namespace: "lb",
        name: "speaker-a",
        count: 1,
      },
    ]);
    expect(fresh.denials()).toEqual([
      { user: speaker.name, verb: "get", apiGroup: "", resource: "configmaps", namespace: "kube-system", name: "kube-proxy", reason: "" },
    ]);
  });

  it("lists every permission nobody used, down to the verb, resource and name", () => {
    const fresh = new RbacAuthorizer();
    fresh.attach(cluster.state);
    fresh.authorize(speaker, resource("list", "", "services", ""));
    fresh.authorize(speaker, resource("watch", "", "services", ""));
    fresh.authorize(speaker, resource("get", "", "configmaps", "lb", "config"));
    fresh.authorize(speaker, resource("create", "coordination.k8s.io", "leases", "lb"));
    fresh.authorize(controller, resource("update", "", "services", "web", "front", "status"));
    fresh.authorize(ops, resource("patch", "apps", "deployments", "x", "web", "scale"));
    fresh.authorize(monitor, url("get", "/debug/vars"));
    expect(unusedGrants(roles, fresh.usage())).toEqual([
      "ClusterRole/svc-reader rules[0]: get services",
      'Role/lb/config-reader rules[0]: list configmaps "config"',
      'Role/lb/config-reader rules[0]: watch configmaps "config"',
      "ClusterRole/metrics-reader rules[0]: get /metrics",
    ]);
  });

  it("refuses to decide before it has a cluster state, saying how to attach one", () => {
    expect(() => new RbacAuthorizer().authorize(speaker, resource("list", "", "services", ""))).toThrow(
      "RbacAuthorizer has no cluster state: call rbac.attach(sim.state) right after startKubeSim",
    );
  });
});

describe("RBAC enforced by the simulator over HTTP", () => {
  let sim: KubeSim;
  let dir: string;
  let asSpeaker: CoreV1Api;

  beforeAll(async () => {
    const rbac = new RbacAuthorizer();
    sim = await startKubeSim({ authorize: rbac.authorize, endpointsController: false });
    rbac.attach(sim.state);
    dir = await mkdtemp(join(tmpdir(), "rbac-http-"));
    const core = sim.client.makeApiClient(CoreV1Api);
    const api = sim.client.makeApiClient(RbacAuthorizationV1Api);
    for (const name of ["lb", "web", "other"]) await core.createNamespace({ body: { metadata: { name } } });
    for (const r of structuredClone(roles)) {
      if (r.kind === "ClusterRole") await api.createClusterRole({ body: { metadata: r.metadata, rules: r.rules } });
      else await api.createNamespacedRole({ namespace: r.metadata.namespace!, body: { metadata: r.metadata, rules: r.rules } });
    }
    for (const b of structuredClone(bindings)) {
      const body = { metadata: b.metadata, roleRef: b.roleRef, subjects: b.subjects };
      if (b.kind === "ClusterRoleBinding") await api.createClusterRoleBinding({ body });
      else await api.createNamespacedRoleBinding({ namespace: b.metadata.namespace!, body });
    }
    await core.createNamespacedConfigMap({ namespace: "lb", body: { metadata: { name: "config" }, data: { config: "x" } } });
    await core.createNamespacedService({ namespace: "default", body: { metadata: { name: "web" }, spec: { ports: [{ port: 80 }] } } });
    asSpeaker = (await sim.issueKubeconfig(join(dir, "speaker"), speaker)).makeApiClient(CoreV1Api);
  });

  afterAll(async () => {
    await sim?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function forbidden(call: Promise<unknown>): Promise<{ code: number; message: string; reason: string; details: unknown }> {
    const err = (await call.then(
      () => undefined,
      (e: unknown) => e,
    )) as { code?: number; body?: string } | undefined;
    if (!err) throw new Error("the request was allowed; expected 403 Forbidden");
    const status = JSON.parse(err.body ?? "{}") as { code: number; message: string; reason: string; details: unknown };
    expect(err.code).toBe(403);
    return status;
  }

  it("allows a list pinned by fieldSelector to a name the rule lists", async () => {
    const list = await asSpeaker.listNamespacedConfigMap({ namespace: "lb", fieldSelector: "metadata.name=config" });
    expect(list.items.map((c) => c.metadata?.name)).toEqual(["config"]);
  });

  it("refuses a namespaced write with kube-apiserver's 403 Status and message", async () => {
    const svc = await sim.client.makeApiClient(CoreV1Api).readNamespacedService({ name: "web", namespace: "default" });
    const status = await forbidden(asSpeaker.replaceNamespacedServiceStatus({ name: "web", namespace: "default", body: svc }));
    expect(status).toMatchObject({
      code: 403,
      reason: "Forbidden",
      message: `services "web" is forbidden: User "system:serviceaccount:lb:speaker" cannot update resource "services/status" in API group "" in the namespace "default"`,
      details: { name: "web", kind: "services" },
    });
  });

  it("refuses a cluster-scoped list with the cluster-scope message", async () => {
    const status = await forbidden(asSpeaker.listNode());
    expect(status.message).toBe(`nodes is forbidden: User "system:serviceaccount:lb:speaker" cannot list resource "nodes" in API group "" at the cluster scope`);
  });

  it("refuses a list of a name-restricted resource without a name", async () => {
    const status = await forbidden(asSpeaker.listNamespacedConfigMap({ namespace: "lb" }));
    expect(status.message).toBe(`configmaps is forbidden: User "system:serviceaccount:lb:speaker" cannot list resource "configmaps" in API group "" in the namespace "lb"`);
  });
});
