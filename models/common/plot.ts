/**
 * The loss / accuracy plot written with each run: a dependency-free SVG with two panels,
 * loss (running training loss per step, train-eval and test loss per evaluation) and accuracy
 * (train and test, percent), both against epochs.
 */
export interface EvalRow {
  epoch: number;
  train_eval_loss: number;
  train_accuracy: number;
  train_f1: number;
  test_loss: number;
  test_accuracy: number;
  test_f1: number;
}

export interface Series { label: string; colour: string; points: [number, number][]; dashed?: boolean }

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function niceTicks(lo: number, hi: number, n = 5): number[] {
  if (!(hi > lo)) { hi = lo + 1; }
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((k) => k * mag).find((s) => s >= raw) ?? raw;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9 * step; v += step) ticks.push(+v.toPrecision(10));
  return ticks;
}

function panel(x0: number, y0: number, w: number, h: number, title: string, series: Series[], yLabel: string): string {
  const pts = series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  if (pts.length === 0) return `<text x="${x0 + w / 2}" y="${y0 + h / 2}" text-anchor="middle" fill="#666">${esc(title)}: no data yet</text>`;
  let xmin = Math.min(...pts.map((p) => p[0])), xmax = Math.max(...pts.map((p) => p[0]));
  let ymin = Math.min(...pts.map((p) => p[1])), ymax = Math.max(...pts.map((p) => p[1]));
  if (xmax === xmin) xmax = xmin + 1;
  const pad = (ymax - ymin) * 0.05 || 0.5;
  ymin -= pad; ymax += pad;
  const L = 56, B = 36, T = 24, R = 12;
  const pw = w - L - R, ph = h - T - B;
  const sx = (x: number) => x0 + L + ((x - xmin) / (xmax - xmin)) * pw;
  const sy = (y: number) => y0 + T + (1 - (y - ymin) / (ymax - ymin)) * ph;
  const out: string[] = [];
  out.push(`<text x="${x0 + L + pw / 2}" y="${y0 + 16}" text-anchor="middle" font-weight="bold">${esc(title)}</text>`);
  out.push(`<rect x="${x0 + L}" y="${y0 + T}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`);
  for (const t of niceTicks(ymin, ymax)) {
    out.push(`<line x1="${x0 + L}" x2="${x0 + L + pw}" y1="${sy(t)}" y2="${sy(t)}" stroke="#eee"/>`);
    out.push(`<text x="${x0 + L - 4}" y="${sy(t) + 4}" text-anchor="end" font-size="11">${+t.toPrecision(4)}</text>`);
  }
  for (const t of niceTicks(xmin, xmax)) {
    out.push(`<text x="${sx(t)}" y="${y0 + T + ph + 14}" text-anchor="middle" font-size="11">${+t.toPrecision(4)}</text>`);
  }
  out.push(`<text x="${x0 + L + pw / 2}" y="${y0 + h - 4}" text-anchor="middle" font-size="12">epoch</text>`);
  out.push(`<text transform="translate(${x0 + 14},${y0 + T + ph / 2}) rotate(-90)" text-anchor="middle" font-size="12">${esc(yLabel)}</text>`);
  series.forEach((s, k) => {
    const p = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    if (p.length) {
      const d = p.map(([x, y], i) => `${i ? 'L' : 'M'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join('');
      out.push(`<path d="${d}" fill="none" stroke="${s.colour}" stroke-width="1.6"${s.dashed ? ' stroke-dasharray="4 3"' : ''}/>`);
      if (p.length <= 60) for (const [x, y] of p) out.push(`<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="2.2" fill="${s.colour}"/>`);
    }
    const ly = y0 + T + 14 + k * 15;
    out.push(`<line x1="${x0 + L + pw - 130}" x2="${x0 + L + pw - 112}" y1="${ly - 4}" y2="${ly - 4}" stroke="${s.colour}" stroke-width="2"${s.dashed ? ' stroke-dasharray="4 3"' : ''}/>`);
    out.push(`<text x="${x0 + L + pw - 108}" y="${ly}" font-size="11">${esc(s.label)}</text>`);
  });
  return out.join('\n');
}

/** The run's plot: `steps` are (fractional epoch, running loss) pairs, `evals` the CSV rows. */
export function trainingPlotSvg(title: string, steps: [number, number][], evals: EvalRow[]): string {
  const W = 900, H = 360;
  const lossSeries: Series[] = [
    { label: 'train (running)', colour: '#9bb7d4', points: steps },
    { label: 'train eval', colour: '#1f5fa8', points: evals.map((r) => [r.epoch, r.train_eval_loss]) },
    { label: 'test', colour: '#d2462b', points: evals.map((r) => [r.epoch, r.test_loss]) },
  ];
  const accSeries: Series[] = [
    { label: 'train eval', colour: '#1f5fa8', points: evals.map((r) => [r.epoch, r.train_accuracy]) },
    { label: 'test', colour: '#d2462b', points: evals.map((r) => [r.epoch, r.test_accuracy]) },
  ];
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H + 24}" viewBox="0 0 ${W} ${H + 24}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${W / 2}" y="16" text-anchor="middle" font-size="13">${esc(title)}</text>`,
    panel(0, 24, W / 2, H, 'cross-entropy (nats)', lossSeries, 'loss'),
    panel(W / 2, 24, W / 2, H, 'accuracy (%)', accSeries, 'accuracy %'),
    '</svg>',
  ].join('\n');
}
