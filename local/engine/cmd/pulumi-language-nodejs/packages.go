package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/logging"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// GetRequiredPackages names the provider plugins a program needs: every installed npm package whose package.json says
// `"pulumi": {"resource": true}` (the SDKs of providers, e.g. @pulumi/azuread). The CLI installs or finds those
// plugins before the program runs.
func (host *nodeHost) GetRequiredPackages(
	ctx context.Context, req *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	packages, err := providerPackages(req.GetInfo().GetProgramDirectory())
	if err != nil {
		// As the official host does, a package.json that cannot be read costs that package, not the deployment.
		logging.V(3).Infof("pulumi-language-nodejs: while looking for provider packages: %v", err)
	}
	return &pulumirpc.GetRequiredPackagesResponse{Packages: packages}, nil
}

// GetRequiredPlugins is the older form of GetRequiredPackages, for CLIs that still call it.
func (host *nodeHost) GetRequiredPlugins(
	ctx context.Context, req *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	packages, err := host.GetRequiredPackages(ctx, &pulumirpc.GetRequiredPackagesRequest{Info: req.GetInfo()})
	if err != nil {
		return nil, err
	}
	plugins := make([]*pulumirpc.PluginDependency, 0, len(packages.GetPackages()))
	for _, pkg := range packages.GetPackages() {
		plugins = append(plugins, &pulumirpc.PluginDependency{
			Name: pkg.Name, Kind: pkg.Kind, Version: pkg.Version, Server: pkg.Server,
		})
	}
	return &pulumirpc.GetRequiredPluginsResponse{Plugins: plugins}, nil
}

type packageManifest struct {
	Name    string                  `json:"name"`
	Version string                  `json:"version"`
	Pulumi  plugin.PulumiPluginJSON `json:"pulumi"`
}

// providerPackages walks dir/node_modules the way Node lays it out: packages, @scope/packages, and each package's own
// nested node_modules. The official host instead walks every directory under the program; the packages a program can
// require are the same. Policy packs installed as dependencies are skipped: their providers are not the program's.
func providerPackages(dir string) ([]*pulumirpc.PackageDependency, error) {
	seen := map[string]bool{}
	var packages []*pulumirpc.PackageDependency
	var problems []error

	var visitNodeModules func(nodeModules string)
	var visitPackage func(packageDir string)
	visitNodeModules = func(nodeModules string) {
		entries, err := os.ReadDir(nodeModules)
		if err != nil {
			if !errors.Is(err, os.ErrNotExist) {
				problems = append(problems, err)
			}
			return
		}
		for _, entry := range entries {
			path := filepath.Join(nodeModules, entry.Name())
			switch {
			case strings.HasPrefix(entry.Name(), "."):
			case strings.HasPrefix(entry.Name(), "@"):
				scoped, err := os.ReadDir(path)
				if err != nil {
					problems = append(problems, err)
					continue
				}
				for _, inScope := range scoped {
					visitPackage(filepath.Join(path, inScope.Name()))
				}
			default:
				visitPackage(path)
			}
		}
	}
	visitPackage = func(packageDir string) {
		// npm links workspaces and `file:` dependencies; a link is visited once, by its target.
		real, err := filepath.EvalSymlinks(packageDir)
		if err != nil || seen[real] {
			return
		}
		seen[real] = true
		if policyPack, _ := workspace.DetectPolicyPackPathAt(real); policyPack != "" {
			return
		}
		if dependency, err := providerDependency(filepath.Join(real, "package.json")); err != nil {
			problems = append(problems, err)
		} else if dependency != nil {
			packages = append(packages, dependency)
		}
		visitNodeModules(filepath.Join(real, "node_modules"))
	}

	visitNodeModules(filepath.Join(dir, "node_modules"))
	sort.Slice(packages, func(i, j int) bool { return packages[i].Name < packages[j].Name })
	return packages, errors.Join(problems...)
}

// providerDependency reads one package.json; nil when the package brings no provider plugin.
func providerDependency(manifestPath string) (*pulumirpc.PackageDependency, error) {
	data, err := os.ReadFile(manifestPath)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	var manifest packageManifest
	if err := json.Unmarshal(data, &manifest); err != nil {
		return nil, fmt.Errorf("%s: %w", manifestPath, err)
	}
	if !manifest.Pulumi.Resource {
		return nil, nil
	}

	// A package outside the @pulumi scope must name its plugin; @pulumi/<name> is plugin <name>.
	name := manifest.Pulumi.Name
	if name == "" {
		var inPulumiScope bool
		if name, inPulumiScope = strings.CutPrefix(manifest.Name, "@pulumi/"); !inPulumiScope {
			return nil, fmt.Errorf("%s: package %q has a resource plugin but no \"pulumi\": {\"name\": …}",
				manifestPath, manifest.Name)
		}
	}
	version := manifest.Pulumi.Version
	if version == "" {
		version = manifest.Version
	}
	if version == "" {
		return nil, fmt.Errorf("%s: package %q has no version", manifestPath, manifest.Name)
	}
	if !strings.HasPrefix(version, "v") {
		version = "v" + version
	}

	dependency := &pulumirpc.PackageDependency{
		Name: name, Kind: "resource", Version: version, Server: manifest.Pulumi.Server,
	}
	if p := manifest.Pulumi.Parameterization; p != nil {
		dependency.Parameterization = &pulumirpc.PackageParameterization{Name: p.Name, Version: p.Version, Value: p.Value}
	}
	if p := manifest.Pulumi.ExtensionParameterization; p != nil {
		dependency.Extension = &pulumirpc.PackageParameterization{Name: p.Name, Version: p.Version, Value: p.Value}
	}
	return dependency, nil
}
