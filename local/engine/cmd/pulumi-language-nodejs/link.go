package main

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/nodejs/npm"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// Link makes SDKs the CLI generated into the program's folder (`pulumi package add`) dependencies of the program: each
// SDK's package.json name becomes a `file:` dependency in the program's package.json, through the package manager,
// as the official host does. The official host then leaves installing to InstallDependencies, which the CLI calls
// next; ours installs nothing where node_modules exists, so Link installs the program's dependencies itself then.
func (host *nodeHost) Link(ctx context.Context, req *pulumirpc.LinkRequest) (*pulumirpc.LinkResponse, error) {
	programDirectory := req.GetInfo().GetProgramDirectory()
	options, err := parseRuntimeOptions(req.GetInfo().GetOptions())
	if err != nil {
		return nil, err
	}
	manager, err := npm.ResolvePackageManager(options.packagemanager, programDirectory)
	if err != nil {
		return nil, err
	}

	var imports strings.Builder
	for _, dependency := range req.GetPackages() {
		manifest, _, err := npm.ReadPackageManifest(filepath.Join(programDirectory, dependency.GetPath()))
		if err != nil {
			return nil, fmt.Errorf("reading the generated SDK of %s: %w", dependency.GetPackage().GetName(), err)
		}
		name, ok := manifest["name"].(string)
		if !ok || name == "" {
			return nil, fmt.Errorf("the generated SDK in %s names no npm package", dependency.GetPath())
		}
		if err := manager.Link(ctx, programDirectory, name, dependency.GetPath()); err != nil {
			return nil, err
		}
		fmt.Fprintf(&imports, "  import * as %s from %q;\n", importName(dependency.GetPackage().GetName()), name)
	}

	if root, err := packageRoot(programDirectory); err == nil && nodeModulesAtOrAbove(root) != "" {
		var output bytes.Buffer
		name, err := npm.Install(ctx, options.packagemanager, root, options.production, &output, &output)
		if err != nil {
			return nil, fmt.Errorf("%s install in %s failed: %w\n%s", name, root, err, output.String())
		}
	}
	return &pulumirpc.LinkResponse{
		ImportInstructions: "You can import the SDK in your TypeScript code with:\n\n" + imports.String(),
	}, nil
}

// importName is a package name as a JavaScript identifier: apim-entra-auth becomes apimEntraAuth.
func importName(packageName string) string {
	parts := strings.FieldsFunc(packageName, func(r rune) bool { return r == '-' || r == '_' || r == '.' })
	for i := 1; i < len(parts); i++ {
		parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
	}
	return strings.Join(parts, "")
}
