import { XMLValidator } from "fast-xml-parser";
import {
  attributesOf,
  childElements,
  childrenOf,
  descendants,
  elementsOf,
  parseOrderedXml,
  rawAttributesOf,
  tagOf,
  textOf,
  type XmlNode,
} from "./orderedXml";
import { userTokenCondition } from "./tokenCheck";

/** Where the policy reads the token from. */
export type TokenSource =
  { kind: "header"; name: string } | { kind: "query"; name: string } | { kind: "value"; expression: string };

export interface RequiredClaim {
  name: string;
  match: "all" | "any";
  /** Splits a string claim into several values before matching, e.g. `" "` for `scp`. */
  separator?: string;
  values: string[];
}

export type IssuerSigningKey =
  | { kind: "rsa"; n: string; e: string; id?: string }
  | { kind: "symmetric"; value: string; id?: string }
  | { kind: "certificate"; certificateId: string };

interface CommonSpec {
  tokenSource: TokenSource;
  failedValidationHttpCode: number;
  /** Absent: APIM answers with its own message, which depends on the failure. */
  failedValidationErrorMessage?: string;
  /** The context variable that receives the validated token (`output-token-variable-name`), when it is set. */
  outputTokenVariable?: string;
  audiences: string[];
  requiredClaims: RequiredClaim[];
  /**
   * Present when the policy accepts users and applications: two checks identical but for their required claims,
   * chosen by the fixed condition `userTokenCondition` (policies/tokenCheck.ts). A token with an `scp` claim must
   * pass `users`, any other token `applications`; {@link CommonSpec.requiredClaims} then holds the claims both share.
   */
  callerChoice?: { users: RequiredClaim[]; applications: RequiredClaim[] };
}

export interface ValidateJwtSpec extends CommonSpec {
  kind: "validate-jwt";
  requireScheme?: string;
  requireExpirationTime: boolean;
  requireSignedTokens: boolean;
  clockSkewSeconds: number;
  openIdConfigUrls: string[];
  issuerSigningKeys: IssuerSigningKey[];
  /** Empty: the issuers published by the openid-config documents are accepted. */
  issuers: string[];
}

export interface ValidateAzureAdTokenSpec extends CommonSpec {
  kind: "validate-azure-ad-token";
  tenantId: string;
  clientApplicationIds: string[];
  backendApplicationIds: string[];
}

export type TokenCheckSpec = ValidateJwtSpec | ValidateAzureAdTokenSpec;

const checkElements = ["validate-jwt", "validate-azure-ad-token"] as const;

/**
 * Finds the token check in a policy's `<inbound>` section and returns it with APIM's defaults applied.
 * Throws with a plain message when the XML is malformed or holds no (or more than one) check.
 */
export function readTokenCheck(policyXml: string): TokenCheckSpec {
  const valid = XMLValidator.validate(policyXml);
  if (valid !== true) {
    throw new Error(
      `policy XML is not well-formed: ${valid.err.msg.replace(/\s+/g, " ")} (line ${valid.err.line}, column ${valid.err.col})`,
    );
  }
  const root = parseOrderedXml(policyXml) as XmlNode[];
  const policies = root.find((node) => tagOf(node) === "policies");
  if (!policies) throw new Error("policy XML has no <policies> root element");
  const inbound = childrenOf(policies).find((node) => tagOf(node) === "inbound");
  if (!inbound) throw new Error("policy has no <inbound> section");
  const found = descendants(inbound).filter((node) => (checkElements as readonly string[]).includes(tagOf(node)));
  if (found.length === 0) {
    throw new Error("policy's <inbound> section has no <validate-jwt> or <validate-azure-ad-token> element");
  }
  const choice = callerChoiceOf(inbound, found);
  if (found.length > 1 && !choice) {
    throw new Error(`policy's <inbound> section has ${found.length} token checks; expected exactly one`);
  }
  const spec = choice ?? readCheck(found[0] as XmlNode);
  const unresolved = JSON.stringify(spec).match(/\{\{[^}]*\}\}/);
  if (unresolved) {
    throw new Error(`policy uses the named value ${unresolved[0]}; render the policy with its values first`);
  }
  return spec;
}

