/**
 * Strategies of the RBAC kinds, validating as kube-apiserver's pkg/apis/rbac/validation does: names are path
 * segments (colons allowed, as in "system:controller:foo"); every rule needs verbs, and either apiGroups and
 * resources or (ClusterRoles only) nonResourceURLs; a binding's roleRef needs the RBAC group, a supported kind and a
 * name, and never changes; subjects are ServiceAccounts (with a namespace in ClusterRoleBindings), Users or Groups.
 * As rbac/v1 defaulting does, User and Group subjects get apiGroup rbac.authorization.k8s.io when it is empty.
 *
 * @example
 * const strategies = new Map(rbacStrategies());
 */
import type { StatusCause } from "./api-error.ts";
import { invalidValue, nameProblems, notSupported, required } from "./field-errors.ts";
import { isPlainObject } from "./json-value.ts";
import type { KindStrategy } from "./kind-strategy.ts";
import type { KubeObject } from "./resources.ts";

const group = "rbac.authorization.k8s.io";

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function ruleProblems(rule: unknown, path: string, namespaced: boolean): StatusCause[] {
  const r = isPlainObject(rule) ? rule : {};
  const out: StatusCause[] = [];
  if (list(r.verbs).length === 0) out.push(required(`${path}.verbs`, "verbs must contain at least one value"));
  const urls = list(r.nonResourceURLs);
  if (urls.length > 0) {
    if (namespaced) out.push(invalidValue(`${path}.nonResourceURLs`, urls, "namespaced rules cannot apply to non-resource URLs"));
    if (list(r.apiGroups).length > 0 || list(r.resources).length > 0 || list(r.resourceNames).length > 0) {
      out.push(invalidValue(`${path}.nonResourceURLs`, urls, "rules cannot apply to both regular resources and non-resource URLs"));
    }
    return out;
  }
  if (list(r.apiGroups).length === 0) out.push(required(`${path}.apiGroups`, "resource rules must supply at least one api group"));
  if (list(r.resources).length === 0) out.push(required(`${path}.resources`, "resource rules must supply at least one resource"));
  return out;
}

function roleStrategy(namespaced: boolean): KindStrategy {
  return {
    nameRule: "path-segment",
    validate: (obj) => list(obj.rules).flatMap((rule, i) => ruleProblems(rule, `rules[${i}]`, namespaced)),
  };
}

function subjectProblems(subject: unknown, path: string, namespaced: boolean): StatusCause[] {
  const s = isPlainObject(subject) ? subject : {};
  const name = typeof s.name === "string" ? s.name : "";
  const apiGroup = typeof s.apiGroup === "string" ? s.apiGroup : "";
  const out: StatusCause[] = [];
  if (name === "") out.push(required(`${path}.name`));
  switch (s.kind) {
    case "ServiceAccount":
      if (name !== "") for (const p of nameProblems(name, "dns1123-subdomain")) out.push(invalidValue(`${path}.name`, name, p));
      if (apiGroup !== "") out.push(notSupported(`${path}.apiGroup`, apiGroup, [""]));
      if (!namespaced && !s.namespace) out.push(required(`${path}.namespace`));
      break;
    case "User":
    case "Group":
      if (apiGroup !== group) out.push(notSupported(`${path}.apiGroup`, apiGroup, [group]));
      break;
    default:
      out.push(notSupported(`${path}.kind`, s.kind ?? "", ["ServiceAccount", "User", "Group"]));
  }
  return out;
}

function bindingStrategy(namespaced: boolean): KindStrategy {
  const kinds = namespaced ? ["Role", "ClusterRole"] : ["ClusterRole"];
  return {
    nameRule: "path-segment",
    prepareForCreate: defaultSubjectGroups,
    prepareForUpdate: defaultSubjectGroups,
    validate(obj, old) {
      const ref = isPlainObject(obj.roleRef) ? obj.roleRef : {};
      const out: StatusCause[] = [];
      if (ref.apiGroup !== group) out.push(notSupported("roleRef.apiGroup", ref.apiGroup ?? "", [group]));
      if (typeof ref.kind !== "string" || !kinds.includes(ref.kind)) out.push(notSupported("roleRef.kind", ref.kind ?? "", kinds));
      const name = typeof ref.name === "string" ? ref.name : "";
      if (name === "") out.push(required("roleRef.name"));
      else for (const p of nameProblems(name, "path-segment")) out.push(invalidValue("roleRef.name", name, p));
      list(obj.subjects).forEach((s, i) => out.push(...subjectProblems(s, `subjects[${i}]`, namespaced)));
      if (old && JSON.stringify(sortedRef(old.roleRef)) !== JSON.stringify(sortedRef(obj.roleRef))) {
        out.push(invalidValue("roleRef", obj.roleRef, "cannot change roleRef"));
      }
      return out;
    },
  };
}

function sortedRef(ref: unknown): unknown[] {
  const r = isPlainObject(ref) ? ref : {};
  return [r.apiGroup ?? "", r.kind ?? "", r.name ?? ""];
}

/** rbac/v1 SetDefaults_Subject: User and Group subjects default to the RBAC API group. */
function defaultSubjectGroups(obj: KubeObject): void {
  for (const s of list(obj.subjects)) {
    if (isPlainObject(s) && (s.kind === "User" || s.kind === "Group") && !s.apiGroup) s.apiGroup = group;
  }
}

/** The strategies to register, keyed "<group>/<Kind>". */
export function rbacStrategies(): [string, KindStrategy][] {
  return [
    [`${group}/Role`, roleStrategy(true)],
    [`${group}/ClusterRole`, roleStrategy(false)],
    [`${group}/RoleBinding`, bindingStrategy(true)],
    [`${group}/ClusterRoleBinding`, bindingStrategy(false)],
  ];
}
