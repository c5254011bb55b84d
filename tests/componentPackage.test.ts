// The component package as `pulumi package add` sees it: the schema the SDK's analyser derives from the component's
// types (the same call `npm run schema` makes, offline), the plugin manifest, and the YAML example against the schema.
// What this cannot prove: that the Pulumi CLI generates an SDK from it and runs the plugin; that needs the CLI.
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { apiEntry, apimSettings, clientEntry, federatedCredential, catalogueSchema } from "../config/schema";
import { packageSchema } from "../tools/schema";

interface Property {
  type?: string;
  $ref?: string;
  items?: Property;
  additionalProperties?: Property;
  description?: string;
}
interface ObjectType {
  properties: Record<string, Property>;
  required?: string[];
  description?: string;
}
interface Schema {
  name: string;
  resources: Record<
    string,
    { isComponent: boolean; inputProperties: Record<string, Property>; requiredInputs: string[] } & ObjectType
  >;
  types: Record<string, ObjectType>;
}

const token = "apim-entra-auth:index:EntraProtectedApis";
let schema: Schema;
beforeAll(async () => {
  schema = (await packageSchema()) as unknown as Schema;
}, 60_000);

const typeOf = (ref: string | undefined) => schema.types[(ref ?? "").replace("#/types/", "")] as ObjectType;

describe("the component package's schema", () => {
  it("has the one component, with the stack config's keys as typed inputs", () => {
    expect(schema.name).toBe("apim-entra-auth");
    expect(Object.keys(schema.resources)).toEqual([token]);
    const component = schema.resources[token];
    expect(component?.isComponent).toBe(true);
    expect(Object.keys(component?.inputProperties ?? {}).sort()).toEqual(Object.keys(catalogueSchema.shape).sort());
    expect(component?.requiredInputs).toEqual(["apim", "apis"]);
  });

  it("types apis and clients as arrays of objects with the config entries' keys, never Any", () => {
    const inputs = schema.resources[token]?.inputProperties ?? {};
    expect(inputs.apis?.type).toBe("array");
    expect(inputs.clients?.type).toBe("array");
    const api = typeOf(inputs.apis?.items?.$ref);
    const client = typeOf(inputs.clients?.items?.$ref);
    expect(Object.keys(api.properties).sort()).toEqual(Object.keys(apiEntry.shape).sort());
    expect(api.required?.sort()).toEqual(["backendUrl", "displayName", "name", "path"]);
    expect(api.properties.tokenVersion?.type).toBe("number");
    expect(api.properties.callers).toMatchObject({ type: "array", items: { type: "string" } });
    expect(Object.keys(client.properties).sort()).toEqual(Object.keys(clientEntry.shape).sort());
    expect(client.required?.sort()).toEqual(["displayName", "name"]);
    const federated = typeOf(client.properties.federatedCredentials?.items?.$ref);
    expect(Object.keys(federated.properties).sort()).toEqual(Object.keys(federatedCredential.shape).sort());
    expect(Object.keys(typeOf(inputs.apim?.$ref).properties).sort()).toEqual(Object.keys(apimSettings.shape).sort());
    expect(JSON.stringify(schema)).not.toContain("pulumi.json#/Any");
  });

  it("outputs what the stack exports, per client and per API", () => {
    const outputs = schema.resources[token]?.properties ?? {};
    expect(Object.keys(outputs).sort()).toEqual(["apis", "authorityHost", "clients", "gatewayUrl", "tenantId"]);
    const client = typeOf(outputs.clients?.additionalProperties?.$ref);
    expect(Object.keys(client.properties).sort()).toEqual(
      [
        "clientId",
        "clientSecret",
        "credential",
        "examples",
        "identityResourceId",
        "kind",
        "principalId",
        "redirectUris",
        "resources",
        "scopes",
        "secretEndDate",
        "secrets",
        "tenantId",
        "tokenEndpoint",
      ].sort(),
    );
    const api = typeOf(outputs.apis?.additionalProperties?.$ref);
    expect(Object.keys(api.properties).sort()).toEqual(
      [
        "apiCall",
        "appRole",
        "appRoleId",
        "clientId",
        "identifierUri",
        "policy",
        "tokenRequest",
        "tokenVersion",
        "url",
      ].sort(),
    );
  });

  it("describes every input, output and type property (the doc comments become the SDKs' documentation)", () => {
    const component = schema.resources[token];
    const undocumented = [
      ...Object.entries(component?.inputProperties ?? {}).map(([key, property]) => [`input ${key}`, property] as const),
      ...Object.entries(component?.properties ?? {}).map(([key, property]) => [`output ${key}`, property] as const),
      ...Object.entries(schema.types).flatMap(([type, definition]) =>
        Object.entries(definition.properties).map(([key, property]) => [`${type}.${key}`, property] as const),
      ),
    ]
      .filter(([, property]) => !property.description)
      .map(([name]) => name);
    expect(undocumented).toEqual([]);
    expect(component?.inputProperties.apis?.description).toBe("The APIs APIM protects; at least one.");
  });
});