function readCheck(element: XmlNode): TokenCheckSpec {
  return tagOf(element) === "validate-jwt" ? readValidateJwt(element) : readValidateAzureAdToken(element);
}

/**
 * The users-or-applications construct the renderer writes, read as one check: a `<choose>` directly in `<inbound>`
 * whose `<when>` has exactly the fixed condition and one check, and whose `<otherwise>` has one check that differs
 * only in its required claims. Any other `<choose>` around a token check is refused: evaluating arbitrary policy
 * expressions is beyond this reader.
 */
function callerChoiceOf(inbound: XmlNode, checks: XmlNode[]): TokenCheckSpec | undefined {
  const chooses = childrenOf(inbound).filter(
    (node) => tagOf(node) === "choose" && descendants(node).some((d) => checks.includes(d)),
  );
  if (chooses.length === 0) return undefined;
  const refuse = (problem: string): never => {
    throw new Error(
      `policy's <choose> around the token check ${problem}; this reader understands only the users-or-applications choice the renderer writes (policies/tokenCheck.ts)`,
    );
  };
  if (chooses.length > 1 || checks.length !== 2) return refuse("is not the one choice between two token checks");
  const branches = elementsOf(chooses[0] as XmlNode);
  const [when, otherwise] = branches;
  if (branches.length !== 2 || tagOf(when as XmlNode) !== "when" || tagOf(otherwise as XmlNode) !== "otherwise") {
    return refuse("is not one <when> and one <otherwise>");
  }
  if (rawAttributesOf(when as XmlNode).condition !== userTokenCondition) {
    return refuse(`has the condition ${JSON.stringify(rawAttributesOf(when as XmlNode).condition ?? "")}`);
  }
  const onlyCheck = (branch: XmlNode): XmlNode => {
    const elements = elementsOf(branch);
    const [only] = elements;
    if (elements.length !== 1 || only === undefined || !checks.includes(only)) {
      return refuse(`has a <${tagOf(branch)}> that holds more than the token check`);
    }
    return only;
  };
  const users = readCheck(onlyCheck(when as XmlNode));
  const applications = readCheck(onlyCheck(otherwise as XmlNode));
  const withoutClaims = (spec: TokenCheckSpec) => JSON.stringify({ ...spec, requiredClaims: [] });
  if (withoutClaims(users) !== withoutClaims(applications)) {
    return refuse("chooses between checks that differ in more than their required claims");
  }
  const shared = (claim: RequiredClaim) =>
    applications.requiredClaims.some((other) => JSON.stringify(other) === JSON.stringify(claim));
  return {
    ...applications,
    requiredClaims: users.requiredClaims.filter(shared),
    callerChoice: { users: users.requiredClaims, applications: applications.requiredClaims },
  };
}

function readValidateJwt(element: XmlNode): ValidateJwtSpec {
  const attrs = attributesOf(element);
  const openIdConfigUrls = childElements(element, "openid-config").map((node) => {
    const url = attributesOf(node).url;
    if (!url) throw new Error("<openid-config> has no url attribute");
    return url;
  });
  const requireScheme = attrs["require-scheme"];
  return {
    kind: "validate-jwt",
    ...readCommon(element, "validate-jwt"),
    ...(requireScheme ? { requireScheme } : {}),
    requireExpirationTime: readBoolean(attrs, "require-expiration-time", true),
    requireSignedTokens: readBoolean(attrs, "require-signed-tokens", true),
    clockSkewSeconds: readInteger(attrs, "clock-skew", 0),
    openIdConfigUrls,
    issuerSigningKeys: childElements(element, "issuer-signing-keys").flatMap((keys) =>
      childElements(keys, "key").map(readSigningKey),
    ),
    issuers: valuesOf(element, "issuers", "issuer"),
  };
}

