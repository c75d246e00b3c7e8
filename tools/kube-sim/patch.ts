/**
 * The PATCH body formats kube-apiserver accepts: JSON merge patch (RFC 7386), JSON patch (RFC 6902), strategic
 * merge patch (built-in kinds only) and server-side apply (`application/apply-patch+yaml`, approximated as a
 * merge of the applied object). Each returns a fresh object; the original is never modified.
 *
 * @example
 * applyPatch(svc, "application/merge-patch+json", '{"spec":{"type":"LoadBalancer"}}', svcType);
 */
import jsonpatch from "fast-json-patch";
import type { Operation } from "fast-json-patch";
import { parse as parseYaml } from "yaml";
import { ApiError, badRequest, failureStatus, unsupportedMediaType } from "./api-error.ts";
import { isPlainObject, jsonClone } from "./json-value.ts";
import type { KubeObject, ResourceType } from "./resources.ts";
import { strategicMergePatch } from "./strategic-merge.ts";
import { apiVersionOf } from "./resources.ts";

/** The PATCH content types the server understands. */
export const PATCH_TYPES = [
  "application/json-patch+json",
  "application/merge-patch+json",
  "application/strategic-merge-patch+json",
  "application/apply-patch+yaml",
] as const;
/** One of `PATCH_TYPES`. */
export type PatchType = (typeof PATCH_TYPES)[number];

/** Normalises a Content-Type header to a PatchType, or throws 415 naming the accepted types for `type`. */
export function patchTypeOf(contentType: string | undefined, type: ResourceType): PatchType {
  const media = (contentType ?? "").split(";")[0].trim().toLowerCase();
  const accepted: readonly string[] = type.custom
    ? ["application/json-patch+json", "application/merge-patch+json", "application/apply-patch+yaml"]
    : PATCH_TYPES;
  if (!accepted.includes(media)) {
    throw unsupportedMediaType(
      `the body of the request was in an unknown format - accepted media types include: ${accepted.join(", ")}`,
    );
  }
  return media as PatchType;
}

/** RFC 7386 JSON merge patch; `target` is not modified (untouched subtrees are shared with it). */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return patch;
  const result: Record<string, unknown> = isPlainObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete result[k];
    else result[k] = mergePatch(result[k], v);
  }
  return result;
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw badRequest(`error decoding ${what}: ${(e as Error).message}`);
  }
}

function patchFailed(message: string): ApiError {
  return new ApiError(failureStatus(422, "Invalid", message));
}

/** Parses an apply body (YAML or JSON) into an object with apiVersion and kind matching `type`. */
export function parseApplyBody(text: string, type: ResourceType): KubeObject {
  let obj: unknown;
  try {
    obj = parseYaml(text);
  } catch (e) {
    throw badRequest(`error decoding YAML: ${(e as Error).message}`);
  }
  if (!isPlainObject(obj)) throw badRequest("error decoding YAML: the apply body must be a single object");
  const apiVersion = obj.apiVersion;
  const kind = obj.kind;
  if (typeof apiVersion !== "string" || typeof kind !== "string" || apiVersion === "" || kind === "") {
    throw badRequest(`invalid object type: ${String(apiVersion ?? "")}, Kind=${String(kind ?? "")}`);
  }
  if (apiVersion !== apiVersionOf(type) || kind !== type.kind) {
    throw badRequest(
      `the API version in the data (${apiVersion}) and kind (${kind}) do not match the expected ${apiVersionOf(type)}, Kind=${type.kind}`,
    );
  }
  if (!isPlainObject(obj.metadata)) obj.metadata = {};
  return obj as KubeObject;
}

/**
 * Applies a PATCH body of `patchType` to `original` and returns the patched object (a fresh copy).
 * Errors: 400 for undecodable bodies, 415 for strategic merge on custom resources, 422 when a JSON patch or
 * strategic merge cannot be applied.
 */
export function applyPatch(original: KubeObject, patchType: PatchType, body: string, type: ResourceType): KubeObject {
  switch (patchType) {
    case "application/merge-patch+json": {
      const patch = parseJson(body, "merge patch");
      const result = mergePatch(jsonClone(original), patch);
      if (!isPlainObject(result)) throw badRequest("a merge patch must be a JSON object");
      return result as KubeObject;
    }
    case "application/json-patch+json": {
      const ops = parseJson(body, "json patch");
      if (!Array.isArray(ops)) throw badRequest("json: cannot unmarshal object into Go value of type jsonpatch.Patch");
      try {
        const result = jsonpatch.applyPatch(jsonClone(original), ops as Operation[], true, true).newDocument;
        if (!isPlainObject(result)) throw patchFailed("the json patch must leave an object");
        return result as KubeObject;
      } catch (e) {
        if (e instanceof ApiError) throw e;
        throw patchFailed(`json patch could not be applied: ${(e as Error).message.split("\n")[0]}`);
      }
    }
    case "application/strategic-merge-patch+json": {
      if (type.custom) {
        throw unsupportedMediaType(
          "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml",
        );
      }
      const patch = parseJson(body, "strategic merge patch");
      if (!isPlainObject(patch)) throw badRequest("a strategic merge patch must be a JSON object");
      try {
        return strategicMergePatch(jsonClone(original), patch, type.kind);
      } catch (e) {
        throw patchFailed(`strategic merge patch could not be applied: ${(e as Error).message}`);
      }
    }
    case "application/apply-patch+yaml": {
      const applied = parseApplyBody(body, type);
      return mergeApplied(original, applied, type);
    }
  }
}

/** Server-side apply onto an existing object: the applied configuration merged over the live object. */
export function mergeApplied(original: KubeObject, applied: KubeObject, type: ResourceType): KubeObject {
  if (type.custom) return mergePatch(jsonClone(original), applied) as KubeObject;
  try {
    return strategicMergePatch(jsonClone(original), applied, type.kind);
  } catch (e) {
    throw patchFailed(`apply could not be merged: ${(e as Error).message}`);
  }
}
