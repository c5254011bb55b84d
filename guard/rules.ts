import { preferFederatedCredential, protectProduction } from "./advisoryRules";
import {
  apiServicePrincipalRequiresAssignment,
  daemonWithoutRedirects,
  roleAndScopeIdsAreUuids,
  secretMaxLifetime,
  singleTenantApps,
} from "./identityRules";
import { defaultGuardOptions, type Finding, type GuardOptions, type GuardResource, type GuardRule } from "./model";
import {
  apiPolicyPresent,
  limitsAfterTokenCheck,
  tokenCheckAudiences,
  tokenCheckChallenge,
  tokenCheckIssuer,
  tokenCheckRoles,
  tokenCheckSignedAndExpiring,
} from "./tokenCheckRules";

/** Every rule, mandatory first; the pack, `npm run guard` and `npm run plan` all run this list. */
export const guardRules: GuardRule[] = [
  apiServicePrincipalRequiresAssignment,
  singleTenantApps,
  apiPolicyPresent,
  tokenCheckAudiences,
  tokenCheckIssuer,
  tokenCheckRoles,
  tokenCheckSignedAndExpiring,
  tokenCheckChallenge,
  limitsAfterTokenCheck,
  secretMaxLifetime,
  daemonWithoutRedirects,
  roleAndScopeIdsAreUuids,
  preferFederatedCredential,
  protectProduction,
];

export function runGuard(resources: GuardResource[], options: GuardOptions = defaultGuardOptions): Finding[] {
  return guardRules.flatMap((rule) => rule.check(resources, options));
}

/** `VIOLATION <rule>: <resource> — <fix>` or `ADVISORY …`. */
export const formatFinding = (found: Finding): string =>
  `${found.level === "mandatory" ? "VIOLATION" : "ADVISORY"} ${found.rule}: ${found.resource} — ${found.fix}`;

/** One line per finding, then a summary line. */
export function guardReport(findings: Finding[]): string[] {
  const violations = findings.filter((found) => found.level === "mandatory").length;
  const advisories = findings.length - violations;
  return [
    ...findings.map(formatFinding),
    `guard: ${guardRules.length} rules, ${violations} violation${violations === 1 ? "" : "s"}, ${advisories} advisor${advisories === 1 ? "y" : "ies"}`,
  ];
}

export const hasViolations = (findings: Finding[]): boolean => findings.some((found) => found.level === "mandatory");
