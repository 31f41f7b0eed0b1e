/**
 * A one-line progress bar for training: epoch, step, loss (running mean), tokens/s and ETA.
 * On a terminal it redraws in place (\r); otherwise (logs, CI) it prints a line every few seconds.
 */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  return h ? `${h}h${String(m).padStart(2, '0')}m` : m ? `${m}m${String(r).padStart(2, '0')}s` : `${r}s`;
}

export class ProgressBar {
  private readonly tty: boolean;
  private lastPrint = 0;
  private width = 0;

  constructor(private readonly out: NodeJS.WriteStream = process.stderr, private readonly intervalMs = 5000) {
    this.tty = Boolean(out.isTTY);
  }

  update(fields: { epoch: number; epochs: number; step: number; steps: number; loss: number; tokensPerSec: number; etaSec: number; extra?: string }): void {
    const now = Date.now();
    if (!this.tty && now - this.lastPrint < this.intervalMs && fields.step !== fields.steps) return;
    this.lastPrint = now;
    const frac = fields.steps ? fields.step / fields.steps : 1;
    const barW = 20, filled = Math.round(frac * barW);
    const bar = '█'.repeat(filled) + '░'.repeat(barW - filled);
    const line = `epoch ${fields.epoch}/${fields.epochs} ${bar} ${fields.step}/${fields.steps} ` +
      `loss ${Number.isFinite(fields.loss) ? fields.loss.toFixed(4) : fields.loss} ` +
      `${Math.round(fields.tokensPerSec)} tok/s ETA ${formatDuration(fields.etaSec)}${fields.extra ? ` ${fields.extra}` : ''}`;
    if (this.tty) {
      this.out.write('\r' + line.padEnd(this.width));
      this.width = line.length;
    } else {
      this.out.write(line + '\n');
    }
  }

  /** Ends the in-place line (before printing anything else). */
  done(): void {
    if (this.tty && this.width) this.out.write('\n');
    this.width = 0;
  }
}
