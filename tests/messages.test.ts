import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { closestKey, editDistance } from "../config/suggest";
import type { ProgramError } from "../tools/preview/mockEngine";
import { readStackFileConfig } from "../tools/preview/stackFiles";
import { projectDir } from "../tools/plan";
import { evaluate, guideApi, guideConfig } from "./support/evaluate";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each case writes an arbitrary bad value into the config.
type Config = Record<string, any>;

async function configMessage(change: (config: Config) => void): Promise<string> {
  const config = guideConfig() as Config;
  change(config);
  const failure = (await evaluate(config).then(
    () => undefined,
    (error: unknown) => error,
  )) as ProgramError | undefined;
  if (!failure) throw new Error("the config was accepted");
  expect(failure.resources).toEqual([]);
  return failure.message;
}

describe("editDistance (optimal string alignment)", () => {
  it.each([
    ["tokenVersion", "tokenVersion", 0],
    ["tokenVerison", "tokenVersion", 1],
    ["ab", "ba", 1],
    ["ca", "abc", 3],
    ["path", "paths", 1],
    ["backendUrl", "backendURL", 2],
    ["", "abc", 3],
    ["kitten", "sitting", 3],
  ])("%s → %s is %i", (a, b, distance) => {
    expect(editDistance(a, b)).toBe(distance);
    expect(editDistance(b, a)).toBe(distance);
  });
});

describe("closestKey", () => {
  const apiKeys = Object.keys(guideApi({ tokenVersion: 2, scope: "s", appRole: "r", formerNames: [] }));
  it.each([
    ["tokenVerison", "tokenVersion"],
    ["backendURL", "backendUrl"],
    ["dispalyName", "displayName"],
    ["pth", "path"],
    ["colour", undefined],
    ["secretLifetime", undefined],
  ])("%s → %s", (key, near) => {
    expect(closestKey(key, [...apiKeys, "secretLifetimeDays"])).toBe(near);
  });

  it("suggests nothing when two keys are equally close", () => {
    expect(closestKey("abd", ["abc", "abe"])).toBeUndefined();
  });
});

describe("configuration messages a person can act on", () => {
  it("name a list entry by its name as well as its index, also in cross-key checks", async () => {
    const inventory = guideApi({ name: "inventory", path: "/inventory", backendUrl: "https://inventory.example.com" });
    expect(await configMessage((c) => c.apis.push(inventory))).toContain(
      `  - apim-entra-auth:apis[1] (inventory).path: "/inventory" is not allowed;`,
    );
    expect(await configMessage((c) => (c.clients[0].apis = ["invoices"]))).toContain(
      `  - apim-entra-auth:clients[0] (reporting).apis[0]: "invoices" is not an API in apim-entra-auth:apis (orders).`,
    );
  });

  it("give a transposition typo a did-you-mean", async () => {
    const message = await configMessage((c) => {
      c.apis[0].tokenVerison = 2;
    });
    expect(message).toContain(
      `apim-entra-auth:apis[0] (orders).tokenVerison: unknown key — did you mean "tokenVersion"?`,
    );
  });

  it("print only the did-you-mean line for a required key that was misspelt", async () => {
    const message = await configMessage((c) => {
      c.apis[0].dispalyName = c.apis[0].displayName;
      delete c.apis[0].displayName;
    });
    expect(message.split("\n")).toEqual([
      `Invalid configuration for stack "test":`,
      expect.stringMatching(
        /^ {2}- apim-entra-auth:apis\[0\] \(orders\)\.dispalyName: unknown key — did you mean "displayName"\? Allowed keys: /,
      ),
    ]);
  });

  it("still say a required key is missing when nothing near it was written", async () => {
    const message = await configMessage((c) => delete c.apis[0].displayName);
    expect(message).toContain(`apim-entra-auth:apis[0] (orders).displayName: is required (expected string).`);
  });

  it("tell to start each item with `- ` when a list was written as a map", async () => {
    const message = await configMessage((c) => (c.apis = guideApi()));
    expect(message).toBe(
      `Invalid configuration for stack "test":\n  - apim-entra-auth:apis: is written as a map but must be a list: start each item with \`- \` (e.g. \`- name: orders\`).`,
    );
  });
});

