import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";

/** The folder holding Pulumi.yaml: `openApiFile` paths are relative to it, wherever the command was started. */
export const projectDirectory = path.resolve(__dirname, "..");

/**
 * APIM's import formats for an inline document (azure-rest-api-specs apimanagement 2024-05-01,
 * ApiCreateOrUpdateProperties.format): `swagger-json` is OpenAPI 2.0 JSON, `openapi+json` OpenAPI 3 JSON,
 * `openapi` OpenAPI 3 YAML. There is no inline format for Swagger 2.0 YAML.
 */
export type OpenApiFormat = "swagger-json" | "openapi+json" | "openapi";

export interface OpenApiDocument {
  format: OpenApiFormat;
  value: string;
}

export type OpenApiReading = { document: OpenApiDocument } | { problem: string };

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** Reads an OpenAPI document and tells its import format from its content, not from the file name. */
export function readOpenApiDocument(file: string, projectDir: string = projectDirectory): OpenApiReading {
  const fullPath = path.resolve(projectDir, file);
  if (!fs.existsSync(fullPath)) {
    return {
      problem: `"${file}" does not exist in the project directory (${projectDir}); give a path relative to it.`,
    };
  }
  const value = fs.readFileSync(fullPath, "utf8");
  let content: unknown;
  try {
    content = parse(value);
  } catch (error) {
    const reason = (error instanceof Error ? error.message : String(error)).split("\n")[0];
    return { problem: `"${file}" is neither JSON nor YAML (${reason}); give an OpenAPI 3 or Swagger 2.0 document.` };
  }
  const fields = (content && typeof content === "object" ? content : {}) as { swagger?: unknown; openapi?: unknown };
  const json = isJson(value);
  if (String(fields.swagger) === "2.0") {
    if (json) return { document: { format: "swagger-json", value } };
    return {
      problem: `"${file}" is a Swagger 2.0 document in YAML, which APIM cannot import inline; convert it to JSON (imported as swagger-json) or to OpenAPI 3.`,
    };
  }
  if (typeof fields.openapi === "string" && /^3\.\d+(\.\d+)?$/.test(fields.openapi)) {
    return { document: { format: json ? "openapi+json" : "openapi", value } };
  }
  return {
    problem: `"${file}" is neither an OpenAPI 3.x document (openapi: "3.x") nor a Swagger 2.0 document (swagger: "2.0"); give an OpenAPI description of the API.`,
  };
}
