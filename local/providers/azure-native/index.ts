// The plugin executable's entry: `pulumi-resource-azure-native <engine address>` for local runs only (the engine tier
// registers it with installLocalProvider). It answers as the @pulumi/azure-native SDK's version, so the engine takes
// it for the SDK this project depends on.
import { AzureNativeProvider } from "./provider";
import { serve } from "./serve";

const { version } = require("@pulumi/azure-native/package.json") as { version: string };

serve(new AzureNativeProvider({ version }), process.argv.slice(2)).catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
