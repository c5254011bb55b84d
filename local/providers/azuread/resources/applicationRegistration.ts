import * as ids from "../ids";
import { differs, type Properties, type PropertyMap } from "../properties";
import { failed, type ResourceType } from "../resourceType";
import { waitForDeletion } from "../stateChange";
import { httpUrl, integerBetween, items, lengthBetween, nonEmptyString, oneOf } from "../validation";
import { describeApplication, findApplication, lockApplication, patchApplication } from "./applicationObject";

/** terraform-provider-azuread internal/services/applications/application_registration_resource.go `Arguments`. */
const properties: Properties = {
  displayName: { type: "string", required: true, validate: nonEmptyString },
  description: { type: "string", validate: lengthBetween(0, 1024) },
  groupMembershipClaims: {
    type: "set",
    validate: items(oneOf("All", "None", "ApplicationGroup", "DirectoryRole", "SecurityGroup")),
  },
  homepageUrl: { type: "string", validate: httpUrl },
  implicitAccessTokenIssuanceEnabled: { type: "boolean" },
  implicitIdTokenIssuanceEnabled: { type: "boolean" },
  logoutUrl: { type: "string", validate: httpUrl },
  marketingUrl: { type: "string", validate: httpUrl },
  notes: { type: "string", validate: nonEmptyString },
  privacyStatementUrl: { type: "string", validate: httpUrl },
  requestedAccessTokenVersion: { type: "integer", default: 2, validate: integerBetween(1, 2) },
  serviceManagementReference: { type: "string", validate: nonEmptyString },
  signInAudience: {
    type: "string",
    default: "AzureADMyOrg",
    validate: oneOf(
      "AzureADMyOrg",
      "AzureADMultipleOrgs",
      "AzureADandPersonalMicrosoftAccount",
      "PersonalMicrosoftAccount",
    ),
  },
  supportUrl: { type: "string", validate: httpUrl },
  termsOfServiceUrl: { type: "string", validate: httpUrl },
};

/** go-azure-sdk `nullable.NoZero`: an empty string goes to Graph as null, which clears the property. */
const noZero = (value: unknown) => (value === "" || value === undefined ? null : value);

/** applications.go `expandApplicationGroupMembershipClaims`: the set joined with commas, or null. */
const groupClaims = (claims: unknown) => noZero((claims as string[]).map((claim) => claim.trim()).join(","));

