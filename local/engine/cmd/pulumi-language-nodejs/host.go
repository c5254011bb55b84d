package main

import (
	"context"
	"errors"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/logging"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/version"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// nodeHost serves the LanguageRuntime methods the CLI needs to run TypeScript programs, policy packs and source
// plugins, and to generate and link Node.js SDKs (codegen.go, link.go: `pulumi package gen-sdk`, `pulumi package
// add`). Program generation (GenerateProgram, GenerateProject: `pulumi convert`, `pulumi import` with code), Pack and
// the `pulumi new` methods (RuntimeOptionsPrompts, Template) answer Unimplemented through the embedded server.
type nodeHost struct {
	pulumirpc.UnimplementedLanguageRuntimeServer

	engineAddress string
	tracing       string
	// Stops the server when the engine stops answering health checks.
	shutdown context.CancelFunc

	// Cancelled by the Cancel RPC: every node process this host started is interrupted.
	cancelled context.Context
	cancel    context.CancelFunc
}

func newNodeHost(engineAddress, tracing string, shutdown context.CancelFunc) *nodeHost {
	cancelled, cancel := context.WithCancel(context.Background())
	return &nodeHost{
		engineAddress: engineAddress, tracing: tracing, shutdown: shutdown, cancelled: cancelled, cancel: cancel,
	}
}

func (host *nodeHost) Handshake(
	ctx context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	// main already watches the address the CLI passed on the command line.
	if req.EngineAddress != host.engineAddress {
		host.engineAddress = req.EngineAddress
		if err := rpcutil.Healthcheck(host.cancelled, host.engineAddress, 5*time.Minute, host.shutdown); err != nil {
			return nil, err
		}
	}
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (host *nodeHost) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version.Version}, nil
}

func (host *nodeHost) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	host.cancel()
	return &emptypb.Empty{}, nil
}

var errNoDebugger = errors.New(
	"this Node.js language host (the local engine's own) cannot attach a debugger; use the official Pulumi CLI")

// callLogOptions logs every LanguageRuntime call at verbosity 5 (`pulumi -v=5 --logflow --logtostderr`), which is how
// to see what the CLI asks of this host.
func callLogOptions() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(func(
			ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler,
		) (any, error) {
			logging.V(5).Infof("pulumi-language-nodejs: %s", info.FullMethod)
			return handler(ctx, req)
		}),
		grpc.ChainStreamInterceptor(func(
			srv any, stream grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler,
		) error {
			logging.V(5).Infof("pulumi-language-nodejs: %s", info.FullMethod)
			return handler(srv, stream)
		}),
	}
}
