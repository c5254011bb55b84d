import { EntraProtectedApis } from "../../components/entraProtectedApis";

// One API behind an existing APIM service and one daemon client granted it; `npm test` type-checks this program.
const catalogue = new EntraProtectedApis("catalogue", {
  apim: { resourceGroupName: "rg-apim-dev", serviceName: "apim-contoso-dev" },
  apis: [
    {
      name: "orders",
      displayName: "My-APIM-API",
      path: "orders",
      backendUrl: "https://orders.dev.example.com",
      tokenVersion: 2,
    },
  ],
  clients: [
    {
      name: "reporting",
      displayName: "My-Client-App",
      credential: "secret",
      secretRotatedOn: "2026-11-23", // the day you issue the secret; change it to rotate
      apis: ["orders"],
    },
  ],
});

export const gatewayUrl = catalogue.gatewayUrl;
export const ordersUrl = catalogue.apis.orders?.url;
export const reporting = catalogue.clients.reporting;
