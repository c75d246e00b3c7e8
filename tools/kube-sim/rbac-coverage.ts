/**
 * Which permissions of a set of Roles and ClusterRoles nobody used. A role grants, per rule, every combination of
 * its verbs, API groups, resources and resourceNames (or verbs and nonResourceURLs); a grant is used when the
 * {@link RbacAuthorizer} allowed a request through that very rule with a matching verb, group, resource and name.
 * A grant nobody used is a permission the workload does not need (or a path the test did not exercise).
 *
 * @example
 * unusedGrants(rolesFromManifests, rbac.usage());
 * // ['ClusterRole/baremetal-lb:controller rules[0]: update services ("")']
 */
import type { RuleUse } from "./rbac-authorizer.ts";
import { apiGroupMatches, nonResourceUrlMatches, resourceMatches, verbMatches, type PolicyRule } from "./rbac-rules.ts";

/** A Role or ClusterRole as parsed from a manifest. */
export interface RoleObject {
  kind: string;
  metadata: { name?: string; namespace?: string };
  rules?: PolicyRule[];
}

/** One permission of one rule. */
interface Grant {
  role: string;
  ruleIndex: number;
  describe: string;
  covers(use: RuleUse): boolean;
}

/** The id RbacAuthorizer records for a role: "ClusterRole/<name>" or "Role/<namespace>/<name>". */
export function roleId(role: RoleObject): string {
  return role.kind === "ClusterRole" ? `ClusterRole/${role.metadata.name}` : `Role/${role.metadata.namespace}/${role.metadata.name}`;
}

function grantsOf(role: RoleObject): Grant[] {
  const id = roleId(role);
  const out: Grant[] = [];
  for (const [ruleIndex, rule] of (role.rules ?? []).entries()) {
    const prefix = `${id} rules[${ruleIndex}]:`;
    for (const verb of rule.verbs) {
      const one: PolicyRule = { verbs: [verb] };
      for (const url of rule.nonResourceURLs ?? []) {
        out.push({
          role: id,
          ruleIndex,
          describe: `${prefix} ${verb} ${url}`,
          covers: (u) => verbMatches(one, u.verb) && nonResourceUrlMatches({ ...one, nonResourceURLs: [url] }, u.resource),
        });
      }
      for (const group of rule.apiGroups ?? []) {
        for (const resource of rule.resources ?? []) {
          const names = rule.resourceNames?.length ? rule.resourceNames : [undefined];
          for (const name of names) {
            const narrowed: PolicyRule = { verbs: [verb], apiGroups: [group], resources: [resource] };
            const groupSuffix = group === "" ? "" : `.${group}`;
            out.push({
              role: id,
              ruleIndex,
              describe: `${prefix} ${verb} ${resource}${groupSuffix}${name === undefined ? "" : ` "${name}"`}`,
              covers: (u) => {
                const slash = u.resource.indexOf("/");
                return (
                  verbMatches(narrowed, u.verb) &&
                  apiGroupMatches(narrowed, u.apiGroup) &&
                  resourceMatches(narrowed, u.resource, slash < 0 ? "" : u.resource.slice(slash + 1)) &&
                  (name === undefined || u.name === name)
                );
              },
            });
          }
        }
      }
    }
  }
  return out;
}

/**
 * The grants of `roles` that no recorded use covers, each described as
 * `<role> rules[<i>]: <verb> <resource>[.<group>] ["<name>"]`; empty when every permission was used.
 */
export function unusedGrants(roles: readonly RoleObject[], uses: readonly RuleUse[]): string[] {
  const unused: string[] = [];
  for (const role of roles) {
    for (const grant of grantsOf(role)) {
      const used = uses.some((u) => u.role === grant.role && u.ruleIndex === grant.ruleIndex && grant.covers(u));
      if (!used) unused.push(grant.describe);
    }
  }
  return unused;
}
