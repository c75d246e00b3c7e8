/**
 * The matching rules of kube-apiserver's RBAC authorizer (pkg/apis/rbac/v1/evaluation_helpers.go and
 * plugin/pkg/auth/authorizer/rbac), as pure functions over plain RBAC objects: whether a PolicyRule allows a
 * request, and whether a binding's subject is the requesting user.
 *
 * @example
 * ruleAllows({ verbs: ["update"], apiGroups: [""], resources: ["services/status"] }, attributes); // true for PUT .../services/x/status
 * subjectMatches({ kind: "ServiceAccount", name: "speaker", namespace: "metallb-system" }, user, ""); // by user name
 */
import type { RequestAttributes, UserInfo } from "./identities.ts";

/** rbac.authorization.k8s.io/v1 PolicyRule. */
export interface PolicyRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

/** rbac.authorization.k8s.io/v1 Subject. */
export interface Subject {
  kind: string;
  name: string;
  namespace?: string;
  apiGroup?: string;
}

/** rbac.authorization.k8s.io/v1 RoleRef. */
export interface RoleRef {
  apiGroup: string;
  kind: string;
  name: string;
}

const all = "*";

/** A rule's verbs include `verb` (or "*"). */
export function verbMatches(rule: PolicyRule, verb: string): boolean {
  return rule.verbs.some((v) => v === all || v === verb);
}

/** A rule's apiGroups include `group` (or "*"). */
export function apiGroupMatches(rule: PolicyRule, group: string): boolean {
  return (rule.apiGroups ?? []).some((g) => g === all || g === group);
}

/**
 * A rule's resources include `combined` ("services" or "services/status"), "*", or "*\/<subresource>" when the
 * request is for a subresource.
 */
export function resourceMatches(rule: PolicyRule, combined: string, subresource: string): boolean {
  return (rule.resources ?? []).some((r) => r === all || r === combined || (subresource !== "" && r === `*/${subresource}`));
}

/** A rule without resourceNames matches any name; one with resourceNames only those (never an empty name). */
export function resourceNameMatches(rule: PolicyRule, name: string): boolean {
  const names = rule.resourceNames ?? [];
  return names.length === 0 || names.includes(name);
}

/** A rule's nonResourceURLs include `path` exactly, "*", or a "prefix*" that `path` starts with. */
export function nonResourceUrlMatches(rule: PolicyRule, path: string): boolean {
  return (rule.nonResourceURLs ?? []).some((u) => u === all || u === path || (u.endsWith("*") && path.startsWith(u.replace(/\*+$/, ""))));
}

/** The resource as RBAC rules name it: "services", or "services/status" for a subresource. */
export function combinedResource(a: Pick<RequestAttributes, "resource" | "subresource">): string {
  return a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
}

/** Whether `rule` allows the request, exactly as rbac's RuleAllows. */
export function ruleAllows(rule: PolicyRule, a: RequestAttributes): boolean {
  if (!verbMatches(rule, a.verb)) return false;
  if (!a.isResourceRequest) return nonResourceUrlMatches(rule, a.path);
  return (
    apiGroupMatches(rule, a.apiGroup) &&
    resourceMatches(rule, combinedResource(a), a.subresource) &&
    resourceNameMatches(rule, a.name)
  );
}

/**
 * Whether `subject` names `user`. A ServiceAccount subject without a namespace takes the binding's namespace
 * (`bindingNamespace`, "" for ClusterRoleBindings, where it then matches nobody).
 */
export function subjectMatches(subject: Subject, user: UserInfo, bindingNamespace: string): boolean {
  switch (subject.kind) {
    case "User":
      return subject.name === user.name;
    case "Group":
      return user.groups.includes(subject.name);
    case "ServiceAccount": {
      const namespace = subject.namespace || bindingNamespace;
      return namespace !== "" && user.name === `system:serviceaccount:${namespace}:${subject.name}`;
    }
    default:
      return false;
  }
}
