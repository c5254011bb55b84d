// npm run local -- <command>: the local tenant's commands.
import { type CliIo, parseOrAnswer, runIfMain } from "../tools/cli";
import { installEngine, runPulumi } from "./engine";

export const usage = `usage: local <command>

  install [--build]   build the Pulumi CLI and its Node.js language host into .local/engine (cached; nothing is
                      built when the official pulumi is on PATH, unless --build)
  pulumi <args...>    the Pulumi CLI with the local environment (file backend and plugins under .local/)`;

const installUsage = `usage: local install [--build]`;

export async function runLocal(argv: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case "install": {
      const flags = parseOrAnswer(rest, { build: { type: "boolean" }, help: { type: "boolean" } }, io, installUsage);
      if (typeof flags === "number") return flags;
      await installEngine({ log: io.out, build: flags.build });
      return 0;
    }
    case "pulumi":
      return (await runPulumi(rest, { stdio: "inherit" })).code;
    case "--help":
    case "-h":
      io.out(usage);
      return 0;
    default:
      io.err(command ? `error: unknown command "${command}"` : "error: a command is required");
      io.err(usage);
      return 2;
  }
}

runIfMain(module, runLocal, 1);
