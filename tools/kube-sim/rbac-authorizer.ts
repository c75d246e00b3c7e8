/**
 * RBAC enforcement for the simulator, as kube-apiserver's RBAC authorizer does it: members of system:masters may
 * do anything; everyone else needs a rule from the Roles, ClusterRoles, RoleBindings and ClusterRoleBindings
 * stored in the simulator, read at request time (ClusterRoleBindings grant cluster-wide, RoleBindings only inside
 * their namespace, also when they reference a ClusterRole). Verbs, API groups, resources with subresources
 * ("services/status", "*\/status"), resourceNames (a list or watch names an object through
 * `fieldSelector=metadata.name=X`) and "*" wildcards match as in rbac/v1; aggregated ClusterRoles are not
 * computed. The bootstrap policy's discovery rules (system:discovery, system:public-info-viewer) are built in, so
 * every authenticated user may read /api, /apis, /openapi, /version and the health paths.
 *
 * Every allowed request records which binding, role and rule allowed it ({@link RbacAuthorizer.usage}), and every
 * denial is kept ({@link RbacAuthorizer.denials}), so a test can list the rules nobody used and the requests
 * that were refused.
 *
 * @example
 * const rbac = new RbacAuthorizer();
 * const sim = await startKubeSim({ authorize: rbac.authorize });
 * rbac.attach(sim.state);
 * // ... apply Roles and bindings, run clients with sim.issueKubeconfig(path, { name, groups }) ...
 * rbac.denials(); // []
 */
import type { ClusterState } from "./cluster-state.ts";
import type { Authorizer, Decision, RequestAttributes, UserInfo } from "./identities.ts";
import { combinedResource, ruleAllows, subjectMatches, type PolicyRule, type RoleRef, type Subject } from "./rbac-rules.ts";
import type { KubeObject, ResourceType } from "./resources.ts";

/** One way a rule was used: which binding and role allowed which request, and how often. */
export interface RuleUse {
  /** "ClusterRoleBinding/<name>" or "RoleBinding/<namespace>/<name>". */
  binding: string;
  /** "ClusterRole/<name>" or "Role/<namespace>/<name>". */
  role: string;
  /** Index of the rule in the role's `rules`. */
  ruleIndex: number;
  user: string;
  verb: string;
  apiGroup: string;
  /** "services", "services/status", or the URL path of a non-resource request. */
  resource: string;
  namespace: string;
  name: string;
  count: number;
}

/** A refused request. */
export interface Denial {
  user: string;
  verb: string;
  apiGroup: string;
  /** "services", "services/status", or the URL path of a non-resource request. */
  resource: string;
  namespace: string;
  name: string;
  /** The RBAC errors met on the way (bindings to missing roles), as appended to the 403 message. */
  reason: string;
}

const rbacGroup = "rbac.authorization.k8s.io";
const mastersGroup = "system:masters";

interface Grant {
  binding: string;
  role: string;
  rules: PolicyRule[];
}

/** The bootstrap ClusterRoles every cluster has for discovery, bound to every (authenticated) user. */
const bootstrapGrants: ReadonlyArray<Grant & { subjects: Subject[] }> = [
  {
    binding: "ClusterRoleBinding/system:discovery",
    role: "ClusterRole/system:discovery",
    subjects: [{ kind: "Group", name: "system:authenticated" }],
    rules: [
      {
        verbs: ["get"],
        nonResourceURLs: ["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi", "/openapi/*", "/readyz", "/version", "/version/"],
      },
    ],
  },
  {
    binding: "ClusterRoleBinding/system:public-info-viewer",
    role: "ClusterRole/system:public-info-viewer",
    subjects: [
      { kind: "Group", name: "system:authenticated" },
      { kind: "Group", name: "system:unauthenticated" },
    ],
    rules: [{ verbs: ["get"], nonResourceURLs: ["/healthz", "/livez", "/readyz", "/version", "/version/"] }],
  },
];

/** errors.NewAggregate(...).Error(): one message as is, several de-duplicated in brackets. */
function aggregate(errors: string[]): string {
  const unique = [...new Set(errors)];
  return unique.length === 1 ? unique[0] : `[${unique.join(", ")}]`;
}

/** The RBAC authorizer of a simulator; see the module comment. */
export class RbacAuthorizer {
  #state: ClusterState | undefined;
  readonly #uses = new Map<string, RuleUse>();
  readonly #denials: Denial[] = [];

  /** The hook to pass as `startKubeSim({ authorize })`. */
  readonly authorize: Authorizer = (user, attributes) => this.#decide(user, attributes);

  /** Reads the policy from `state` from now on (call it right after `startKubeSim`). */
  attach(state: ClusterState): void {
    this.#state = state;
  }

