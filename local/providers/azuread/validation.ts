import { isUuid, parseApplicationId } from "./ids";

/**
 * The Terraform schema's ValidateFuncs the program's inputs meet (terraform-provider-azuread
 * internal/helpers/tf/validation and internal/services/applications/validate), as Check failures that name the bad
 * value and the allowed form.
 */
export type Validator = (value: unknown) => string | undefined;

const show = (value: unknown) => JSON.stringify(value);

export const nonEmptyString: Validator = (value) =>
  typeof value === "string" && value !== "" ? undefined : `${show(value)} must be a non-empty string`;

export const uuid: Validator = (value) =>
  typeof value === "string" && isUuid(value)
    ? undefined
    : `${show(value)} is not a UUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)`;

/** go-azure-sdk stable.ValidateApplicationID. */
export const applicationIdFormat: Validator = (value) => {
  try {
    parseApplicationId(String(value));
    return undefined;
  } catch {
    return `${show(value)} is not an application resource id: expected /applications/{objectId}, e.g. an ApplicationRegistration's id`;
  }
};

export const oneOf =
  (...allowed: string[]): Validator =>
  (value) =>
    typeof value === "string" && allowed.includes(value)
      ? undefined
      : `${show(value)} is not one of ${allowed.map((item) => show(item)).join(", ")}`;

export const lengthBetween =
  (min: number, max: number): Validator =>
  (value) =>
    typeof value === "string" && value.length >= min && value.length <= max
      ? undefined
      : `${show(value)} must be ${min} to ${max} characters long`;

export const integerBetween =
  (min: number, max: number): Validator =>
  (value) =>
    Number.isInteger(value) && (value as number) >= min && (value as number) <= max
      ? undefined
      : `${show(value)} must be a whole number from ${min} to ${max}`;

/** validation.IsRFC3339Time: Go's time.RFC3339 layout, e.g. 2027-01-31T00:00:00Z. */
export const rfc3339: Validator = (value) =>
  typeof value === "string" && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(value)
    ? undefined
    : `${show(value)} is not an RFC 3339 time such as 2027-01-31T00:00:00Z`;

/** validation.IsHttpOrHttpsUrl. */
export const httpUrl: Validator = (value) => {
  const parsed = typeof value === "string" && URL.canParse(value) ? new URL(value) : undefined;
  return parsed && ["http:", "https:"].includes(parsed.protocol) && parsed.host
    ? undefined
    : `${show(value)} is not an http(s) URL with a host`;
};

/** validation.IsRedirectUriFunc(urnAllowed=true, allowAllSchemes=true): a URN, or a URI with a host; 256 at most. */
export const redirectUri: Validator = (value) => {
  if (typeof value !== "string" || value === "") return `${show(value)}: a redirect URI must not be empty`;
  const urn = value.split(":");
  const valid =
    (urn.length >= 3 && urn[0] === "urn") || (URL.canParse(value) && new URL(value).host !== "") || undefined;
  if (!valid) return `${show(value)} is not a redirect URI: expected scheme://host[/path] or urn:…`;
  return value.length > 256
    ? `${show(value)} is ${value.length} characters; a redirect URI has 256 at most`
    : undefined;
};

/** applications/validate/tokens.go `RoleScopeClaimValue`: what Graph accepts as a role or scope value. */
export const claimValue: Validator = (value) => {
  if (typeof value !== "string") return `${show(value)} must be a string`;
  if (value.length > 249) return `${show(value)} is ${value.length} characters; 249 at most`;
  if (value.startsWith(".")) return `${show(value)} must not begin with a period`;
  if (/[^A-Za-z0-9:!#$%&'()*+,./;<=>?@[\]^_`{|}~-]/.test(value)) {
    return `${show(value)} must be letters, digits and these characters only: !#$%&'()*+,-./:;<=>?@[]^+_\`{|}~`;
  }
  return undefined;
};

/** A set or list whose every item passes, with Terraform's MinItems / MaxItems. */
export const items =
  (each: Validator, bounds: { min?: number; max?: number } = {}): Validator =>
  (value) => {
    if (!Array.isArray(value)) return `${show(value)} must be a list`;
    if (bounds.min !== undefined && value.length < bounds.min) return `needs at least ${bounds.min} item(s)`;
    if (bounds.max !== undefined && value.length > bounds.max) return `takes at most ${bounds.max} item(s)`;
    return value.map(each).find((reason) => reason !== undefined);
  };

/** A value the real provider accepts unchecked, with only its type enforced. */
export const anyString: Validator = (value) =>
  typeof value === "string" ? undefined : `${show(value)} must be a string`;
