// pulumi-language-nodejs: our own Node.js language host for the Pulumi CLI. The official one is a separate Go module
// of pulumi/pulumi that the Go module proxy does not serve, so the local engine builds this one instead. It speaks the
// same LanguageRuntime protocol and starts the same @pulumi/pulumi entry points (cmd/run, cmd/run-plugin,
// cmd/run-policy-pack) with the same flags and environment, so a program or plugin cannot tell the two apart.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"time"

	"google.golang.org/grpc"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/cmdutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/logging"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/version"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

func main() {
	// The CLI passes --tracing, and glog's -v/--logtostderr (registered by the logging package) when it runs
	// with --logflow, before the engine address.
	tracing := flag.String("tracing", "", "Emit tracing to a Zipkin-compatible tracing endpoint")
	runtime := flag.String("runtime", "nodejs", "The JavaScript runtime; only nodejs is supported by this host")
	showVersion := flag.Bool("version", false, "Print the plugin version and exit")
	// Older Pulumi SDKs (the YAML host links sdk/v3 v3.206.0) start a language host with the project's root and its
	// runtime options as flags; each request now carries them, so these are accepted and ignored, as the official
	// host does.
	flag.String("root", "", "[obsolete] Project root path to use")
	flag.Bool("typescript", true, "[obsolete] Use ts-node at runtime to support TypeScript source natively")
	flag.String("tsconfig", "", "[obsolete] Path to tsconfig.json to use")
	flag.String("nodeargs", "", "[obsolete] Arguments for the Node process")
	flag.String("packagemanager", "", "[obsolete] Package manager to use (auto, npm, yarn, pnpm or bun)")
	flag.Parse()

	if *showVersion {
		fmt.Println(version.Version)
		return
	}
	logging.InitLogging(false, 0, false)
	cmdutil.InitTracing("pulumi-language-nodejs", "pulumi-language-nodejs", *tracing)

	if *runtime != "nodejs" {
		cmdutil.Exit(fmt.Errorf("unsupported runtime %q: this host runs Node.js only", *runtime))
	}

	var engineAddress string
	if args := flag.Args(); len(args) > 0 {
		engineAddress = args[0]
	}

	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt)
	defer cancel()
	stop := make(chan bool)
	go func() {
		<-ctx.Done()
		close(stop)
	}()

	if engineAddress != "" {
		// Exit when the engine goes away, instead of lingering as an orphan.
		if err := rpcutil.Healthcheck(ctx, engineAddress, 5*time.Minute, cancel); err != nil {
			cmdutil.Exit(fmt.Errorf("could not start the engine health check: %w", err))
		}
	}

	host := newNodeHost(engineAddress, *tracing, cancel)
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Cancel: stop,
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, host)
			return nil
		},
		Options: append(rpcutil.TracingServerInterceptorOptions(nil), callLogOptions()...),
	})
	if err != nil {
		cmdutil.Exit(fmt.Errorf("could not start the language host RPC server: %w", err))
	}

	// The CLI reads the port from the first line of stdout.
	fmt.Printf("%d\n", handle.Port)

	if err := <-handle.Done; err != nil {
		cmdutil.Exit(fmt.Errorf("language host RPC server stopped: %w", err))
	}
}
