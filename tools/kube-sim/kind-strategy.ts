/**
 * Per-kind behaviour the generic create/update/delete flow calls into, the way kube-apiserver's registry
 * "strategies" do: defaulting, validation, status reset on create, and whether PUT may create.
 *
 * @example
 * const strategy: KindStrategy = { nameRule: "dns1123-label", validate: (obj) => [] };
 */
import type { StatusCause } from "./api-error.ts";
import type { NameRule } from "./field-errors.ts";
import type { KubeObject } from "./resources.ts";

/** Hooks of one kind; every member is optional. Hooks mutate the fresh object they are given, never `old`. */
export interface KindStrategy {
  /** Name validation (default: DNS-1123 subdomain). */
  nameRule?: NameRule;
  /** PUT to a missing object creates it (Endpoints, Events, Leases). */
  allowCreateOnUpdate?: boolean;
  /** Status a newly created object gets instead of the posted one; undefined keeps the posted status. */
  statusOnCreate?: (obj: KubeObject) => unknown;
  /**
   * A JSON decoding error kube-apiserver would hit for this body (a field of the wrong JSON type or time format),
   * answered with 400 "<Kind> in version ... cannot be handled as a <Kind>: <problem>".
   */
  decodeProblem?: (obj: KubeObject) => string | undefined;
  /**
   * Paths of the fields this kind does not declare, sorted and spelt as the decoder reports them
   * (`spec.adresses`): refused under `fieldValidation=Strict`, warned about under `Warn`, dropped under `Ignore`.
   */
  unknownFields?: (obj: KubeObject) => string[];
  /** The same for a server-side apply body, spelt as apply reports them (`.spec.adresses`); always refused. */
  undeclaredApplyFields?: (obj: KubeObject) => string[];
  /** Defaulting on create (main resource). */
  prepareForCreate?: (obj: KubeObject) => void;
  /** Defaulting on update of the main resource; `old` is the stored object. */
  prepareForUpdate?: (obj: KubeObject, old: KubeObject) => void;
  /** Defaulting on update of the status subresource. */
  prepareForStatusUpdate?: (obj: KubeObject, old: KubeObject) => void;
  /** Field errors of the whole object; `old` is set on update. */
  validate?: (obj: KubeObject, old: KubeObject | undefined) => StatusCause[];
  /** Field errors of a status update. */
  validateStatus?: (obj: KubeObject, old: KubeObject) => StatusCause[];
}
