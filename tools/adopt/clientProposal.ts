import type { ApiDecision } from "./apiProposal";
import { entryFor, isLinked, kindOf, linkOf, ownershipLine, principalOf, sameId, strings, where } from "./entries";
import type { ObservedApp } from "./observe";
import type { EntryPlan, ProposalInput } from "./proposal";

/**
 * A client's stack entry: its kind and redirect URIs from its platforms, its credential (the program's own secret
 * beside the portal's), and per adopted API the grant that exists, wholly or partly, as `existing.grants`.
 */
export function proposeClient(
  client: ObservedApp,
  apis: ApiDecision[],
  input: ProposalInput,
  taken: Set<string>,
  fresh: { count: number },
): EntryPlan {
  const { application } = client;
  const { target, written, name } = entryFor("clients", application, input, taken);
  const report: string[] = [];
  const { kind, redirectUris, others } = kindOf(application);
  report.push(
    kind === "daemon"
      ? "kind: daemon (no redirect URIs: it calls with its own identity, client credentials)"
      : `kind: ${kind}, redirect URIs ${redirectUris.join(", ")}: kept`,
  );
  for (const other of others) report.push(`its ${other} redirect URIs stay on the app, unmanaged`);
  const version = application.api?.requestedAccessTokenVersion ?? null;
  if (version !== 2) {
    report.push(
      `requestedAccessTokenVersion ${version === null ? "null" : version} becomes 2, the provider's default: it decides only tokens issued for this app as an API, not the tokens it requests`,
    );
  }

  const secrets = application.passwordCredentials ?? [];
  for (const secret of secrets) {
    report.push(
      `secret "${secret.displayName ?? ""}" (key id ${secret.keyId}${secret.hint ? `, starts ${secret.hint}` : ""}, ends ${secret.endDateTime?.slice(0, 10) ?? "never"}): made in the portal; it keeps working and the program never manages or deletes it`,
    );
  }
  for (const certificate of application.keyCredentials ?? []) {
    report.push(`certificate ${certificate.displayName ?? certificate.keyId}: stays, unmanaged`);
  }
  const userFacing = kind !== "daemon";
  const keepsCredential = [written?.credential, written?.secrets, written?.secretRotatedOn].some(
    (key) => key !== undefined,
  );
  const newSecret = !keepsCredential && kind !== "spa" && kind !== "native";
  if (newSecret) {
    report.push(
      `the program adds its own secret, rotated ${input.today}, beside ${secrets.length > 0 ? "the portal's" : "none"}; once every caller uses it (pulumi stack output --show-secrets), delete the portal's in the portal or with az ad app credential delete --id ${application.appId} --key-id <key id>`,
    );
  }

  const granted = new Set(strings(written?.apis));
  const grants: Record<string, unknown>[] = [];
  for (const api of apis) {
    const { listed, assignments, delegated } = linkOf(client, api.app, input.observation);
    const managedAssignment =
      !userFacing && api.roleId
        ? assignments.find((assignment) => sameId(assignment.appRoleId, api.roleId))
        : undefined;
    const apiName = api.plan.name;
    if (!isLinked({ listed, assignments, delegated })) {
      if (!granted.has(apiName) && api.app.servicePrincipal && !api.app.servicePrincipal.appRoleAssignmentRequired) {
        report.push(
          `! has no permission or consent on ${apiName}, whose principal does not require assignment today, so it may be getting tokens for it: from now on it requires assignment and these token requests fail (AADSTS501051) unless ${apiName} is in this client's apis`,
        );
      }
      continue;
    }
    granted.add(apiName);
    const parts = [
      listed
        ? `its API permissions list ${apiName} (${listed.resourceAccess.map((access) => `${access.type} ${access.id}`).join(", ")}): the entry is kept and lists the program's ${userFacing ? "scope" : "app role"}`
        : `its API permissions do not list ${apiName}: the entry is added`,
      userFacing
        ? delegated
          ? `admin consent (delegated, scp "${delegated.scope}"): kept, for ${api.scope}`
          : `no admin consent for ${api.scope} yet: the program grants it`
        : managedAssignment
          ? `admin consent (app role assignment of ${api.appRole}): kept`
          : `no admin consent of ${api.appRole} yet: the program grants it (app role assignment)`,
    ];
    report.push(`grant of ${apiName}: ${parts.join("; ")}`);
    for (const assignment of assignments.filter((each) => each !== managedAssignment)) {
      report.push(`app role assignment of role ${assignment.appRoleId} on ${apiName}: stays, unmanaged`);
    }
    if (delegated && !userFacing) {
      report.push(
        `its delegated consent on ${apiName} (scp "${delegated.scope}") stays as it is, unmanaged: a client-credentials token never carries scp`,
      );
    }
    grants.push({
      api: apiName,
      ...(listed ? { permissionListed: true } : {}),
      ...(managedAssignment ? { appRoleAssignmentId: managedAssignment.id } : {}),
      ...(delegated && userFacing ? { delegatedPermissionGrantId: delegated.id } : {}),
    });
  }
  report.push(...ownershipLine(client, input.signedInAs));

  const values: Record<string, unknown> = {};
  const newIndex = input.written.clients.length + fresh.count;
  if (!written) {
    Object.assign(values, { name, displayName: application.displayName });
    fresh.count += 1;
  }
  Object.assign(values, {
    // daemon is the default: written only where the entry says otherwise.
    ...(userFacing || written?.kind !== undefined ? { kind } : {}),
    ...(userFacing ? { redirectUris } : {}),
    ...(newSecret ? { credential: "secret", secretRotatedOn: input.today } : {}),
    apis: [...granted],
    existing: {
      objectId: application.id,
      clientId: application.appId,
      ...principalOf(client),
      ...(userFacing && redirectUris.length > 0 ? { redirectUris } : {}),
      ...(grants.length > 0 ? { grants } : {}),
    },
  });
  return {
    section: "clients",
    name,
    ...(target.index === undefined ? {} : { target: target.index }),
    values,
    report,
    heading: `Client ${application.displayName} (client id ${application.appId}, object id ${application.id}) → ${where("clients", target, name, newIndex)}`,
  };
}