describe("the plugin manifest", () => {
  it("declares a nodejs plugin whose entry point (package.json main) is the provider, beside the program", () => {
    expect(parse(readFileSync("PulumiPlugin.yaml", "utf8"))).toEqual({ runtime: "nodejs" });
    const manifest = JSON.parse(readFileSync("package.json", "utf8")) as { name: string; main: string };
    expect(manifest.name).toBe("apim-entra-auth");
    expect(manifest.main).toBe("provider.ts");
    expect(readFileSync("provider.ts", "utf8")).toContain("componentProviderHost(");
    expect((parse(readFileSync("Pulumi.yaml", "utf8")) as { main: string }).main).toBe("index.ts");
  });
});

describe("the YAML example", () => {
  const program = parse(readFileSync("examples/yaml/Pulumi.yaml", "utf8")) as {
    packages: Record<string, string>;
    resources: Record<string, { type: string; properties: Record<string, unknown> }>;
    outputs: Record<string, unknown>;
  };

  /** Every key of `value` that the schema type `property` does not declare, as a path. */
  function unknownKeys(value: unknown, property: Property | undefined, at: string): string[] {
    if (!property) return [at];
    if (property.$ref) {
      const type = typeOf(property.$ref);
      return Object.entries(value as Record<string, unknown>).flatMap(([key, item]) =>
        unknownKeys(item, type.properties[key], `${at}.${key}`),
      );
    }
    if (property.type === "array") {
      return (value as unknown[]).flatMap((item, index) => unknownKeys(item, property.items, `${at}[${index}]`));
    }
    return [];
  }

  it("adds the package and declares one API and one client with properties the schema has", () => {
    expect(program.packages).toEqual({ "apim-entra-auth": "../.." });
    const [catalogue, ...others] = Object.values(program.resources);
    expect(others).toEqual([]);
    expect(catalogue?.type).toBe(token);
    const inputs = schema.resources[token]?.inputProperties ?? {};
    const properties = catalogue?.properties ?? {};
    const unknown = Object.entries(properties).flatMap(([key, value]) => unknownKeys(value, inputs[key], key));
    expect(unknown).toEqual([]);
    expect(schema.resources[token]?.requiredInputs.filter((key) => !(key in properties))).toEqual([]);
    expect((properties.apis as unknown[]).length).toBe(1);
    expect((properties.clients as unknown[]).length).toBe(1);
  });

  it("exports only outputs the component has (a client's, field by field)", () => {
    const outputs = Object.keys(schema.resources[token]?.properties ?? {});
    const expressions = (value: unknown): string[] =>
      typeof value === "string" ? [value] : Object.values(value as Record<string, unknown>).flatMap(expressions);
    const used = expressions(program.outputs).map(
      (expression) => /^\$\{catalogue\.(\w+)[\w.]*\}$/.exec(expression)?.[1],
    );
    expect(used.filter((name) => !name || !outputs.includes(name))).toEqual([]);
    expect(new Set(used)).toEqual(new Set(outputs));
  });
});
