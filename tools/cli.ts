import { type ParseArgsConfig, parseArgs } from "node:util";

/** Where a tool writes its lines: the process's stdout and stderr, or a test's arrays. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

/** A bad flag or input: the tool prints it with its usage and exits with status 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** Bad input that is no flag problem (an id that names nothing, …): printed without the usage, status 2. */
export class InputError extends Error {
  override name = "InputError";
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Parses argv strictly, without positionals; a bad flag is a {@link UsageError}. */
export function parseToolArgs<T extends NonNullable<ParseArgsConfig["options"]>>(argv: string[], options: T) {
  try {
    return parseArgs({ args: argv, options, strict: true as const, allowPositionals: false as const }).values;
  } catch (error) {
    // A stray positional may be a pasted secret: do not echo it.
    if ((error as NodeJS.ErrnoException).code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL") {
      throw new UsageError("this command takes no positional arguments");
    }
    throw new UsageError(errorText(error));
  }
}

/**
 * Parses argv, or answers for the tool: the usage for `--help` (status 0), a bad flag and the usage (status 2).
 * A number is the tool's exit status.
 */
export function parseOrAnswer<T extends NonNullable<ParseArgsConfig["options"]>>(
  argv: string[],
  options: T,
  io: CliIo,
  usage: string,
) {
  let values: ReturnType<typeof parseToolArgs<T>>;
  try {
    values = parseToolArgs(argv, options);
  } catch (error) {
    return reportInputError(io, error, usage);
  }
  if ((values as { help?: boolean }).help) {
    io.out(usage);
    return 0;
  }
  return values;
}

/**
 * Prints `error: …`, and the usage after a {@link UsageError} (not after an {@link InputError}); returns the tools'
 * exit status for bad input, 2.
 */
export function reportInputError(io: Pick<CliIo, "err">, error: unknown, usage: string): number {
  io.err(`error: ${errorText(error)}`);
  if (error instanceof UsageError) io.err(usage);
  return 2;
}

/**
 * Runs a tool when its file is the entry point (`tsx tools/plan.ts`), with stdout and stderr as its io and its
 * result as the exit status; an unexpected error prints `error: …` and exits with `crashStatus`.
 */
export function runIfMain(
  entry: NodeJS.Module,
  run: (argv: string[], io: CliIo) => number | Promise<number>,
  crashStatus: number,
): void {
  if (typeof require === "undefined" || require.main !== entry) return;
  const io: CliIo = {
    out: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(`${text}\n`),
  };
  Promise.resolve()
    .then(() => run(process.argv.slice(2), io))
    .then(
      (code) => {
        process.exitCode = code;
      },
      (error: unknown) => {
        process.stderr.write(`error: ${errorText(error)}\n`);
        process.exitCode = crashStatus;
      },
    );
}