function readValidateAzureAdToken(element: XmlNode): ValidateAzureAdTokenSpec {
  const tenantId = attributesOf(element)["tenant-id"];
  if (!tenantId) throw new Error("<validate-azure-ad-token> has no tenant-id attribute");
  const clientApplicationIds = valuesOf(element, "client-application-ids", "application-id");
  if (clientApplicationIds.length === 0) {
    throw new Error("<validate-azure-ad-token> needs at least one <client-application-ids><application-id>");
  }
  return {
    kind: "validate-azure-ad-token",
    ...readCommon(element, "validate-azure-ad-token"),
    tenantId,
    clientApplicationIds,
    backendApplicationIds: valuesOf(element, "backend-application-ids", "application-id"),
  };
}

function readCommon(element: XmlNode, tag: string): CommonSpec {
  const attrs = attributesOf(element);
  const message = attrs["failed-validation-error-message"];
  const output = attrs["output-token-variable-name"];
  return {
    tokenSource: readTokenSource(attrs, tag),
    failedValidationHttpCode: readInteger(attrs, "failed-validation-httpcode", 401),
    ...(message !== undefined ? { failedValidationErrorMessage: message } : {}),
    ...(output ? { outputTokenVariable: output } : {}),
    audiences: valuesOf(element, "audiences", "audience"),
    requiredClaims: childElements(element, "required-claims").flatMap((list) =>
      childElements(list, "claim").map(readClaim),
    ),
  };
}

function readTokenSource(attrs: Record<string, string>, tag: string): TokenSource {
  const sources: TokenSource[] = [];
  if (attrs["header-name"]) sources.push({ kind: "header", name: attrs["header-name"] });
  if (attrs["query-parameter-name"]) sources.push({ kind: "query", name: attrs["query-parameter-name"] });
  if (attrs["token-value"]) sources.push({ kind: "value", expression: attrs["token-value"] });
  if (sources.length > 1) {
    throw new Error(`<${tag}> names more than one of header-name, query-parameter-name and token-value`);
  }
  if (sources[0]) return sources[0];
  if (tag === "validate-azure-ad-token") return { kind: "header", name: "Authorization" };
  throw new Error(`<${tag}> names none of header-name, query-parameter-name and token-value`);
}

function readClaim(node: XmlNode): RequiredClaim {
  const attrs = attributesOf(node);
  const name = attrs.name;
  if (!name) throw new Error("<claim> in <required-claims> has no name attribute");
  const match = attrs.match ?? "all";
  if (match !== "all" && match !== "any")
    throw new Error(`<claim name="${name}"> has match="${match}"; expected all or any`);
  const separator = rawAttributesOf(node).separator;
  return {
    name,
    match,
    ...(separator !== undefined && separator !== "" ? { separator } : {}),
    values: childElements(node, "value").map(textOf),
  };
}

function readSigningKey(node: XmlNode): IssuerSigningKey {
  const attrs = attributesOf(node);
  const id = attrs.id;
  if (attrs["certificate-id"]) return { kind: "certificate", certificateId: attrs["certificate-id"] };
  if (attrs.n && attrs.e) return { kind: "rsa", n: attrs.n, e: attrs.e, ...(id ? { id } : {}) };
  const value = textOf(node);
  if (!value) throw new Error("<issuer-signing-keys><key> has neither n/e, certificate-id nor a base64 value");
  return { kind: "symmetric", value, ...(id ? { id } : {}) };
}

function readBoolean(attrs: Record<string, string>, name: string, fallback: boolean): boolean {
  const raw = attrs[name];
  if (raw === undefined) return fallback;
  const lowered = raw.trim().toLowerCase();
  if (lowered === "true") return true;
  if (lowered === "false") return false;
  throw new Error(`attribute ${name}="${raw}" is not true or false`);
}

function readInteger(attrs: Record<string, string>, name: string, fallback: number): number {
  const raw = attrs[name];
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw.trim())) throw new Error(`attribute ${name}="${raw}" is not a whole number`);
  return Number(raw.trim());
}

function valuesOf(element: XmlNode, list: string, item: string): string[] {
  return childElements(element, list).flatMap((node) => childElements(node, item).map(textOf));
}