describe("a stack file with a YAML syntax error", () => {
  it("is reported under the same header, naming the file and the line, without the parser's excerpt", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "yaml-"));
    fs.copyFileSync(path.join(projectDir, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
    const lines = [
      "config:",
      "  apim-entra-auth:apis:",
      "    - name: orders",
      "      path: orders",
      "     backendUrl: x",
    ];
    fs.writeFileSync(path.join(dir, "Pulumi.broken.yaml"), `${lines.join("\n")}\n`);
    let message = "";
    try {
      readStackFileConfig(dir, "broken");
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toBe(
      `Invalid configuration for stack "broken":\n  - Pulumi.broken.yaml line 5, column 1: Sequence item without - indicator; check the indentation there.`,
    );
  });
});

describe("a stack name that cannot be the default nameSuffix", () => {
  const refusal = async (stack: string, config: Record<string, unknown> = guideConfig()) => {
    const failure = (await evaluate(config, stack).catch((error: unknown) => error)) as ProgramError;
    expect(failure.resources).toEqual([]);
    return failure.message.split("\n");
  };

  it.each([
    [
      "pre_prod",
      `("_" is not allowed); it takes up to 20 letters, digits or hyphens ("" for none), so set apim-entra-auth:nameSuffix, e.g. "pre-prod".`,
    ],
    [
      "eu.prod",
      `("." is not allowed); it takes up to 20 letters, digits or hyphens ("" for none), so set apim-entra-auth:nameSuffix, e.g. "eu-prod".`,
    ],
    [
      "staging-westeurope-blue",
      `(it has 23 characters); it takes up to 20 letters, digits or hyphens ("" for none), so set apim-entra-auth:nameSuffix, e.g. "staging-westeurope-b".`,
    ],
    [
      "eu_staging.westeurope",
      `("_" and "." are not allowed; it has 21 characters); it takes up to 20 letters, digits or hyphens ("" for none), so set apim-entra-auth:nameSuffix, e.g. "eu-staging-westeurop".`,
    ],
  ])("names %s and apim-entra-auth:nameSuffix as the fix", async (stack, reason) => {
    expect(await refusal(stack)).toEqual([
      `Invalid configuration for stack "${stack}":`,
      `  - apim-entra-auth:nameSuffix: is not set, so it would be the stack name "${stack}", which is not a valid nameSuffix ${reason}`,
    ]);
  });

  it("is reported before any other problem", async () => {
    const lines = await refusal("pre_prod", guideConfig({ apis: [guideApi({ path: "/orders" })] }));
    expect(lines[1]).toMatch(/^ {2}- apim-entra-auth:nameSuffix: is not set, so it would be the stack name "pre_prod"/);
    expect(lines[2]).toMatch(/^ {2}- apim-entra-auth:apis\[0\] \(orders\)\.path: "\/orders" is not allowed/);
    expect(lines).toHaveLength(3);
  });

  it("is no problem once nameSuffix is set", async () => {
    const stack = await evaluate(guideConfig({ nameSuffix: "pre-prod" }), "pre_prod");
    expect(stack.resources.find((resource) => resource.name === "orders-app")?.inputs.displayName).toBe(
      "My-APIM-API-pre-prod",
    );
  });
});

