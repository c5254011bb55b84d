package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/config"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/logging"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// The exit code with which @pulumi/pulumi's entry points say "the user has already been shown an actionable message".
const exitAfterActionableMessage = 32

// Run runs a program with @pulumi/pulumi's cmd/run, which connects to the engine's resource monitor itself.
//
// The official host puts two things between node and the engine, neither needed by @pulumi/pulumi 3.276: a resource
// monitor proxy whose only addition is a "pulumi-runtime: nodejs" header, which the engine infers just the same from
// grpc-js's "grpc-node-js/" user agent (pkg/resource/deploy requestFromNodeJS); and the --sync pipes for synchronous
// invokes, which the SDK no longer opens (runtime/settings tryGetSyncInvokes has no caller).
func (host *nodeHost) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	if req.GetAttachDebugger() {
		return nil, errNoDebugger
	}
	failed := func(err error) (*pulumirpc.RunResponse, error) {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}

	options, err := parseRuntimeOptions(req.GetInfo().GetOptions())
	if err != nil {
		return failed(err)
	}
	node, err := findNode()
	if err != nil {
		return failed(err)
	}
	runPath := os.Getenv("PULUMI_LANGUAGE_NODEJS_RUN_PATH")
	if runPath == "" {
		runPath = "@pulumi/pulumi/cmd/run"
	}
	runPath, err = resolveModule(ctx, node, req.GetInfo().GetProgramDirectory(), runPath, "run `pulumi install`.")
	if err != nil {
		return failed(err)
	}

	env, err := programEnvironment(req)
	if err != nil {
		return failed(err)
	}
	env = append(env, options.typescriptEnvironment()...)

	args := append([]string{}, options.nodeargs...)
	args = append(args, runPath)
	args = append(args, host.runArguments(req)...)

	// Ended by the Cancel RPC or by the CLI dropping the call.
	runCtx, stop := context.WithCancel(host.cancelled)
	defer stop()
	context.AfterFunc(ctx, stop)

	cmd := exec.CommandContext(runCtx, node, args...)
	cmd.Env = env
	cmd.Stdout = writerOnly{os.Stdout}
	cmd.Stderr = writerOnly{os.Stderr}
	interruptible(cmd)
	logging.V(5).Infof("pulumi-language-nodejs: running %v", cmd)

	err = cmd.Run()
	switch code := exitCode(err); {
	case err == nil:
		return &pulumirpc.RunResponse{}, nil
	case code == exitAfterActionableMessage:
		return &pulumirpc.RunResponse{Bail: true}, nil
	case code >= 0:
		return failed(fmt.Errorf("Program exited with non-zero exit code: %d", code))
	default:
		return failed(fmt.Errorf("Problem executing program (could not run language executor): %w", err))
	}
}

// runArguments are cmd/run's flags (see its usage text), then the entry point and the program's own arguments.
func (host *nodeHost) runArguments(req *pulumirpc.RunRequest) []string {
	var args []string
	flag := func(name, value string) {
		if value != "" {
			args = append(args, "--"+name, value)
		}
	}
	flag("monitor", req.GetMonitorAddress())
	flag("engine", host.engineAddress)
	flag("organization", req.GetOrganization())
	flag("project", req.GetProject())
	flag("root-directory", req.GetInfo().GetRootDirectory())
	flag("stack", req.GetStack())
	flag("pwd", req.GetInfo().GetProgramDirectory())
	if req.GetDryRun() {
		args = append(args, "--dry-run")
	}
	flag("parallel", strconv.Itoa(int(req.GetParallel())))
	flag("tracing", host.tracing)
	args = append(args, req.GetInfo().GetEntryPoint())
	return append(args, req.GetArgs()...)
}

// programEnvironment is this process's environment plus the stack's configuration, which @pulumi/pulumi reads from
// PULUMI_CONFIG and PULUMI_CONFIG_SECRET_KEYS.
func programEnvironment(req *pulumirpc.RunRequest) ([]string, error) {
	// Keys go over as <namespace>:config:<name>, the form every @pulumi/pulumi version reads (newer ones read
	// <namespace>:<name> too).
	settings := make(map[string]string, len(req.GetConfig()))
	for key, value := range req.GetConfig() {
		parsed, err := config.ParseKey(key)
		if err != nil {
			return nil, fmt.Errorf("configuration key %q: %w", key, err)
		}
		settings[parsed.Namespace()+":config:"+parsed.Name()] = value
	}
	configJSON, err := json.Marshal(settings)
	if err != nil {
		return nil, err
	}
	secretKeys := req.GetConfigSecretKeys()
	if secretKeys == nil {
		secretKeys = []string{}
	}
	secretKeysJSON, err := json.Marshal(secretKeys)
	if err != nil {
		return nil, err
	}
	return append(os.Environ(),
		"PULUMI_CONFIG="+string(configJSON),
		"PULUMI_CONFIG_SECRET_KEYS="+string(secretKeysJSON),
	), nil
}
