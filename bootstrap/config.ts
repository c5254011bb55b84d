import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { apimSettings, badValue, federatedCredential, isGuid } from "../config/schema";
import { readNamespaceConfig } from "../config/load";
import { ConfigError, configKey, describeIssue } from "../config/validate";

export const bootstrapProject = "apim-entra-auth-bootstrap";

/** Entra ID allows at most 20 federated identity credentials per application (workload identity federation docs). */
export const maxFederatedCredentials = 20;

// GitHub: owner names are 1–39 letters, digits or single hyphens; repository names 1–100 of letters, digits, '.', '_', '-'.
const repository = z.string().regex(/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})\/[A-Za-z0-9._-]{1,100}$/, {
  error: badValue("use owner/name exactly as GitHub spells it (e.g. contoso/apim-entra-auth)"),
});

// The workflows bind each stack's job to the GitHub environment of the same name, so an environment name must
// also be a Pulumi stack name: letters, digits, '-', '_' or '.', at most 100 (Pulumi's stack-name rule).
const environmentName = z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/, {
  error: badValue("use the stack's name: 1–100 letters, digits, '-', '_' or '.'", { max: 100 }),
});

const environment = z.strictObject({
  name: environmentName,
  /** The APIM service this environment's stack publishes to: the deployer's Azure role is scoped to it alone. */
  apim: apimSettings.omit({ create: true }),
});

const serviceConnectionName = z.string().regex(/^[^/\p{Cc}]{1,100}$/u, {
  error: badValue("use the service connection's name (1–100 characters, no '/')", { max: 100 }),
});

// Azure DevOps organisation names: letters, digits, hyphens (≤ 50); project and service connection names
// end up in the subject sc://<org>/<project>/<connection>, so they must not contain '/'.
const azureDevOps = z.strictObject({
  organization: z.string().regex(/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,48}[A-Za-z0-9])?$/, {
    error: badValue(
      "use the organisation's name as in https://dev.azure.com/<organization> (1–50 letters, digits or hyphens)",
      {
        max: 50,
      },
    ),
  }),
  organizationId: z.string().refine(isGuid, {
    error: badValue("use the organisation's id (a GUID), shown as the issuer's last segment in the service connection"),
  }),
  project: z
    .string()
    .regex(/^[^/\p{Cc}]{1,64}$/u, { error: badValue("use the project's name (1–64 characters, no '/')", { max: 64 }) }),
  serviceConnection: serviceConnectionName,
  /** The read-only preview identity's own service connection, for azure-pipelines-drift.yml. */
  previewServiceConnection: serviceConnectionName.optional(),
});

export const bootstrapSettings = z.strictObject({
  repository,
  environments: z.array(environment).min(1, { error: "declare at least one environment (e.g. dev)" }),
  pullRequestPreview: z.boolean({ error: badValue("use true or false") }).default(true),
  protect: z.boolean({ error: badValue("use true or false") }).default(true),
  /** Grant the deployer DelegatedPermissionGrant.ReadWrite.All: only for a catalogue with web, spa or native clients. */
  delegatedConsent: z.boolean({ error: badValue("use true or false") }).default(false),
  azureDevOps: azureDevOps.optional(),
  /**
   * A service connection on Microsoft Entra's issuer (the default for new ones; the Azure DevOps issuer is retired
   * on 2027-07-01): its issuer and subject exactly as the service connection shows them.
   */
  azureDevOpsCredential: federatedCredential.pick({ issuer: true, subject: true }).optional(),
  /** The preview identity's service connection (azure-pipelines-drift.yml) on Entra's issuer, as that connection shows it. */
  azureDevOpsPreviewCredential: federatedCredential.pick({ issuer: true, subject: true }).optional(),
});

export type BootstrapConfig = z.output<typeof bootstrapSettings> & { stackName: string };

const key = (path: readonly PropertyKey[]) => configKey(path, bootstrapProject);

/** Validates the bootstrap's raw config; throws a {@link ConfigError} naming every bad key. */
export function validateBootstrapConfig(raw: Record<string, unknown>, stack: string): BootstrapConfig {
  const parsed = bootstrapSettings.safeParse(raw, { reportInput: true });
  if (!parsed.success) {
    throw new ConfigError(
      stack,
      parsed.error.issues.map((issue) => describeIssue(issue, raw, bootstrapSettings, bootstrapProject)),
    );
  }
  const settings = parsed.data;
  const problems: string[] = [];
  const seen = new Map<string, number>();
  settings.environments.forEach((entry, index) => {
    // GitHub environment names are not case-sensitive: two entries differing only in case are one environment.
    const earlier = seen.get(entry.name.toLowerCase());
    if (earlier !== undefined) {
      problems.push(
        `${key(["environments", index, "name"])}: "${entry.name}" repeats ${key(["environments", earlier, "name"])}; GitHub environment names are not case-sensitive.`,
      );
    } else seen.set(entry.name.toLowerCase(), index);
  });
  if (settings.azureDevOps && settings.azureDevOpsCredential) {
    problems.push(
      `${key(["azureDevOpsCredential"])}: give one Azure DevOps service connection, either by names (${key(["azureDevOps"])}, Azure DevOps issuer) or by issuer and subject (this key, Entra issuer), not both.`,
    );
  }
  const previewConnection = settings.azureDevOps?.previewServiceConnection;
  if (previewConnection && settings.azureDevOpsPreviewCredential) {
    problems.push(
      `${key(["azureDevOpsPreviewCredential"])}: give the preview identity's service connection either by name (${key(["azureDevOps", "previewServiceConnection"])}, Azure DevOps issuer) or by issuer and subject (this key, Entra issuer), not both.`,
    );
  }
  if ((previewConnection || settings.azureDevOpsPreviewCredential) && !settings.pullRequestPreview) {
    const given = previewConnection ? ["azureDevOps", "previewServiceConnection"] : ["azureDevOpsPreviewCredential"];
    problems.push(
      `${key(given)}: signs in as the read-only preview identity, which ${key(["pullRequestPreview"])}: false does not create; set it to true or remove this key.`,
    );
  }
  const devOps = settings.azureDevOps || settings.azureDevOpsCredential ? 1 : 0;
  const deployerCredentials = settings.environments.length + devOps;
  if (deployerCredentials > maxFederatedCredentials) {
    problems.push(
      `${key(["environments"])}: ${deployerCredentials} federated credentials (one per environment${devOps ? " plus Azure DevOps" : ""}) is more than Entra ID's ${maxFederatedCredentials} per application.`,
    );
  }
  if (problems.length > 0) throw new ConfigError(stack, problems);
  return { ...settings, stackName: stack };
}

/** Reads every `apim-entra-auth-bootstrap:` key of the stack and validates it before anything is registered. */
export function loadBootstrapConfig(): BootstrapConfig {
  const raw = readNamespaceConfig(bootstrapProject, {
    booleanKeys: new Set(["pullRequestPreview", "protect", "delegatedConsent"]),
    structuredKeys: new Set(["environments", "azureDevOps", "azureDevOpsCredential", "azureDevOpsPreviewCredential"]),
  });
  return validateBootstrapConfig(raw, pulumi.getStack());
}
