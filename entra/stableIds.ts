import { v5 as uuidv5 } from "uuid";

/** Namespace of every id this project derives; changing it would replace every scope and role. */
const namespace = "6f1d3c1e-2b8a-5c47-9e0d-3a5b7c9d1e2f";

/**
 * A UUID that depends only on the API's catalogue name and what the id is for, so that evaluating
 * the program again, or renaming the role's value, keeps the id — and every assignment made to it.
 */
export function stableId(apiName: string, purpose: "app-role" | "scope" | "user-role"): string {
  return uuidv5(`apim-entra-auth/${apiName}/${purpose}`, namespace);
}
