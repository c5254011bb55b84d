package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"
)

// findNode is the `node` on PATH, as the official host takes it: the local engine's environment puts the project's
// Node.js 22 first.
func findNode() (string, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return "", fmt.Errorf("could not find node on the $PATH: %w", err)
	}
	return node, nil
}

// resolveModule asks node where `module` (e.g. @pulumi/pulumi/cmd/run) resolves from dir, so the program or plugin runs
// the @pulumi/pulumi it depends on.
func resolveModule(ctx context.Context, node, dir, module, installHint string) (string, error) {
	// With -p, process.argv[1] is the first argument after the script: no quoting of the module name.
	cmd := exec.CommandContext(ctx, node, "-p", "require.resolve(process.argv[1])", module)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			return "", fmt.Errorf("could not find %s from %s: the Pulumi SDK looks missing; %s\n%s",
				module, dir, installHint, strings.TrimSpace(string(exitErr.Stderr)))
		}
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}

// interruptible makes a command stop with SIGINT, as a terminal's Ctrl-C would, when ctx ends; the SDK then finishes
// its in-flight registrations. A process that ignores it is killed after a grace period.
func interruptible(cmd *exec.Cmd) {
	cmd.Cancel = func() error {
		if err := cmd.Process.Signal(os.Interrupt); err != nil {
			return cmd.Process.Kill()
		}
		return nil
	}
	cmd.WaitDelay = 5 * time.Second
}

// writerOnly hides an *os.File from exec.Cmd, which then copies through a pipe instead of handing node the file
// descriptor: node may switch its stdout to non-blocking mode, which would make this process's own writes fail with
// EAGAIN (golang/go#58408).
type writerOnly struct{ io.Writer }

// exitCode is the exit code of a process that ran and failed, or -1 when err is something else.
func exitCode(err error) int {
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		return exitErr.ExitCode()
	}
	return -1
}
