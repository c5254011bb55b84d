// The component package's entry point (package.json `main`): `pulumi package add` runs it through Pulumi's nodejs
// host, which serves EntraProtectedApis to programs in any language. The stack's own program is index.ts
// (Pulumi.yaml `main`). Importing this file starts a provider: libraries import components/entraProtectedApis.
import { componentProviderHost } from "@pulumi/pulumi/provider/experimental";
import { EntraProtectedApis } from "./components/entraProtectedApis";
import { projectName } from "./config/validate";

componentProviderHost({ components: [EntraProtectedApis], name: projectName, dirname: __dirname }).catch(
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
