import { limitsBeforeTokenCheck } from "../policies/readClientLimits";
import { readTokenChallenge, type TokenChallengeSpec } from "../policies/readTokenChallenge";
import { readTokenCheck, type TokenCheckSpec } from "../policies/readTokenCheck";
import { finding, type Finding, type GuardResource, type GuardRule, isUnknown, ResourceGraph, types } from "./model";

interface CheckedPolicy {
  api: GuardResource;
  policy: GuardResource;
  spec: TokenCheckSpec;
  /** The API app the audiences name, when they name exactly one. */
  app?: GuardResource;
  /** Audiences that name no API app of this stack. */
  foreignAudiences: string[];
  /** How many distinct API apps the audiences name. */
  appsNamed: number;
}

/** APIM APIs that take no subscription key: the token check is their only gate. */
function openApis(graph: ResourceGraph): GuardResource[] {
  return graph.ofType(types.apimApi).filter((api) => api.inputs.subscriptionRequired === false);
}

function policiesOf(graph: ResourceGraph, api: GuardResource): GuardResource[] {
  const same = (policy: GuardResource, key: string) =>
    typeof policy.inputs[key] === "string" && policy.inputs[key] === api.inputs[key];
  return graph
    .ofType(types.apimApiPolicy)
    .filter(
      (policy) =>
        policy.inputSources?.apiId?.includes(api.urn) ||
        (same(policy, "apiId") && same(policy, "serviceName") && same(policy, "resourceGroupName")),
    );
}

/** Each open API's policies, read; a policy whose XML is unknown during preview is skipped. */
function checkedPolicies(resources: GuardResource[]): CheckedPolicy[] {
  const graph = new ResourceGraph(resources);
  const apiApps = graph.apiApps().map((app) => ({ app, names: graph.audienceNamesOf(app) }));
  return openApis(graph).flatMap((api) =>
    policiesOf(graph, api).flatMap((policy): CheckedPolicy[] => {
      if (typeof policy.inputs.value !== "string") return [];
      let spec: TokenCheckSpec;
      try {
        spec = readTokenCheck(policy.inputs.value);
      } catch {
        return [];
      }
      const owners = spec.audiences.map((audience) => apiApps.find(({ names }) => names.includes(audience))?.app);
      const named = [...new Set(owners.filter((owner): owner is GuardResource => owner !== undefined))];
      return [
        {
          api,
          policy,
          spec,
          ...(named.length === 1 ? { app: named[0] } : {}),
          foreignAudiences: spec.audiences.filter((_, i) => owners[i] === undefined),
          appsNamed: named.length,
        },
      ];
    }),
  );
}

/** An API with no subscription key and no readable token check lets every caller through. */
export const apiPolicyPresent: GuardRule = {
  name: "api-policy-present",
  level: "mandatory",
  description: "Every APIM API that requires no subscription has an API policy with one token check.",
  check(resources) {
    const graph = new ResourceGraph(resources);
    return openApis(graph).flatMap((api): Finding[] => {
      const policies = policiesOf(graph, api);
      if (policies.length === 0) {
        return [
          finding(
            this,
            api,
            "subscriptionRequired is false and no ApiPolicy belongs to this API: anyone can call it; add the policy with validate-jwt (policies/renderPolicy.ts)",
          ),
        ];
      }
      return policies.flatMap((policy): Finding[] => {
        const xml = policy.inputs.value;
        if (isUnknown(xml)) return [];
        if (typeof xml !== "string" || String(policy.inputs.format ?? "xml").endsWith("link")) {
          return [
            finding(this, policy, "the policy is not inline XML, so its token check cannot be reviewed; inline it"),
          ];
        }
        try {
          readTokenCheck(xml);
          return [];
        } catch (error) {
          return [
            finding(this, policy, `${(error as Error).message}; render the policy with policies/renderPolicy.ts`),
          ];
        }
      });
    });
  },
};

export const tokenCheckAudiences: GuardRule = {
  name: "token-check-audiences",
  level: "mandatory",
  description: "The token check lists audiences, and only this API's (its client id or api://<client id>).",
  check(resources) {
    return checkedPolicies(resources).flatMap(({ policy, spec, foreignAudiences, appsNamed }): Finding[] => {
      if (spec.audiences.length === 0) {
        return [
          finding(
            this,
            policy,
            "the token check lists no <audiences>: a token issued for any other API (even Microsoft Graph) would pass; list the API's audience",
          ),
        ];
      }
      if (foreignAudiences.length > 0) {
        return [
          finding(
            this,
            policy,
            `audience ${foreignAudiences.join(", ")} belongs to no API app of this stack; list only this API's client id (v2) or api://<client id> (v1)`,
          ),
        ];
      }
      if (appsNamed > 1) {
        return [
          finding(
            this,
            policy,
            "the audiences name several APIs: a token for one opens the other; keep this API's only",
          ),
        ];
      }
      return [];
    });
  },
};

/** `common`, `organizations`, `consumers` and templated tenants accept every tenant's tokens. */
const anyTenant = /\/(common|organizations|consumers)(\/|$)|\{tenant(id)?\}/i;

