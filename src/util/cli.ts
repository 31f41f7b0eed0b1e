/** Shared plumbing of the `pixelbytes` subcommands: usage errors and exit codes. */

/** A bad command line: reported with the command's usage text, exit code 2. */
export class UsageError extends Error {}

/**
 * Runs a command body: a UsageError prints the message and the usage (exit 2), any other error
 * prints `pixelbytes <name>: <message>` (exit 1; the stack too when PIXELBYTES_DEBUG is set).
 */
export async function runCommand(name: string, usage: string, body: () => Promise<number> | number): Promise<number> {
  try {
    return await body();
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`pixelbytes ${name}: ${err.message}\n\n${usage}`);
      return 2;
    }
    console.error(`pixelbytes ${name}: ${(err as Error).message}`);
    if (process.env.PIXELBYTES_DEBUG) console.error((err as Error).stack);
    return 1;
  }
}
