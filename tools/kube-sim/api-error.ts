/**
 * API errors as the kube-apiserver reports them: a meta/v1 `Status` with `status: "Failure"`, a `reason`,
 * `details` and the HTTP `code`. Throw an `ApiError` anywhere in request handling; the server turns it into the
 * response.
 *
 * @example
 * throw notFound(servicesType, "web"); // 404 {reason:"NotFound", message:'services "web" not found', ...}
 */
import type { ResourceType } from "./resources.ts";

/** One entry of `details.causes` (field errors of an Invalid status). */
export interface StatusCause {
  reason: string;
  message: string;
  field?: string;
}

/** A meta/v1 Status object. */
export interface Status {
  kind: "Status";
  apiVersion: "v1";
  metadata: Record<string, never>;
  status: "Failure" | "Success";
  message: string;
  reason: string;
  details?: { name?: string; group?: string; kind?: string; causes?: StatusCause[]; retryAfterSeconds?: number };
  code: number;
}

/** An error that the server answers with its `status` body and `status.code`. */
export class ApiError extends Error {
  readonly status: Status;
  /** Extra response headers, e.g. Retry-After. */
  readonly headers: Record<string, string>;

  constructor(status: Status, headers: Record<string, string> = {}) {
    super(status.message);
    this.name = "ApiError";
    this.status = status;
    this.headers = headers;
  }

  get code(): number {
    return this.status.code;
  }
}

/** Builds a failure Status. */
export function failureStatus(
  code: number,
  reason: string,
  message: string,
  details?: Status["details"],
): Status {
  const status: Status = { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, code };
  if (details !== undefined) status.details = details;
  return status;
}

/** The `resource` part of error messages: "services", "deployments.apps". */
export function qualifiedResource(r: Pick<ResourceType, "group" | "plural">): string {
  return r.group === "" ? r.plural : `${r.plural}.${r.group}`;
}

function details(r: Pick<ResourceType, "group" | "plural">, name: string): NonNullable<Status["details"]> {
  return { name, group: r.group, kind: r.plural };
}

/** 404 `<resource> "<name>" not found`. */
export function notFound(r: Pick<ResourceType, "group" | "plural">, name: string): ApiError {
  return new ApiError(failureStatus(404, "NotFound", `${qualifiedResource(r)} "${name}" not found`, details(r, name)));
}

/** 409 `<resource> "<name>" already exists`. */
export function alreadyExists(r: Pick<ResourceType, "group" | "plural">, name: string): ApiError {
  return new ApiError(
    failureStatus(409, "AlreadyExists", `${qualifiedResource(r)} "${name}" already exists`, details(r, name)),
  );
}

/** 409 Conflict for a stale resourceVersion (or another precondition). */
export function conflict(
  r: Pick<ResourceType, "group" | "plural">,
  name: string,
  why = "the object has been modified; please apply your changes to the latest version and try again",
): ApiError {
  return new ApiError(
    failureStatus(
      409,
      "Conflict",
      `Operation cannot be fulfilled on ${qualifiedResource(r)} "${name}": ${why}`,
      details(r, name),
    ),
  );
}

/** 422 Invalid with field causes, worded like apiserver: `Service "web" is invalid: spec.ports: Required value`. */
export function invalid(r: Pick<ResourceType, "group" | "kind">, name: string, causes: StatusCause[]): ApiError {
  const kindRef = r.group === "" ? r.kind : `${r.kind}.${r.group}`;
  const text = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message));
  const summary = text.length === 1 ? text[0] : `[${text.join(", ")}]`;
  return new ApiError(
    failureStatus(422, "Invalid", `${kindRef} "${name}" is invalid: ${summary}`, {
      name,
      group: r.group,
      kind: r.kind,
      causes,
    }),
  );
}

/** 400 BadRequest. */
export function badRequest(message: string): ApiError {
  return new ApiError(failureStatus(400, "BadRequest", message));
}

/** 403 Forbidden with a message that names what was refused. */
export function forbidden(
  r: Pick<ResourceType, "group" | "plural">,
  name: string,
  message: string,
): ApiError {
  return new ApiError(failureStatus(403, "Forbidden", message, details(r, name)));
}

/** 405 MethodNotAllowed. */
export function methodNotAllowed(message: string): ApiError {
  return new ApiError(failureStatus(405, "MethodNotAllowed", message));
}

/** 415 UnsupportedMediaType. */
export function unsupportedMediaType(message: string): ApiError {
  return new ApiError(failureStatus(415, "UnsupportedMediaType", message));
}

/** 410 Expired (resourceVersion or continue token older than the compaction point). */
export function expired(message: string): ApiError {
  return new ApiError(failureStatus(410, "Expired", message));
}

/** 404 for a URL the server does not serve at all (no such resource type), worded as apiserver does. */
export function pathNotFound(): ApiError {
  return new ApiError(failureStatus(404, "NotFound", "the server could not find the requested resource", {}));
}

/** 401 Unauthorized. */
export function unauthorized(): ApiError {
  return new ApiError(failureStatus(401, "Unauthorized", "Unauthorized"));
}
