import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiError } from "./api-error.ts";
import { createSimulatedCluster, type SimulatedCluster } from "./simulated-cluster.ts";
import type { ResourceType } from "./resources.ts";

const group = "rbac.authorization.k8s.io";

describe("RBAC object validation", () => {
  let cluster: SimulatedCluster;
  const type = (plural: string): ResourceType => cluster.state.registry.find(group, "v1", plural)!;
  /** The 422 message of creating `body`, or "created". */
  function create(plural: string, namespace: string, body: Record<string, unknown>): string {
    try {
      cluster.state.create(type(plural), namespace, { apiVersion: `${group}/v1`, ...body });
      return "created";
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      return e.status.message ?? "";
    }
  }

  beforeAll(() => {
    cluster = createSimulatedCluster({ endpointsController: false });
  });
  afterAll(() => cluster.stop());

  it("accepts names with colons, as the system roles have", () => {
    expect(create("clusterroles", "", { metadata: { name: "baremetal-lb:controller" }, rules: [{ apiGroups: [""], resources: ["services"], verbs: ["list"] }] })).toBe("created");
  });

  it("refuses a rule without verbs, groups or resources", () => {
    expect(create("roles", "default", { metadata: { name: "empty" }, rules: [{}] })).toBe(
      'Role.rbac.authorization.k8s.io "empty" is invalid: [rules[0].verbs: Required value: verbs must contain at least one value, rules[0].apiGroups: Required value: resource rules must supply at least one api group, rules[0].resources: Required value: resource rules must supply at least one resource]',
    );
  });

  it("refuses non-resource URLs in a namespaced Role", () => {
    expect(create("roles", "default", { metadata: { name: "urls" }, rules: [{ verbs: ["get"], nonResourceURLs: ["/metrics"] }] })).toContain(
      "rules[0].nonResourceURLs: Invalid value",
    );
  });

  it("requires the namespace of a ServiceAccount subject in a ClusterRoleBinding", () => {
    expect(
      create("clusterrolebindings", "", {
        metadata: { name: "no-ns" },
        roleRef: { apiGroup: group, kind: "ClusterRole", name: "baremetal-lb:controller" },
        subjects: [{ kind: "ServiceAccount", name: "controller" }],
      }),
    ).toBe('ClusterRoleBinding.rbac.authorization.k8s.io "no-ns" is invalid: subjects[0].namespace: Required value');
  });

  it("refuses a ClusterRoleBinding to a Role", () => {
    expect(
      create("clusterrolebindings", "", { metadata: { name: "to-role" }, roleRef: { apiGroup: group, kind: "Role", name: "x" }, subjects: [] }),
    ).toBe('ClusterRoleBinding.rbac.authorization.k8s.io "to-role" is invalid: roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"');
  });

  it("defaults the API group of User and Group subjects, and never lets roleRef change", () => {
    const binding = cluster.state.create(type("rolebindings"), "default", {
      apiVersion: `${group}/v1`,
      metadata: { name: "ops" },
      roleRef: { apiGroup: group, kind: "ClusterRole", name: "view" },
      subjects: [{ kind: "Group", name: "ops" }],
    });
    expect(binding.object.subjects).toEqual([{ kind: "Group", name: "ops", apiGroup: group }]);
    const changed = { ...binding.object, roleRef: { apiGroup: group, kind: "ClusterRole", name: "admin" } };
    expect(() => cluster.state.update(type("rolebindings"), "default", "ops", changed)).toThrow("roleRef: Invalid value");
  });
});
