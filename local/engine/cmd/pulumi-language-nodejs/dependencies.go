package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	"github.com/pulumi/pulumi/sdk/v3/nodejs/npm"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// InstallDependencies (`pulumi install`, and before a policy pack or source plugin first runs) installs the npm
// dependencies of the package that holds the program, with the package manager Pulumi.yaml names or its lock file
// implies, unless a node_modules folder is already there or above it, where Node resolves from (this repository's
// guard pack has no node_modules of its own): then it installs nothing and says so. The official host always runs the
// package manager; skipping keeps the local engine's runs off the network once `npm ci` has run. Node version files
// (.nvmrc, fnm) are not honoured: the local engine brings its own Node.js.
func (host *nodeHost) InstallDependencies(
	req *pulumirpc.InstallDependenciesRequest, server pulumirpc.LanguageRuntime_InstallDependenciesServer,
) error {
	closer, stdout, stderr, err := rpcutil.MakeInstallDependenciesStreams(server, req.GetIsTerminal())
	if err != nil {
		return err
	}
	defer closer.Close()

	options, err := parseRuntimeOptions(req.GetInfo().GetOptions())
	if err != nil {
		return err
	}
	root, err := packageRoot(req.GetInfo().GetProgramDirectory())
	if err != nil {
		return err
	}
	if installed := nodeModulesAtOrAbove(root); installed != "" {
		fmt.Fprintf(stdout, "Dependencies already installed in %s; nothing to install.\n", installed)
		return closer.Close()
	}

	fmt.Fprintf(stdout, "Installing dependencies in %s...\n\n", root)
	name, err := npm.Install(server.Context(), options.packagemanager, root, options.production, stdout, stderr)
	if err != nil {
		return fmt.Errorf("%s install in %s failed: %w", name, root, err)
	}
	fmt.Fprintf(stdout, "Finished installing dependencies\n\n")
	return closer.Close()
}

// packageRoot is where dependencies of dir are installed: its npm/yarn workspace root, else the folder of the nearest
// package.json, else dir itself.
func packageRoot(dir string) (string, error) {
	if root, err := npm.FindWorkspaceRoot(dir); err == nil {
		return root, nil
	} else if !errors.Is(err, npm.ErrNotInWorkspace) {
		return "", fmt.Errorf("looking for the workspace root of %s: %w", dir, err)
	}
	if manifest, err := npm.SearchupPackageManifest(dir); err == nil {
		return filepath.Dir(manifest), nil
	}
	return dir, nil
}

func nodeModulesAtOrAbove(dir string) string {
	for {
		candidate := filepath.Join(dir, "node_modules")
		if info, err := os.Stat(candidate); err == nil && info.IsDir() {
			return candidate
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// GetProgramDependencies lists the program's npm packages (`pulumi about`, update checks) from the lock file.
func (host *nodeHost) GetProgramDependencies(
	ctx context.Context, req *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	options, err := parseRuntimeOptions(req.GetInfo().GetOptions())
	if err != nil {
		return nil, err
	}
	manager, err := npm.ResolvePackageManager(options.packagemanager, req.GetInfo().GetProgramDirectory())
	if err != nil {
		return nil, err
	}
	packages, err := manager.ListPackages(ctx, req.GetInfo().GetProgramDirectory(), req.GetTransitiveDependencies())
	if err != nil {
		return nil, fmt.Errorf("could not list the program's npm packages: %w", err)
	}
	dependencies := make([]*pulumirpc.DependencyInfo, 0, len(packages))
	for _, pkg := range packages {
		dependencies = append(dependencies, &pulumirpc.DependencyInfo{Name: pkg.Name, Version: pkg.Version})
	}
	return &pulumirpc.GetProgramDependenciesResponse{Dependencies: dependencies}, nil
}

// About (`pulumi about`) reports the node, package manager and TypeScript a program runs with; what cannot be
// determined is left out rather than failing the command.
func (host *nodeHost) About(ctx context.Context, req *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	options, err := parseRuntimeOptions(req.GetInfo().GetOptions())
	if err != nil {
		return nil, err
	}
	node, err := findNode()
	if err != nil {
		return nil, err
	}
	dir := req.GetInfo().GetProgramDirectory()
	manager, err := npm.ResolvePackageManager(options.packagemanager, dir)
	if err != nil {
		return nil, err
	}
	metadata := map[string]string{"packagemanager": manager.Name()}
	if version, err := manager.Version(); err == nil {
		metadata["packagemanagerVersion"] = version.String()
	}
	if version := nodeOutput(ctx, node, dir, "-p", "require('typescript/package.json').version"); version != "" {
		metadata["typescriptVersion"] = version
	}
	return &pulumirpc.AboutResponse{
		Executable: node,
		Version:    nodeOutput(ctx, node, dir, "--version"),
		Metadata:   metadata,
	}, nil
}

// nodeOutput is node's trimmed output, or "" when it fails.
func nodeOutput(ctx context.Context, node, dir string, args ...string) string {
	cmd := exec.CommandContext(ctx, node, args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}
