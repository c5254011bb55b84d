import { type ClientIdClaim, clientCondition, counterKeyExpression, validatedTokenVariable } from "./clientLimits";
import {
  attributesOf,
  descendants,
  elementsOf,
  policySection,
  rawAttributesOf,
  tagOf,
  type XmlNode,
} from "./orderedXml";
import { readTokenCheck } from "./readTokenCheck";

/** The APIM policies that count a key's calls. */
export const limitPolicies = ["rate-limit-by-key", "quota-by-key"] as const;
export type LimitPolicy = (typeof limitPolicies)[number];

export interface CallLimitSpec {
  policy: LimitPolicy;
  calls: number;
  renewalPeriodSeconds: number;
}

/** The client limits of a policy, as the gateway applies them to a token that passed the check. */
export interface ClientLimitsSpec {
  /** The claim of the validated token whose value, with the API's id, keys every counter. */
  clientIdClaim: ClientIdClaim;
  /** The limits of every client not listed in `clients`, in policy order. */
  everyClient: CallLimitSpec[];
  /** Clients with limits of their own, by client id (lowercase), in policy order. */
  clients: { clientId: string; limits: CallLimitSpec[] }[];
}

const claims: readonly ClientIdClaim[] = ["azp", "appid"];
const isLimit = (node: XmlNode) => (limitPolicies as readonly string[]).includes(tagOf(node));

/**
 * Reads the rate-limit-by-key and quota-by-key elements the renderer writes after the token check
 * (policies/clientLimits.ts): undefined when the policy has none. Throws, naming what it found, on limits anywhere
 * else, with any other key or condition, or before the token check: evaluating arbitrary expressions is beyond it.
 */
export function readClientLimits(policyXml: string): ClientLimitsSpec | undefined {
  const check = readTokenCheck(policyXml);
  const elements = elementsOf(policySection(policyXml, "inbound") as XmlNode);
  const holdsLimit = (node: XmlNode) => isLimit(node) || descendants(node).some(isLimit);
  const containers = elements.filter(holdsLimit);
  const [first] = containers;
  if (first === undefined) return undefined;
  const refuse: (problem: string) => never = (problem) => {
    throw new Error(
      `policy's ${problem}; this reader understands only the client limits the renderer writes (policies/clientLimits.ts)`,
    );
  };
  const checkAt = elements.findIndex((node) =>
    [node, ...descendants(node)].some((part) => ["validate-jwt", "validate-azure-ad-token"].includes(tagOf(part))),
  );
  const firstLimit = isLimit(first) ? first : (descendants(first).find(isLimit) as XmlNode);
  if (elements.indexOf(first) <= checkAt) {
    throw new Error(
      `policy's <${tagOf(firstLimit)}> is not after the token check: a request without a valid token would reach it, and a counter key read from such a token fails with 500 instead of 401`,
    );
  }
  if (check.outputTokenVariable !== validatedTokenVariable) {
    throw new Error(
      `policy's limits read the validated token from the variable "${validatedTokenVariable}", but the token check's output-token-variable-name is ${JSON.stringify(check.outputTokenVariable ?? "")}: every call would fail with 500`,
    );
  }

  const keyedOn = new Set<ClientIdClaim>();
  const readLimit = (node: XmlNode): CallLimitSpec => {
    const policy = tagOf(node) as LimitPolicy;
    const attrs = attributesOf(node);
    const extra = Object.keys(attrs).filter((name) => !["calls", "renewal-period", "counter-key"].includes(name));
    if (extra.length > 0) refuse(`<${policy}> has ${extra.join(", ")}`);
    const claim = claims.find((candidate) => rawAttributesOf(node)["counter-key"] === counterKeyExpression(candidate));
    if (claim === undefined) refuse(`<${policy}> has the counter-key ${JSON.stringify(attrs["counter-key"] ?? "")}`);
    keyedOn.add(claim);
    const renewalPeriodSeconds = wholeNumber(policy, attrs, "renewal-period", refuse);
    if (policy === "rate-limit-by-key" && (renewalPeriodSeconds < 1 || renewalPeriodSeconds > 300)) {
      throw new Error(
        `policy's <${policy}> has renewal-period="${renewalPeriodSeconds}"; APIM allows 1 to 300 seconds`,
      );
    }
    if (policy === "quota-by-key" && renewalPeriodSeconds < 300) {
      const lifetime = renewalPeriodSeconds === 0 ? " (a lifetime quota, which this reader does not evaluate)" : "";
      throw new Error(
        `policy's <${policy}> has renewal-period="${renewalPeriodSeconds}"${lifetime}; APIM's minimum period is 300 seconds`,
      );
    }
    return { policy, calls: wholeNumber(policy, attrs, "calls", refuse), renewalPeriodSeconds };
  };
  const onlyLimits = (nodes: XmlNode[], where: string) =>
    nodes.map((node) =>
      isLimit(node) ? readLimit(node) : refuse(`${where} holds <${tagOf(node)}> beside the limits`),
    );

  let everyClient: CallLimitSpec[] = [];
  const clients: ClientLimitsSpec["clients"] = [];
  if (containers.every(isLimit)) {
    everyClient = onlyLimits(containers, "<inbound>");
  } else if (containers.length === 1 && tagOf(first) === "choose") {
    for (const branch of elementsOf(first)) {
      if (tagOf(branch) === "otherwise") {
        everyClient = onlyLimits(elementsOf(branch), "<otherwise>");
        continue;
      }
      if (tagOf(branch) !== "when") refuse(`<choose> around the limits holds <${tagOf(branch)}>`);
      const condition = rawAttributesOf(branch).condition ?? "";
      const match = clientOf(condition);
      if (match === undefined) refuse(`<choose> around the limits has the condition ${JSON.stringify(condition)}`);
      keyedOn.add(match.claim);
      clients.push({ clientId: match.clientId, limits: onlyLimits(elementsOf(branch), "<when>") });
    }
  } else {
    refuse(
      `<inbound> holds limits inside <${containers
        .filter((node) => !isLimit(node))
        .map(tagOf)
        .join(">, <")}>`,
    );
  }
  if (keyedOn.size !== 1) refuse("limits key on both azp and appid");
  return { clientIdClaim: [...keyedOn][0] as ClientIdClaim, everyClient, clients };
}

