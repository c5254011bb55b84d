import * as provider from "@pulumi/pulumi/provider";
import { captureConfigure } from "./configureHook";
import { answerPreviews } from "./previewHook";
import { AzureadProvider } from "./provider";

/**
 * The plugin executable's entry (`pulumi-resource-azuread`): the engine starts it with its address, reads the port it
 * prints, and then speaks the provider protocol to it.
 */
const azuread = new AzureadProvider();
captureConfigure((config) => azuread.configure(config));
answerPreviews(azuread);
provider.main(azuread, process.argv.slice(2)).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
