// One API behind an existing APIM service and one daemon client granted it, through the generated SDK.
package main

import (
	apimentraauth "example.com/pulumi-apim-entra-auth/sdk/go/apim-entra-auth"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

func main() {
	pulumi.Run(func(ctx *pulumi.Context) error {
		// Where Entra issues tokens: the public cloud unless the stack names another (a sovereign cloud, the local tenant).
		var authorityHost *string
		if host, ok := ctx.GetConfig(ctx.Project() + ":authorityHost"); ok && host != "" {
			authorityHost = &host
		}
		catalogue, err := apimentraauth.NewEntraProtectedApis(ctx, "catalogue", &apimentraauth.EntraProtectedApisArgs{
			AuthorityHost: authorityHost,
			Apim:          apimentraauth.ApimServiceSpecArgs{ResourceGroupName: "rg-apim-dev", ServiceName: "apim-contoso-dev"},
			Apis: []apimentraauth.ApiSpecArgs{{
				Name:         "orders",
				DisplayName:  "My-APIM-API",
				Path:         "orders",
				BackendUrl:   "https://orders.dev.example.com",
				TokenVersion: pulumi.Float64Ref(2),
			}},
			Clients: []apimentraauth.ClientSpecArgs{{
				Name:            "reporting",
				DisplayName:     "My-Client-App",
				Credential:      pulumi.StringRef("secret"),
				SecretRotatedOn: pulumi.StringRef("2026-11-23"), // the day you issue the secret; change it to rotate
				Apis:            []string{"orders"},
			}},
		})
		if err != nil {
			return err
		}
		ctx.Export("authorityHost", catalogue.AuthorityHost)
		ctx.Export("gatewayUrl", catalogue.GatewayUrl)
		ctx.Export("tenantId", catalogue.TenantId)
		ctx.Export("apis", catalogue.Apis)
		ctx.Export("clients", catalogue.Clients)
		return nil
	})
}
