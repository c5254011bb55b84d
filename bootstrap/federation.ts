import type { BootstrapConfig } from "./config";

/** GitHub Actions' OIDC issuer ("About security hardening with OpenID Connect"). */
export const githubIssuer = "https://token.actions.githubusercontent.com";

/** The issuer of Azure DevOps workload-identity service connections: `https://vstoken.dev.azure.com/<organization id>`. */
export const azureDevOpsIssuer = (organizationId: string) => `https://vstoken.dev.azure.com/${organizationId}`;

export interface FederatedSubject {
  /** The credential's name in Entra ID: letters, digits, '-' and '_'. */
  name: string;
  issuer: string;
  subject: string;
}

/**
 * Who may sign in as the deployer: a job bound to one of the repository's GitHub environments (the subject GitHub
 * issues for `environment:` jobs), and optionally one Azure DevOps service connection. Nothing else: no branch, no
 * pull request, no wildcard.
 */
export function deployerSubjects(config: BootstrapConfig): FederatedSubject[] {
  const github = config.environments.map(({ name }) => ({
    name: `github-environment-${name.replace(/\./g, "_")}`,
    issuer: githubIssuer,
    subject: `repo:${config.repository}:environment:${name}`,
  }));
  const ado = config.azureDevOps;
  const devOps = ado
    ? {
        issuer: azureDevOpsIssuer(ado.organizationId),
        subject: `sc://${ado.organization}/${ado.project}/${ado.serviceConnection}`,
      }
    : config.azureDevOpsCredential;
  return [...github, ...(devOps ? [{ name: "azure-devops-service-connection", ...devOps }] : [])];
}

/**
 * Who may sign in as the read-only preview identity: any pull_request workflow run of the repository (GitHub's
 * subject for jobs without an environment on a pull_request event; fork pull requests get no OIDC token), the drift
 * workflow's runs on main (scheduled or by hand: a job without an environment gets the subject of its ref), and
 * optionally the Azure DevOps service connection of azure-pipelines-drift.yml.
 */
export function previewSubjects(config: BootstrapConfig): FederatedSubject[] {
  const ado = config.azureDevOps;
  const devOps = ado?.previewServiceConnection
    ? {
        issuer: azureDevOpsIssuer(ado.organizationId),
        subject: `sc://${ado.organization}/${ado.project}/${ado.previewServiceConnection}`,
      }
    : config.azureDevOpsPreviewCredential;
  return [
    { name: "github-pull-request", issuer: githubIssuer, subject: `repo:${config.repository}:pull_request` },
    { name: "github-main", issuer: githubIssuer, subject: `repo:${config.repository}:ref:refs/heads/main` },
    ...(devOps ? [{ name: "azure-devops-preview-connection", ...devOps }] : []),
  ];
}