function clientOf(condition: string): { claim: ClientIdClaim; clientId: string } | undefined {
  for (const claim of claims) {
    const [before = "", after = ""] = clientCondition(claim, "\u0000").split("\u0000");
    if (!condition.startsWith(before) || !condition.endsWith(after)) continue;
    const clientId = condition.slice(before.length, condition.length - after.length);
    if (/^[0-9a-z-]+$/.test(clientId)) return { claim, clientId };
  }
  return undefined;
}

function wholeNumber(
  policy: string,
  attrs: Record<string, string>,
  name: string,
  refuse: (problem: string) => never,
): number {
  const raw = attrs[name] ?? "";
  if (!/^\d+$/.test(raw)) refuse(`<${policy}> has ${name}=${JSON.stringify(raw)}, not a whole number`);
  return Number(raw);
}

/**
 * The limit elements of a policy's `<inbound>` that come before its token check and read the token (the
 * Authorization header, a Jwt or a context variable) in any attribute: APIM evaluates their key expression for a
 * request without a valid token, which fails with 500 instead of the check's 401. A limit keyed on something else,
 * such as the caller's IP address, may well come first.
 */
export function limitsBeforeTokenCheck(policyXml: string): LimitPolicy[] {
  const inbound = policySection(policyXml, "inbound");
  if (!inbound) return [];
  const inOrder = descendants(inbound);
  const checkAt = inOrder.findIndex((node) => ["validate-jwt", "validate-azure-ad-token"].includes(tagOf(node)));
  return inOrder
    .slice(0, checkAt < 0 ? inOrder.length : checkAt)
    .filter(isLimit)
    .filter((node) =>
      Object.values(rawAttributesOf(node)).some((value) => /Authorization|Jwt|context\.Variables/i.test(value)),
    )
    .map((node) => tagOf(node) as LimitPolicy);
}