export const tokenCheckIssuer: GuardRule = {
  name: "token-check-issuer",
  level: "mandatory",
  description: "The token check pins the issuer (validate-jwt) or the tenant (validate-azure-ad-token).",
  check(resources) {
    return checkedPolicies(resources).flatMap(({ policy, spec }): Finding[] => {
      if (spec.kind === "validate-azure-ad-token") {
        return /^(common|organizations|consumers)$/i.test(spec.tenantId)
          ? [finding(this, policy, `tenant-id="${spec.tenantId}" accepts any tenant; set the tenant's GUID`)]
          : [];
      }
      const pins = spec.issuers.length > 0 ? spec.issuers : spec.openIdConfigUrls;
      if (pins.length === 0) {
        return [finding(this, policy, "neither <issuers> nor <openid-config> names the tenant; pin the issuer")];
      }
      const open = pins.filter((pin) => anyTenant.test(pin));
      return open.length > 0
        ? [finding(this, policy, `${open.join(", ")} accepts tokens of any tenant; pin the issuer of this tenant`)]
        : [];
    });
  },
};

export const tokenCheckRoles: GuardRule = {
  name: "token-check-roles",
  level: "mandatory",
  description: "The token check requires the `roles` claim to hold this API's app role.",
  check(resources) {
    const graph = new ResourceGraph(resources);
    const everyRole = new Set(graph.apiApps().flatMap((app) => graph.appRoleValuesOf(app)));
    return checkedPolicies(resources).flatMap(({ policy, spec, app }): Finding[] => {
      // A policy for users and applications holds the role in the applications branch; one for users only requires
      // `scp`, which no application token carries, so it needs no role.
      const applicationClaims = spec.callerChoice?.applications ?? spec.requiredClaims;
      const usersOnly = !spec.callerChoice && spec.requiredClaims.some((claim) => claim.name === "scp");
      const roles = applicationClaims.filter((claim) => claim.name === "roles");
      const values = roles.flatMap((claim) => claim.values);
      if (values.length === 0 && usersOnly) return [];
      if (values.length === 0) {
        return [
          finding(
            this,
            policy,
            'no <claim name="roles"> with the API\'s app role in <required-claims>: any app in the tenant with a token passes; require the role',
          ),
        ];
      }
      const allowed = new Set(app ? graph.appRoleValuesOf(app) : everyRole);
      const foreign = values.filter((value) => !allowed.has(value));
      return foreign.length > 0
        ? [
            finding(
              this,
              policy,
              `roles ${foreign.join(", ")} ${app ? `are not app roles of ${app.name}` : "are no API app's roles"}; require this API's app role only`,
            ),
          ]
        : [];
    });
  },
};

export const tokenCheckSignedAndExpiring: GuardRule = {
  name: "token-check-signed-and-expiring",
  level: "mandatory",
  description: 'The token check never sets require-signed-tokens="false" or require-expiration-time="false".',
  check(resources) {
    return checkedPolicies(resources).flatMap(({ policy, spec }): Finding[] => {
      if (spec.kind !== "validate-jwt") return [];
      return [
        ...(spec.requireSignedTokens
          ? []
          : [finding(this, policy, 'require-signed-tokens="false" accepts unsigned (alg none) tokens; remove it')]),
        ...(spec.requireExpirationTime
          ? []
          : [finding(this, policy, 'require-expiration-time="false" accepts tokens that never expire; remove it')]),
      ];
    });
  },
};

export const limitsAfterTokenCheck: GuardRule = {
  name: "limits-after-token-check",
  level: "mandatory",
  description:
    "A rate-limit-by-key or quota-by-key that reads the token comes after the token check, so a caller without a valid token gets 401, never 500.",
  check(resources) {
    return checkedPolicies(resources).flatMap(({ policy }) =>
      limitsBeforeTokenCheck(policy.inputs.value as string).map((tag) =>
        finding(
          this,
          policy,
          `<${tag}> reads the token before the token check: a request without a valid token makes its key expression fail with 500 instead of 401; put it after the check and key it on the validated token (output-token-variable-name), as policies/clientLimits.ts does`,
        ),
      ),
    );
  },
};

const challengeCases: { key: keyof TokenChallengeSpec; request: string }[] = [
  { key: "tokenMissing", request: "a request without a token" },
  { key: "tokenInvalid", request: "a token that fails the check" },
];

export const tokenCheckChallenge: GuardRule = {
  name: "token-check-challenge",
  level: "mandatory",
  description:
    "The policy's <on-error> answers a refused token with a literal WWW-Authenticate: Bearer header (RFC 6750 §3), naming the scope to request.",
  check(resources) {
    return checkedPolicies(resources).flatMap(({ policy }): Finding[] => {
      let spec: TokenChallengeSpec;
      try {
        spec = readTokenChallenge(policy.inputs.value as string);
      } catch (error) {
        return [finding(this, policy, `${(error as Error).message}; render the policy with policies/renderPolicy.ts`)];
      }
      const refused = challengeCases.filter(({ key }) => !/^Bearer(\s|$)/.test(spec[key] ?? ""));
      if (refused.length === 0) return [];
      const got = refused.map(({ key, request }) =>
        spec[key] === undefined ? `${request} gets none` : `${request} gets ${JSON.stringify(spec[key])}`,
      );
      return [
        finding(
          this,
          policy,
          `no WWW-Authenticate: Bearer header with the 401 (${got.join("; ")}), so the client is not told to send a bearer token or which scope to request; keep the <entra-token-challenge /> marker in the template's <on-error>`,
        ),
      ];
    });
  },
};
