/**
 * `pixelbytes <command> …`: one entry point, each command in its own module, loaded only when
 * it is asked for (so `pixelbytes gradcheck` does not pay for the data tools' imports).
 */
type Command = { summary: string; load: () => Promise<(args: string[]) => Promise<number>> };

const COMMANDS: Record<string, Command> = {
  // <one line per command; keep alphabetical>
  bench: { summary: 'benchmarks: our kernels beside tfjs (cpu, wasm)', load: async () => { await import('./index.js'); return (await import('../bench/cli.js')).benchCommand; } },
  data: { summary: 'build, scrape or preview the PixelBytes dataset', load: async () => (await import('../data-tools/cli.js')).dataCommand },
  doctor: { summary: 'devices, drivers, memory and kernel coverage', load: async () => { await import('./index.js'); return (await import('./backend/native/doctor.js')).doctorCommand; } },
  eval: { summary: 'paper generation metrics (Hamming, cosine, BLEU) + perplexity, caption BLEU, SSIM', load: async () => { await import('./index.js'); return (await import('../models/cli.js')).evalCommand; } },
  generate: { summary: 'text → image, image → caption or free generation from a checkpoint', load: async () => { await import('./index.js'); return (await import('../models/cli.js')).generateCommand; } },
  gradcheck: { summary: 'check every differentiable op against central differences (float64)', load: async () => { await import('./index.js'); return (await import('./gradcheck/cli.js')).gradcheckCommand; } },
  start: { summary: 'the main job: build the data, train a causal model ~10 min, generate a held-out Pokémon', load: async () => { await import('./index.js'); return (await import('../models/cli.js')).startCommand; } },
  tokenize: { summary: 'one image (+ caption) to PixelBytes ids and 3×3 windows', load: async () => (await import('../data-tools/cli.js')).tokenizeCommand },
  train: { summary: 'train a PixelBytes model (LSTM, Transformer, Mamba)', load: async () => { await import('./index.js'); return (await import('../models/cli.js')).trainCommand; } },
};

function usage(): string {
  const rows = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(12)} ${c.summary}`);
  return ['usage: pixelbytes <command> [options]', '', 'commands:', ...rows, '', 'Run `pixelbytes <command> --help` for its options.'].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name ? 0 : 1;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`pixelbytes: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  const run = await command.load();
  return run(rest);
}
