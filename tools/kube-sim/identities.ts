/**
 * Authentication and the authorization hook. Users authenticate with a bearer token issued here; each request's
 * user and attributes then pass through `authorize`, which allows everything until an RBAC authorizer is plugged in.
 *
 * @example
 * const ids = new Identities();
 * const token = ids.issue({ name: "system:serviceaccount:lb:controller", groups: serviceAccountGroups("lb") });
 * ids.authenticate(`Bearer ${token}`)?.name; // "system:serviceaccount:lb:controller"
 */
import { randomBytes } from "node:crypto";

/** An authenticated user, as kube-apiserver's user.Info. */
export interface UserInfo {
  name: string;
  groups: string[];
}

/** What a request wants to do, as kube-apiserver's authorizer.Attributes. */
export interface RequestAttributes {
  verb: string;
  isResourceRequest: boolean;
  /** For non-resource requests: the URL path. */
  path: string;
  apiGroup: string;
  apiVersion: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
}

/** An authorization decision; `reason` is appended to the 403 message when denied. */
export interface Decision {
  allowed: boolean;
  reason?: string;
}

/** Decides whether `user` may do `attributes`. */
export type Authorizer = (user: UserInfo, attributes: RequestAttributes) => Decision;

/** The authorizer used until RBAC exists: allows every request. */
export const allowAll: Authorizer = () => ({ allowed: true });

/** The administrator identity of the generated kubeconfig. */
export const ADMIN_USER: UserInfo = { name: "kube-sim:admin", groups: ["system:masters", "system:authenticated"] };

/**
 * The identity of requests without credentials. kubectl (client-go) never sends a kubeconfig token to an http://
 * server, so like kube-apiserver's old insecure port the simulator treats tokenless requests as this superuser.
 */
export const UNSECURED_USER: UserInfo = { name: "system:unsecured", groups: ["system:masters", "system:authenticated"] };

/** The identity of requests without credentials to an https:// simulator (kube-apiserver's anonymous user). */
export const ANONYMOUS_USER: UserInfo = { name: "system:anonymous", groups: ["system:unauthenticated"] };

/** The groups kube-apiserver gives ServiceAccount `name` tokens in namespace `ns`. */
export function serviceAccountGroups(namespace: string): string[] {
  return ["system:serviceaccounts", `system:serviceaccounts:${namespace}`, "system:authenticated"];
}

/** Token → user map. */
export class Identities {
  readonly #byToken = new Map<string, UserInfo>();

  /** Issues a new bearer token for `user`. */
  issue(user: UserInfo): string {
    const token = `kube-sim-${randomBytes(24).toString("base64url")}`;
    const groups = user.groups.includes("system:authenticated") ? [...user.groups] : [...user.groups, "system:authenticated"];
    this.#byToken.set(token, { name: user.name, groups });
    return token;
  }

  /** The user of an `Authorization` header value, or undefined when missing or unknown. */
  authenticate(authorization: string | undefined): UserInfo | undefined {
    if (!authorization) return undefined;
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    return m ? this.#byToken.get(m[1]) : undefined;
  }
}
