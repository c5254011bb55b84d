import * as apimanagement from "@pulumi/azure-native/apimanagement";
import * as authorization from "@pulumi/azure-native/authorization";
import * as azuread from "@pulumi/azuread";
import * as pulumi from "@pulumi/pulumi";
import { ClientRegistration } from "../components/clientRegistration";
import { federatedCredentialAudience, publicCloudAuthorityHost } from "../entra/tokenProfile";
import { loadBootstrapConfig } from "./config";
import { deployerSubjects, previewSubjects } from "./federation";
import {
  apimServiceContributor,
  graphPermissionsOf,
  graphAppRoleId,
  previewGraphPermissionsOf,
  microsoftGraphAppId,
  reader,
  roleDefinitionAt,
} from "./grants";

/**
 * The pipeline's identities, run once per repository by an administrator: the deployer (no password; federated
 * to the repository's GitHub environments and optionally an Azure DevOps service connection; Graph permissions
 * to manage its own app registrations and grant consent; API Management Service Contributor on each environment's
 * APIM service) and, optionally, a read-only preview identity for pull requests and the drift check (Reader on each
 * APIM service, Graph read permissions for a refreshed preview).
 */
export = async () => {
  const config = loadBootstrapConfig();

  // Every lookup and check first: a missing Graph permission or a wrong role stops before anything is registered.
  const graph = await azuread.getServicePrincipal({ clientId: microsoftGraphAppId });
  const roleIdsOf = (permissions: string[]) =>
    permissions.map((permission) => [permission, graphAppRoleId(graph, permission)] as const);
  const graphRoleIds = roleIdsOf(graphPermissionsOf(config));
  const previewGraphRoleIds = config.pullRequestPreview ? roleIdsOf(previewGraphPermissionsOf(config)) : [];
  const distinctServices = new Map(
    config.environments.map(({ apim }) => [`${apim.resourceGroupName}/${apim.serviceName}`, apim]),
  );
  const services = await Promise.all(
    [...distinctServices.values()].map(async (apim) => {
      const { id, name } = await apimanagement.getApiManagementService(apim);
      return {
        id,
        name,
        contributor: await roleDefinitionAt(apimServiceContributor, id),
        reader: config.pullRequestPreview ? await roleDefinitionAt(reader, id) : undefined,
      };
    }),
  );
  // GitHub and Azure DevOps run in the public cloud, so their assertions carry the public cloud's exchange audience.
  const githubAndDevOpsAudience = federatedCredentialAudience(publicCloudAuthorityHost);
  const repositoryName = config.repository.split("/")[1] ?? config.repository;

  // No `owners`: the administrator running this is not kept as owner of either service principal, so no user account
  // keeps a way to add a credential to the deployer; changing them later needs an administrator's role, as this does.
  const deployer = new ClientRegistration("deployer", {
    displayName: `${repositoryName}-deployer`,
    credential: { kind: "federated", audience: githubAndDevOpsAudience, credentials: deployerSubjects(config) },
    protect: config.protect,
  });
  for (const [permission, appRoleId] of graphRoleIds) {
    new azuread.AppRoleAssignment(`deployer-graph-${permission}`, {
      appRoleId,
      principalObjectId: deployer.servicePrincipalObjectId,
      resourceObjectId: graph.objectId,
    });
  }

  const preview = config.pullRequestPreview
    ? new ClientRegistration("preview", {
        displayName: `${repositoryName}-preview`,
        credential: { kind: "federated", audience: githubAndDevOpsAudience, credentials: previewSubjects(config) },
        protect: config.protect,
      })
    : undefined;

  // What a refreshed preview reads (npm run drift): read-only, and no secret value.
  for (const [permission, appRoleId] of previewGraphRoleIds) {
    new azuread.AppRoleAssignment(`preview-graph-${permission}`, {
      appRoleId,
      principalObjectId: (preview as ClientRegistration).servicePrincipalObjectId,
      resourceObjectId: graph.objectId,
    });
  }

  const assign = (name: string, principalId: pulumi.Output<string>, roleDefinitionId: string, scope: string) =>
    new authorization.RoleAssignment(name, {
      principalId,
      // Stated, so Azure does not look the new principal up in a directory replica that has not seen it yet.
      principalType: "ServicePrincipal",
      roleDefinitionId,
      scope,
    });
  for (const service of services) {
    assign(`deployer-${service.name}`, deployer.servicePrincipalObjectId, service.contributor, service.id);
    if (preview && service.reader)
      assign(`preview-${service.name}`, preview.servicePrincipalObjectId, service.reader, service.id);
  }

  const subscriptionId = services[0]?.id.split("/")[2];
  return {
    /** Set these as the repository's Actions variables (Settings → Secrets and variables → Actions → Variables). */
    repositoryVariables: {
      AZURE_CLIENT_ID: deployer.clientId,
      ...(preview ? { AZURE_PREVIEW_CLIENT_ID: preview.clientId } : {}),
      AZURE_TENANT_ID: azuread.getClientConfigOutput().tenantId,
      AZURE_SUBSCRIPTION_ID: subscriptionId,
    },
    federatedSubjects: {
      deployer: deployerSubjects(config).map(({ subject }) => subject),
      ...(preview ? { preview: previewSubjects(config).map(({ subject }) => subject) } : {}),
    },
    graphPermissions: graphPermissionsOf(config),
    ...(preview ? { previewGraphPermissions: previewGraphPermissionsOf(config) } : {}),
  };
};
