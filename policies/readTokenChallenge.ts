import { XMLValidator } from "fast-xml-parser";
import {
  attributesOf,
  descendants,
  elementsOf,
  policySection,
  rawAttributesOf,
  tagOf,
  textOf,
  type XmlNode,
} from "./orderedXml";
import { challengeConditions, challengeHeader } from "./tokenChallenge";

/** The WWW-Authenticate value a refused request gets; absent when the policy sets none for that case. */
export interface TokenChallengeSpec {
  /** The request carried no token (APIM's TokenNotPresent). */
  tokenMissing?: string;
  /** The request's token failed the check. */
  tokenInvalid?: string;
}

type Case = keyof TokenChallengeSpec;
const cases: readonly Case[] = ["tokenMissing", "tokenInvalid"];
const isChallenge = (node: XmlNode) =>
  tagOf(node) === "set-header" && (attributesOf(node).name ?? "").toLowerCase() === challengeHeader.toLowerCase();

/**
 * Reads which WWW-Authenticate header the policy's `<on-error>` sets when the token check fails: a `set-header`
 * directly in `<on-error>` applies to every failure; inside a `<choose>` directly in `<on-error>`, the first branch
 * whose condition holds wins, and only the fixed conditions of policies/tokenChallenge.ts (and `<otherwise>`) are
 * understood. Throws, naming what it found, on anything else, or on a value that is a policy expression.
 */
export function readTokenChallenge(policyXml: string): TokenChallengeSpec {
  const valid = XMLValidator.validate(policyXml);
  if (valid !== true) throw new Error(`policy XML is not well-formed: ${valid.err.msg} (line ${valid.err.line})`);
  const onError = policySection(policyXml, "on-error");
  if (!onError) return {};
  const refuse: (problem: string) => never = (problem) => {
    throw new Error(
      `policy's ${problem}; this reader understands only the ${challengeHeader} header the renderer writes (policies/tokenChallenge.ts)`,
    );
  };
  const spec: TokenChallengeSpec = {};
  const settle = (applies: readonly Case[], value: string) => {
    for (const which of applies) spec[which] ??= value;
  };
  for (const node of elementsOf(onError)) {
    if (isChallenge(node)) {
      settle(cases, valueOf(node, refuse));
      continue;
    }
    if (!descendants(node).some(isChallenge)) continue;
    if (tagOf(node) !== "choose") refuse(`<on-error> sets ${challengeHeader} inside <${tagOf(node)}>`);
    // A choose runs one branch: a case is decided by the first branch that takes it.
    const open = new Set<Case>(cases);
    for (const branch of elementsOf(node)) {
      const condition = rawAttributesOf(branch).condition;
      const takes: readonly Case[] =
        tagOf(branch) === "otherwise"
          ? cases
          : condition === challengeConditions.tokenMissing
            ? ["tokenMissing"]
            : condition === challengeConditions.tokenInvalid
              ? cases
              : refuse(`<choose> that sets ${challengeHeader} has the condition ${JSON.stringify(condition ?? "")}`);
      const mine = takes.filter((which) => open.has(which));
      for (const which of mine) open.delete(which);
      const headers = elementsOf(branch).filter(isChallenge);
      if (headers.length > 1) refuse(`<${tagOf(branch)}> sets ${challengeHeader} more than once`);
      const [header] = headers;
      if (header === undefined) {
        if (descendants(branch).some(isChallenge))
          refuse(`<${tagOf(branch)}> sets ${challengeHeader} in a nested policy`);
        continue;
      }
      settle(mine, valueOf(header, refuse));
    }
  }
  return spec;
}

function valueOf(header: XmlNode, refuse: (problem: string) => never): string {
  const action = attributesOf(header)["exists-action"] ?? "override";
  if (action !== "override") refuse(`<set-header name="${challengeHeader}"> has exists-action="${action}"`);
  const values = elementsOf(header).filter((node) => tagOf(node) === "value");
  if (values.length !== 1) refuse(`<set-header name="${challengeHeader}"> has ${values.length} <value> elements`);
  const value = textOf(values[0] as XmlNode);
  if (value.startsWith("@")) {
    refuse(`${challengeHeader} value is a policy expression, which could echo the request's token`);
  }
  return value;
}
