// npm run schema: the component package's schema, as `pulumi package add` would get it from the plugin, offline: the
// SDK's analyser reads the component's TypeScript types and doc comments (package.json `main`, tsconfig.json).
import * as path from "node:path";
import { ComponentProvider } from "@pulumi/pulumi/provider/experimental";
import { EntraProtectedApis } from "../components/entraProtectedApis";
import { projectName } from "../config/validate";
import { runIfMain } from "./cli";

/** The package schema (Pulumi's package schema format), parsed. */
export async function packageSchema(): Promise<Record<string, unknown>> {
  const provider = new ComponentProvider({
    components: [EntraProtectedApis],
    name: projectName,
    dirname: path.resolve(__dirname, ".."),
  });
  return JSON.parse(await provider.getSchema()) as Record<string, unknown>;
}

runIfMain(
  module,
  async (_argv, io) => {
    io.out(JSON.stringify(await packageSchema(), null, 2));
    return 0;
  },
  1,
);
