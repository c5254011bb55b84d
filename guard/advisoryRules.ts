import { finding, type GuardRule, isAppRegistration, ResourceGraph, stackOfUrn, types } from "./model";

/**
 * Heuristic: a password of a daemon client whose value no other resource of the stack consumes. Such a client
 * signs in as itself from code we run, where an OIDC issuer (a pipeline, Kubernetes, an Azure workload) can vouch
 * for it instead. A password another resource needs (e.g. APIM's developer-portal authorization server, which
 * sends a client secret) is left alone: no federated credential serves there.
 */
export const preferFederatedCredential: GuardRule = {
  name: "prefer-federated-credential",
  level: "advisory",
  description: "A daemon client's secret that nothing in the stack consumes could be a federated credential.",
  check(resources) {
    const graph = new ResourceGraph(resources);
    const daemons = new Set(graph.daemonApps());
    return graph
      .ofType(types.password)
      .filter((password) => {
        const app = graph.appOf(password);
        return app !== undefined && daemons.has(app) && !graph.feedsAnything(password);
      })
      .map((password) =>
        finding(
          this,
          password,
          "an app-only client with a secret: if it runs in a pipeline or an Azure/Kubernetes workload, use credential: federated — no secret to leak or rotate",
        ),
      );
  },
};

const productionName = /(^|[-_.])(prod|prd|production|live)([-_.]|$)/i;

/**
 * Resources whose loss breaks clients: what `protect: true` is for. Not passwords: the program never protects
 * them, so that a two-slot rotation can delete the old one (docs/configuration.md, protect).
 */
const worthProtecting = new Set<string>([
  types.applicationRegistration,
  types.application,
  types.servicePrincipal,
  types.apimApi,
]);

export const protectProduction: GuardRule = {
  name: "protect-production",
  level: "advisory",
  description: "A stack whose name looks like production protects its registrations and APIs.",
  check(resources) {
    const first = resources[0];
    if (!first) return [];
    const stack = stackOfUrn(first.urn);
    if (!productionName.test(stack)) return [];
    const exposed = resources.filter(
      (resource) => (worthProtecting.has(resource.type) || isAppRegistration(resource)) && resource.protect !== true,
    );
    return exposed.length > 0
      ? [
          finding(
            this,
            { name: stack, urn: "" },
            `stack looks like production but ${exposed.length} registrations, principals or APIs are unprotected; set apim-entra-auth:protect: true`,
          ),
        ]
      : [];
  },
};
