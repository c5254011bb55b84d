package main

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"strconv"

	"github.com/pulumi/pulumi/sdk/v3"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/logging"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// RunPlugin runs a plugin written in TypeScript or JavaScript: a policy pack (`--policy-pack <dir>`, kind analyzer)
// through @pulumi/pulumi/cmd/run-policy-pack, anything else (a source component package such as this repository's
// provider.ts, for `pulumi package get-schema .` and `pulumi package add`) through cmd/run-plugin. The plugin's
// stdout, where it announces its port, streams back to the CLI.
func (host *nodeHost) RunPlugin(req *pulumirpc.RunPluginRequest, server pulumirpc.LanguageRuntime_RunPluginServer) error {
	if req.GetAttachDebugger() {
		return errNoDebugger
	}
	ctx := server.Context()
	closer, stdout, stderr, err := rpcutil.MakeRunPluginStreams(server, false)
	if err != nil {
		return err
	}
	defer closer.Close()

	options, err := parseRuntimeOptions(req.GetInfo().GetOptions())
	if err != nil {
		return err
	}
	node, err := findNode()
	if err != nil {
		return err
	}
	programDirectory := req.GetInfo().GetProgramDirectory()
	isPolicyPack := req.GetKind() == string(apitype.AnalyzerPlugin)
	entry := "@pulumi/pulumi/cmd/run-plugin"
	if isPolicyPack {
		entry = "@pulumi/pulumi/cmd/run-policy-pack"
	}
	entry, err = resolveModule(ctx, node, programDirectory, entry, "run `npm install` in "+programDirectory+".")
	if err != nil {
		return err
	}

	env := append(append([]string{}, req.GetEnv()...), options.typescriptEnvironment()...)
	args := append(append([]string{}, options.nodeargs...), entry)
	// run-policy-pack takes the engine address first and the pack's directory last; run-plugin the directory first.
	if isPolicyPack {
		args = append(append(args, req.GetArgs()...), programDirectory)
	} else {
		args = append(append(args, programDirectory), req.GetArgs()...)
	}

	var policyProxy *sdk.PolicyProxy
	if isPolicyPack {
		// Policy packs read the stack (name, configuration, dry run) from the environment, which the engine sends
		// only as a ConfigureStack call to the analyzer: sdk's proxy answers as the analyzer, collects that call, and
		// then hands the engine over to the pack.
		if policyProxy, stdout, err = sdk.NewPolicyProxy(ctx, stdout); err != nil {
			return fmt.Errorf("could not start the policy pack proxy: %w", err)
		}
		stack, err := policyProxy.AwaitConfiguration(ctx)
		if err != nil {
			return fmt.Errorf("could not get the stack configuration for the policy pack: %w", err)
		}
		if env, err = appendStackEnvironment(env, stack); err != nil {
			return err
		}
	}

	cmd := exec.CommandContext(ctx, node, args...)
	// Policy packs have always run in their own directory.
	cmd.Dir = req.GetPwd()
	if isPolicyPack {
		cmd.Dir = programDirectory
	}
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = stdout, stderr
	interruptible(cmd)
	logging.V(5).Infof("pulumi-language-nodejs: running plugin %v", cmd)

	if err := cmd.Start(); err != nil {
		return fmt.Errorf("could not start the plugin (%s): %w", node, err)
	}
	if policyProxy != nil {
		err = policyProxy.Attach(ctx, cmd)
	} else {
		err = cmd.Wait()
	}
	if code := exitCode(err); code >= 0 {
		return fmt.Errorf("Program exited with non-zero exit code: %d", code)
	} else if err != nil {
		return err
	}
	return closer.Close()
}

// appendStackEnvironment adds what @pulumi/policy reads about the stack under analysis (the variables cmd/run sets for
// programs).
func appendStackEnvironment(env []string, stack *pulumirpc.AnalyzerStackConfigureRequest) ([]string, error) {
	if stack == nil {
		return env, nil
	}
	add := func(key, value string) {
		if value != "" {
			env = append(env, key+"="+value)
		}
	}
	add("PULUMI_NODEJS_ORGANIZATION", stack.GetOrganization())
	add("PULUMI_NODEJS_PROJECT", stack.GetProject())
	add("PULUMI_NODEJS_STACK", stack.GetStack())
	add("PULUMI_NODEJS_DRY_RUN", strconv.FormatBool(stack.GetDryRun()))
	if stack.GetConfig() != nil {
		configJSON, err := json.Marshal(stack.GetConfig())
		if err != nil {
			return nil, fmt.Errorf("could not encode the stack configuration for the policy pack: %w", err)
		}
		add("PULUMI_CONFIG", string(configJSON))
	}
	return env, nil
}
