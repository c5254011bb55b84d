"""One API behind an existing APIM service and one daemon client granted it, through the generated SDK."""

import pulumi
import pulumi_apim_entra_auth as apim_entra_auth

catalogue = apim_entra_auth.EntraProtectedApis(
    "catalogue",
    # Where Entra issues tokens: the public cloud unless the stack names another (a sovereign cloud, the local tenant).
    authority_host=pulumi.Config().get("authorityHost"),
    apim=apim_entra_auth.ApimServiceSpecArgs(resource_group_name="rg-apim-dev", service_name="apim-contoso-dev"),
    apis=[
        apim_entra_auth.ApiSpecArgs(
            name="orders",
            display_name="My-APIM-API",
            path="orders",
            backend_url="https://orders.dev.example.com",
            token_version=2,
        )
    ],
    clients=[
        apim_entra_auth.ClientSpecArgs(
            name="reporting",
            display_name="My-Client-App",
            credential="secret",
            secret_rotated_on="2026-11-23",  # the day you issue the secret; change it to rotate
            apis=["orders"],
        )
    ],
)

pulumi.export("authorityHost", catalogue.authority_host)
pulumi.export("gatewayUrl", catalogue.gateway_url)
pulumi.export("tenantId", catalogue.tenant_id)
pulumi.export("apis", catalogue.apis)
pulumi.export("clients", catalogue.clients)