  /** Every (binding, role, rule, request) that was allowed, with counts, in first-use order. */
  usage(): RuleUse[] {
    return [...this.#uses.values()].map((u) => ({ ...u }));
  }

  /** Every refused request, in order. */
  denials(): Denial[] {
    return this.#denials.map((d) => ({ ...d }));
  }

  #decide(user: UserInfo, a: RequestAttributes): Decision {
    if (user.groups.includes(mastersGroup)) return { allowed: true };
    const errors: string[] = [];
    for (const grant of this.#grantsFor(user, a.namespace, errors)) {
      const index = grant.rules.findIndex((rule) => ruleAllows(rule, a));
      if (index >= 0) {
        this.#record(grant, index, user, a);
        return { allowed: true };
      }
    }
    const reason = errors.length > 0 ? `RBAC: ${aggregate(errors)}` : "";
    this.#denials.push({
      user: user.name,
      verb: a.verb,
      apiGroup: a.apiGroup,
      resource: a.isResourceRequest ? combinedResource(a) : a.path,
      namespace: a.namespace,
      name: a.name,
      reason,
    });
    return reason ? { allowed: false, reason } : { allowed: false };
  }

  /** The rule sets bound to `user`: bootstrap, then ClusterRoleBindings, then RoleBindings in `namespace`. */
  *#grantsFor(user: UserInfo, namespace: string, errors: string[]): Generator<Grant> {
    const state = this.#state;
    if (!state) throw new Error("RbacAuthorizer has no cluster state: call rbac.attach(sim.state) right after startKubeSim");
    for (const grant of bootstrapGrants) {
      if (grant.subjects.some((s) => subjectMatches(s, user, ""))) yield grant;
    }
    for (const stored of state.list(this.#type(state, "clusterrolebindings"))) {
      const binding = stored.object;
      if (!bindingSubjects(binding).some((s) => subjectMatches(s, user, ""))) continue;
      const grant = this.#resolve(state, binding, "", `ClusterRoleBinding/${binding.metadata.name}`, errors);
      if (grant) yield grant;
    }
    if (namespace === "") return;
    for (const stored of state.list(this.#type(state, "rolebindings"), namespace)) {
      const binding = stored.object;
      if (!bindingSubjects(binding).some((s) => subjectMatches(s, user, namespace))) continue;
      const grant = this.#resolve(state, binding, namespace, `RoleBinding/${namespace}/${binding.metadata.name}`, errors);
      if (grant) yield grant;
    }
  }

  /** The role a binding references, or an error like kube-apiserver's lister gives for a missing one. */
  #resolve(state: ClusterState, binding: KubeObject, namespace: string, bindingId: string, errors: string[]): Grant | undefined {
    const ref = (binding.roleRef ?? {}) as Partial<RoleRef>;
    const name = ref.name ?? "";
    if (ref.kind === "ClusterRole") {
      const role = state.find(this.#type(state, "clusterroles"), "", name);
      if (!role) errors.push(`clusterrole.${rbacGroup} "${name}" not found`);
      else return { binding: bindingId, role: `ClusterRole/${name}`, rules: roleRules(role.object) };
    } else if (ref.kind === "Role") {
      const role = namespace === "" ? undefined : state.find(this.#type(state, "roles"), namespace, name);
      if (!role) errors.push(`role.${rbacGroup} "${name}" not found`);
      else return { binding: bindingId, role: `Role/${namespace}/${name}`, rules: roleRules(role.object) };
    } else {
      errors.push(`unsupported role reference kind: "${ref.kind ?? ""}"`);
    }
    return undefined;
  }

  #type(state: ClusterState, plural: string): ResourceType {
    const type = state.registry.find(rbacGroup, "v1", plural);
    if (!type) throw new Error(`the simulator does not serve ${plural}.${rbacGroup}/v1`);
    return type;
  }

  #record(grant: Grant, ruleIndex: number, user: UserInfo, a: RequestAttributes): void {
    const resource = a.isResourceRequest ? combinedResource(a) : a.path;
    const key = JSON.stringify([grant.binding, grant.role, ruleIndex, user.name, a.verb, a.apiGroup, resource, a.namespace, a.name]);
    const known = this.#uses.get(key);
    if (known) known.count++;
    else {
      this.#uses.set(key, {
        binding: grant.binding,
        role: grant.role,
        ruleIndex,
        user: user.name,
        verb: a.verb,
        apiGroup: a.apiGroup,
        resource,
        namespace: a.namespace,
        name: a.name,
        count: 1,
      });
    }
  }
}

function bindingSubjects(binding: KubeObject): Subject[] {
  return Array.isArray(binding.subjects) ? (binding.subjects as Subject[]) : [];
}

function roleRules(role: KubeObject): PolicyRule[] {
  return Array.isArray(role.rules) ? (role.rules as PolicyRule[]) : [];
}
