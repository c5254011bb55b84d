// The CrossGuard pack: `pulumi preview --policy-pack guard`. Pulumi's nodejs host resolves
// @pulumi/pulumi/cmd/run-policy-pack from this folder (walking up to the project's node_modules), loads this
// file through ts-node with guard/tsconfig.json, and reads the version from guard/package.json.
import { PolicyPack, type ReportViolation } from "@pulumi/policy";
import { defaultMaxSecretLifetimeDays, type GuardOptions } from "./model";
import { guardResourceOf } from "./policyResource";
import { guardRules } from "./rules";

const configSchema = {
  properties: {
    maxSecretLifetimeDays: { type: "integer" as const, minimum: 1, default: defaultMaxSecretLifetimeDays },
  },
};

new PolicyPack("apim-entra-auth-guard", {
  description: "The token path from Entra ID to APIM stays closed: the rules of guard/rules.ts.",
  policies: guardRules.map((rule) => ({
    name: rule.name,
    description: rule.description,
    enforcementLevel: rule.level,
    ...(rule.reads?.includes("maxSecretLifetimeDays") ? { configSchema } : {}),
    validateStack: (args, reportViolation: ReportViolation) => {
      const options = args.getConfig<GuardOptions>();
      const resources = args.resources.map(guardResourceOf);
      for (const found of rule.check(resources, {
        maxSecretLifetimeDays: options.maxSecretLifetimeDays ?? defaultMaxSecretLifetimeDays,
      })) {
        reportViolation(`${found.resource} — ${found.fix}`, found.urn || undefined);
      }
    },
  })),
});
