/**
 * The argument parsing the ml-service CLIs share (train, backtest, backtest:grid): every option is a
 * `--name value` string checked by the CLI's zod schema, `--help` prints the usage, and a bad value names
 * its option. `run` maps the outcome to the exit code: 2 with the usage for bad arguments, 0 for --help.
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { MarketDataError } from '../market/market-data.js';

export const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD');
export const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
export const intList = (min: number, max: number) =>
  z
    .string()
    .transform((s) => s.split(',').map((x) => Number(x.trim())))
    .pipe(z.array(z.number().int().min(min).max(max)).min(1));

/** Parsed options, or null for --help. Throws an Error listing every bad option. */
export function parseCliArgs<S extends z.ZodObject<z.ZodRawShape>>(
  schema: S,
  argv: readonly string[],
): z.infer<S> | null {
  const { values } = parseArgs({
    args: [...argv],
    options: Object.fromEntries(
      [...Object.keys(schema.shape), 'help'].map((k) => [k, { type: k === 'help' ? 'boolean' : 'string' }]),
    ) as Record<string, { type: 'string' | 'boolean' }>,
    allowPositionals: false,
  });
  if (values.help) return null;
  const parsed = schema.safeParse(values);
  if (!parsed.success)
    throw new Error(parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('\n'));
  return parsed.data;
}

/**
 * Parses argv with `parse` (parseCliArgs plus the CLI's own cross-option checks) and runs `main` with the
 * result; bad arguments print the message and the usage to stderr (exit 2), --help prints the usage (0).
 */
export async function runCli<A>(
  usage: string,
  parse: (argv: string[]) => A | null,
  main: (args: A) => Promise<number>,
  argv: string[] = process.argv.slice(2),
): Promise<number> {
  let args: A | null;
  try {
    args = parse(argv);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${usage}\n`);
    return 2;
  }
  if (args === null) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  return main(args);
}

/**
 * A CLI's process: runCli, then its code as the exit code. A failure exits 1 with one line; the data's
 * own errors (MarketDataError) and bad ranges (RangeError) say their message, anything else its stack.
 */
export function runCliProcess<A>(
  name: string,
  usage: string,
  parse: (argv: string[]) => A | null,
  main: (args: A) => Promise<number>,
): void {
  runCli(usage, parse, main).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      const known = error instanceof MarketDataError || error instanceof RangeError;
      process.stderr.write(
        `${name} failed: ${known ? (error as Error).message : ((error as Error).stack ?? String(error))}\n`,
      );
      process.exitCode = 1;
    },
  );
}