describe("messages that say exactly what is wrong", () => {
  const lines = async (change: (config: Config) => void) => (await configMessage(change)).split("\n").slice(1);

  it("a duplicate client name gives only the duplicate, not what the other entry lacks", async () => {
    expect(
      await lines((c) => {
        c.apis[0].authorizationServer = { client: "reporting" };
        c.clients.push({ ...c.clients[0], displayName: "Other", apis: [] });
      }),
    ).toEqual([
      `  - apim-entra-auth:clients: the name "reporting" is used by more than one client; names must be unique.`,
    ]);
  });

  it("a duplicate path names both entries", async () => {
    expect(
      await lines((c) => c.apis.push(guideApi({ name: "inventory", path: "Orders", backendUrl: "https://i.example" }))),
    ).toEqual([
      `  - apim-entra-auth:apis[1] (inventory).path: "Orders" is already the path of apim-entra-auth:apis[0] (orders); APIM paths must be unique (letter case aside).`,
    ]);
  });

  it("a grant to an unknown API suggests the API meant", async () => {
    expect(await lines((c) => (c.clients[0].apis = ["order"]))).toEqual([
      `  - apim-entra-auth:clients[0] (reporting).apis[0]: "order" is not an API in apim-entra-auth:apis (orders) — did you mean "orders"?`,
    ]);
  });

  it("an unknown portal or allowed client suggests the client meant", async () => {
    expect(
      await lines((c) => {
        c.apis[0].authorizationServer = { client: "reportng" };
        c.apis[0].allowedClients = ["reportin"];
      }),
    ).toEqual([
      `  - apim-entra-auth:apis[0] (orders).allowedClients[0]: "reportin" is neither a client in apim-entra-auth:clients (reporting) nor a client id GUID — did you mean "reporting"?`,
      `  - apim-entra-auth:apis[0] (orders).authorizationServer.client: "reportng" is not a client in apim-entra-auth:clients (reporting) — did you mean "reporting"?`,
      `  - apim-entra-auth:clients[0] (reporting).apis[0]: "orders" accepts only the clients in apim-entra-auth:apis[0] (orders).allowedClients (reportin), so "reporting" would get a token the gateway refuses; add "reporting" there or remove the grant.`,
    ]);
  });

  it.each<[string, (config: Config) => void, string]>([
    [
      "a display name",
      (c) => (c.apis[0].displayName = "A".repeat(130)),
      `apim-entra-auth:apis[0] (orders).displayName: "${"A".repeat(130)}" is not allowed (it has 130 characters); use 1–120 characters without control characters`,
    ],
    [
      "a path",
      (c) => (c.apis[0].path = "p".repeat(401)),
      `apim-entra-auth:apis[0] (orders).path: "${"p".repeat(401)}" is not allowed (it has 401 characters); use a URL path of 1–400 characters without a leading or trailing slash, of letters, digits, '.', '_', '~', '-' and '/'`,
    ],
    [
      "a federated credential's name, too short",
      (c) => {
        c.clients[0] = {
          name: "pipeline",
          displayName: "Pipeline",
          credential: "federated",
          federatedCredentials: [{ name: "gh", issuer: "https://token.actions.githubusercontent.com", subject: "s" }],
        };
      },
      `apim-entra-auth:clients[0] (pipeline).federatedCredentials[0].name: "gh" is not allowed (it has 2 characters); use 3–120 letters, digits, '-' or '_', starting with a letter or digit`,
    ],
    [
      "a redirect URI",
      (c) => {
        c.apis[0].callers = ["users"];
        c.clients[0] = { name: "desktop", displayName: "Desktop", kind: "native", apis: ["orders"] };
        c.clients[0].redirectUris = [`http://127.0.0.1/${"r".repeat(284)}`];
      },
      `apim-entra-auth:clients[0] (desktop).redirectUris[0]: "http://127.0.0.1/${"r".repeat(284)}" is not allowed; it has 301 characters; Entra allows at most 256.`,
    ],
    [
      "a client's federated credentials",
      (c) => {
        c.clients[0] = {
          name: "pipeline",
          displayName: "Pipeline",
          credential: "federated",
          federatedCredentials: Array.from({ length: 21 }, (_, i) => ({
            name: `env-${i}`,
            issuer: "https://token.actions.githubusercontent.com",
            subject: `repo:c/o:environment:env-${i}`,
          })),
        };
      },
      `apim-entra-auth:clients[0] (pipeline).federatedCredentials: 21 entries is not allowed; Entra ID allows at most 20 federated credentials per app.`,
    ],
    [
      "a client's grants",
      (c) => (c.clients[0].apis = Array.from({ length: 51 }, (_, i) => `api-${i}`)),
      `apim-entra-auth:clients[0] (reporting).apis: 51 entries is not allowed; grant at most 50 APIs per client (Entra's limit of resource apps per app).`,
    ],
  ])("a length limit says the actual length: %s", async (_case, change, line) => {
    expect(await lines(change)).toEqual([`  - ${line}`]);
  });
});