export const applicationRegistration: ResourceType = {
  token: "azuread:index/applicationRegistration:ApplicationRegistration",
  properties,
  timeouts: { create: 10, read: 5, update: 10, delete: 5 },
  computedOutputs: ["clientId", "disabledByMicrosoft", "objectId", "publisherDomain"],

  // Create: one POST /applications with every argument (no owners: Graph makes the caller the owner).
  async create(op, inputs) {
    const body = {
      displayName: inputs.displayName,
      description: noZero(inputs.description),
      groupMembershipClaims: groupClaims(inputs.groupMembershipClaims),
      notes: noZero(inputs.notes),
      serviceManagementReference: noZero(inputs.serviceManagementReference),
      signInAudience: inputs.signInAudience,
      api: { requestedAccessTokenVersion: inputs.requestedAccessTokenVersion },
      info: {
        marketingUrl: noZero(inputs.marketingUrl),
        privacyStatementUrl: noZero(inputs.privacyStatementUrl),
        supportUrl: noZero(inputs.supportUrl),
        termsOfServiceUrl: noZero(inputs.termsOfServiceUrl),
      },
      web: {
        homePageUrl: noZero(inputs.homepageUrl),
        logoutUrl: noZero(inputs.logoutUrl),
        implicitGrantSettings: {
          enableAccessTokenIssuance: inputs.implicitAccessTokenIssuanceEnabled,
          enableIdTokenIssuance: inputs.implicitIdTokenIssuanceEnabled,
        },
      },
      "@odata.type": "#microsoft.graph.application",
    };
    let created: { id?: string };
    try {
      const response = await op.graph.call(
        { method: "POST", path: "/applications", body, expected: [200, 201, 202, 204] },
        op.deadline,
      );
      created = (response.body ?? {}) as { id?: string };
    } catch (error) {
      throw failed("creating application", error);
    }
    if (!created.id) throw failed("creating application: object ID returned for application is nil/empty");
    return { id: ids.applicationId(created.id) };
  },

  async read(op, id) {
    const objectId = ids.parseApplicationId(id);
    const app = await findApplication(op, objectId).catch((error: unknown) => {
      throw failed(`retrieving ${describeApplication(objectId)}`, error);
    });
    if (!app) return undefined;
    const claims = app.groupMembershipClaims;
    return {
      clientId: app.appId ?? "",
      description: app.description ?? "",
      displayName: app.displayName ?? "",
      groupMembershipClaims: claims === null || claims === undefined ? [] : claims.split(",").map((c) => c.trim()),
      notes: app.notes ?? "",
      objectId: app.id,
      publisherDomain: app.publisherDomain ?? "",
      serviceManagementReference: app.serviceManagementReference ?? "",
      signInAudience: app.signInAudience ?? "",
      requestedAccessTokenVersion: app.api?.requestedAccessTokenVersion ?? 0,
      marketingUrl: app.info?.marketingUrl ?? "",
      privacyStatementUrl: app.info?.privacyStatementUrl ?? "",
      supportUrl: app.info?.supportUrl ?? "",
      termsOfServiceUrl: app.info?.termsOfServiceUrl ?? "",
      homepageUrl: app.web?.homePageUrl ?? "",
      logoutUrl: app.web?.logoutUrl ?? "",
      implicitAccessTokenIssuanceEnabled: app.web?.implicitGrantSettings?.enableAccessTokenIssuance ?? false,
      implicitIdTokenIssuanceEnabled: app.web?.implicitGrantSettings?.enableIdTokenIssuance ?? false,
      disabledByMicrosoft: disabledByMicrosoft(app.disabledByMicrosoftStatus),
    };
  },

  // Update: PATCH only what changed (rd.HasChange), under the application's lock.
  async update(op, id, olds, news) {
    const objectId = ids.parseApplicationId(id);
    const changed = (name: string) => differs(properties[name]!, olds[name], news[name]);
    const patch: PropertyMap = {};
    if (changed("displayName")) patch.displayName = news.displayName;
    if (changed("description")) patch.description = noZero(news.description);
    if (changed("groupMembershipClaims")) patch.groupMembershipClaims = groupClaims(news.groupMembershipClaims);
    if (changed("notes")) patch.notes = noZero(news.notes);
    if (changed("requestedAccessTokenVersion")) {
      patch.api = { requestedAccessTokenVersion: news.requestedAccessTokenVersion };
    }
    if (changed("serviceManagementReference"))
      patch.serviceManagementReference = noZero(news.serviceManagementReference);
    if (changed("signInAudience")) patch.signInAudience = news.signInAudience;
    const info = ["marketingUrl", "privacyStatementUrl", "supportUrl", "termsOfServiceUrl"].filter(changed);
    if (info.length > 0) patch.info = Object.fromEntries(info.map((name) => [name, noZero(news[name])]));
    const implicit = ["implicitAccessTokenIssuanceEnabled", "implicitIdTokenIssuanceEnabled"].filter(changed);
    if (implicit.length > 0 || changed("homepageUrl") || changed("logoutUrl")) {
      const web: PropertyMap = {};
      if (changed("homepageUrl")) web.homePageUrl = noZero(news.homepageUrl);
      if (changed("logoutUrl")) web.logoutUrl = noZero(news.logoutUrl);
      if (implicit.length > 0) {
        web.implicitGrantSettings = {
          ...(changed("implicitAccessTokenIssuanceEnabled")
            ? { enableAccessTokenIssuance: news.implicitAccessTokenIssuanceEnabled }
            : {}),
          ...(changed("implicitIdTokenIssuanceEnabled")
            ? { enableIdTokenIssuance: news.implicitIdTokenIssuanceEnabled }
            : {}),
        };
      }
      patch.web = web;
    }
    await lockApplication(op, objectId, () => patchApplication(op, objectId, patch)).catch((error: unknown) => {
      throw failed(`updating ${describeApplication(objectId)}`, error);
    });
  },

  // Delete: DELETE, then wait until GET has answered 404 five times in a row.
  async delete(op, id) {
    const objectId = ids.parseApplicationId(id);
    await op.graph
      .call({ method: "DELETE", path: `/applications/${objectId}`, expected: [200, 204] }, op.deadline)
      .catch((error: unknown) => {
        throw failed(`deleting ${describeApplication(objectId)}`, error);
      });
    await waitForDeletion(async () => (await findApplication(op, objectId)) !== undefined, op.deadline, op.clock).catch(
      (error: unknown) => {
        throw failed(`waiting for deletion of ${describeApplication(objectId)}`, error);
      },
    );
  },
};

/**
 * Read's `fmt.Sprintf("%v", app.DisabledByMicrosoftStatus)` prints go-azure-sdk's nullable map: absent is "",
 * null is "map[false:]" and a value is "map[true:<value>]".
 */
function disabledByMicrosoft(status: string | null | undefined): string {
  if (status === undefined) return "";
  return status === null ? "map[false:]" : `map[true:${status}]`;
}
