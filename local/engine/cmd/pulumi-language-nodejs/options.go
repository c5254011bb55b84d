package main

import (
	"fmt"

	"github.com/google/shlex"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/pulumi/pulumi/sdk/v3/nodejs/npm"
)

// runtimeOptions are Pulumi.yaml's `runtime.options` for nodejs, as Pulumi documents them.
type runtimeOptions struct {
	typescript     bool
	tsconfig       string
	nodeargs       []string
	packagemanager npm.PackageManagerType
	production     bool
}

func parseRuntimeOptions(options *structpb.Struct) (runtimeOptions, error) {
	parsed := runtimeOptions{typescript: true, packagemanager: npm.AutoPackageManager}
	for key, value := range options.AsMap() {
		var ok bool
		switch key {
		case "typescript":
			parsed.typescript, ok = value.(bool)
		case "production":
			parsed.production, ok = value.(bool)
		case "tsconfig":
			parsed.tsconfig, ok = value.(string)
		case "nodeargs":
			var text string
			if text, ok = value.(string); ok {
				var err error
				if parsed.nodeargs, err = shlex.Split(text); err != nil {
					return parsed, fmt.Errorf("runtime option nodeargs %q is not a valid argument list: %w", text, err)
				}
			}
		case "packagemanager":
			var name string
			name, ok = value.(string)
			switch npm.PackageManagerType(name) {
			case npm.AutoPackageManager, npm.NpmPackageManager, npm.YarnPackageManager, npm.PnpmPackageManager,
				npm.BunPackageManager:
				parsed.packagemanager = npm.PackageManagerType(name)
			default:
				return parsed, fmt.Errorf(
					"runtime option packagemanager is %v; allowed: auto, npm, yarn, pnpm or bun", value)
			}
		default:
			// Options of newer hosts are not ours to refuse.
			ok = true
		}
		if !ok {
			return parsed, fmt.Errorf("runtime option %s is %v (%T); expected a %s", key, value, value, optionKind(key))
		}
	}
	return parsed, nil
}

func optionKind(key string) string {
	if key == "typescript" || key == "production" {
		return "boolean"
	}
	return "string"
}

// typescriptEnvironment tells @pulumi/pulumi's entry points to compile TypeScript with ts-node.
func (options runtimeOptions) typescriptEnvironment() []string {
	var env []string
	if options.typescript {
		env = append(env, "PULUMI_NODEJS_TYPESCRIPT=true")
	}
	if options.tsconfig != "" {
		env = append(env, "PULUMI_NODEJS_TSCONFIG_PATH="+options.tsconfig)
	}
	return env
}
