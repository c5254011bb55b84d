// The program's azure-native resources, evaluated under the mock engine, deployed in registration order by our
// azure-native provider (Check, then Create) to the local ARM, and called through the local gateway with a token
// from the Entra stand-in holding what the program registered. What this cannot prove: the real engine's ordering,
// previews and state (the engine tier runs `pulumi up`), nor Entra itself (the identity helper's directory).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureApimService } from "../local/armSeed";
import { localGatewayUrl } from "../local/gateway";
import type { MockEvaluation } from "../tools/preview/mockEngine";
import { parseStackOutputs, type StackOutputs } from "../tools/sign-in/stackOutputs";
import { type EntraStandIn, type EntraStandInOptions, startEntraStandIn } from "./support/entraStandIn";
import { evaluate, guideApi, guideConfig } from "./support/evaluate";
import {
  type ArmFixture,
  armNow,
  type LocalGatewayFixture,
  providerFor,
  servicePath,
  startArmFixture,
  startLocalGateway,
  subscriptionId,
} from "./support/localArm";
import { entraDirectoryOf } from "./support/stackDirectory";

let entra: EntraStandIn;
let arm: ArmFixture;
let gateway: LocalGatewayFixture;
let evaluation: MockEvaluation;
let outputs: StackOutputs;
const deployed: string[] = [];

beforeAll(async () => {
  const tenantId = guideConfig().tenantId as string;
  const directory: EntraStandInOptions = { tenantId, clients: [], apis: [], assignments: [] };
  entra = await startEntraStandIn(directory);
  evaluation = await evaluate(
    guideConfig({
      authorityHost: entra.authorityHost,
      apim: { resourceGroupName: "rg-apim-dev", serviceName: "apim-contoso-dev" },
      apis: [guideApi({ authorizationServer: { client: "reporting" } })],
    }),
  );
  outputs = parseStackOutputs(evaluation.outputs);
  entra.seed(entraDirectoryOf(evaluation));

  arm = await startArmFixture();
  ensureApimService(
    arm.store,
    { subscriptionId, resourceGroupName: "rg-apim-dev", serviceName: "apim-contoso-dev" },
    armNow,
  );
  const provider = providerFor(arm);
  for (const resource of evaluation.resources.filter((candidate) => candidate.type.startsWith("azure-native:"))) {
    const checked = await provider.check(resource.urn, {}, resource.inputs);
    expect([resource.name, checked.failures]).toEqual([resource.name, []]);
    deployed.push((await provider.create(resource.urn, checked.inputs)).id);
  }

  gateway = await startLocalGateway(arm, entra.authorityHost);
});

afterAll(async () => {
  await Promise.all([entra?.close(), arm?.close(), gateway?.close()]);
});

async function reportingToken(): Promise<string> {
  const client = outputs.clients.reporting as StackOutputs["clients"][string];
  const response = await fetch(`${entra.authorityHost}/${outputs.tenantId}/oauth2/v2.0/token`, {
    method: "POST",
    body: new URLSearchParams({
      grant_type: "client_credentials",
      client_id: client.clientId,
      client_secret: client.clientSecret ?? "",
      scope: `${outputs.apis.orders?.identifierUri}/.default`,
    }),
  });
  const body = (await response.json()) as { access_token?: string };
  if (!body.access_token) throw new Error(`no token: ${JSON.stringify(body)}`);
  return body.access_token;
}

describe("the program deployed by our azure-native provider to the local tenant", () => {
  it("creates the portal's authorization server, the API, its five operations and its policy in ARM", () => {
    const api = `${servicePath()}/apis/orders`;
    expect(deployed).toEqual([
      `${servicePath()}/authorizationServers/orders-entra`,
      api,
      `${api}/operations/get-any`,
      `${api}/operations/post-any`,
      `${api}/operations/put-any`,
      `${api}/operations/patch-any`,
      `${api}/operations/delete-any`,
      `${api}/policies/policy`,
    ]);
    expect(arm.store.get(`${api}/policies/policy`)?.body.properties).toEqual({
      format: "rawxml",
      value: outputs.apis.orders?.policy,
    });
  });

  it("lets the granted client through the gateway with its token, and nobody without one", async () => {
    const url = `${localGatewayUrl(gateway.url, "apim-contoso-dev")}/orders/items`;
    const granted = await fetch(url, { headers: { authorization: `Bearer ${await reportingToken()}` } });
    expect([granted.status, await granted.json()]).toEqual([200, { method: "GET", path: "/items" }]);
    const anonymous = await fetch(url, { method: "POST" });
    expect([anonymous.status, await anonymous.json()]).toEqual([401, { statusCode: 401, message: "Unauthorized" }]);
  });
});
