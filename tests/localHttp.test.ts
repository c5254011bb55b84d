// fetchWithCa: the fetch npm run local -- adopt hands tools/adopt.ts, which runs in a process that did not trust the
// tenant's CA from its start (Node reads NODE_EXTRA_CA_CERTS only then).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fetchWithCa } from "../local/http";
import { startTestTenant } from "./support/localTenant";

let local: Awaited<ReturnType<typeof startTestTenant>>;

beforeAll(async () => {
  local = await startTestTenant();
});
afterAll(async () => local?.close());

describe("fetchWithCa", () => {
  const tokenRequest = () => ({
    method: "POST",
    // A URLSearchParams body: fetch gives it its content type, and so must fetchWithCa.
    body: new URLSearchParams({
      grant_type: "client_credentials",
      client_id: local.tenant.admin.clientId,
      client_secret: local.tenant.admin.clientSecret,
      scope: `${local.tenant.endpoints.graph}/.default`,
    }),
  });
  const tokenUrl = () => `${local.tenant.endpoints.login}/${local.tenant.admin.tenantId}/oauth2/v2.0/token`;

  it("reaches the tenant over HTTPS with its CA, sending a form body as fetch does", async () => {
    const answer = await fetchWithCa(local.ca)(tokenUrl(), tokenRequest());
    expect(answer.status).toBe(200);
    expect(answer.headers.get("content-type")).toMatch(/^application\/json/);
    const body = (await answer.json()) as { token_type?: string; access_token?: string };
    expect(body.token_type).toBe("Bearer");
    expect(body.access_token?.split(".")).toHaveLength(3);
  });

  it("answers the tenant's refusal as a Response, status and body", async () => {
    const request = tokenRequest();
    request.body.set("client_secret", "wrong");
    const answer = await fetchWithCa(local.ca)(tokenUrl(), request);
    expect(answer.status).toBe(401);
    expect(((await answer.json()) as { error?: string }).error).toBe("invalid_client");
  });

  it("is needed: this process's own fetch does not trust the tenant's CA", async () => {
    await expect(fetch(tokenUrl(), tokenRequest())).rejects.toThrow("fetch failed");
  });
});
