/**
 * Output of `pixelbytes generate` / `start`: crisp upscaled PNGs, the text, and one HTML page
 * showing prompt and result side by side (images embedded, so the page stands alone).
 */
import { join } from 'node:path';
import { encodePng } from '../../data-tools/index.js';
import { writeFileAtomic } from '../../data-tools/fsutil.js';
import { upscaledRgba } from './generate.js';

export interface Panel {
  title: string;
  image?: number[][] | null;
  text?: string;
  note?: string;
}

export interface Page {
  title: string;
  subtitle?: string;
  /** Rows of panels, shown left to right (prompt, result, truth …). */
  rows: { heading: string; panels: Panel[] }[];
  footer?: string;
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** PNG bytes of an id grid, each pixel scale×scale. */
export function pngOf(ids: number[][], scale: number): Buffer {
  return encodePng(upscaledRgba(ids, scale));
}

export function writePng(path: string, ids: number[][], scale: number): void {
  writeFileAtomic(path, pngOf(ids, scale));
}

export function renderHtml(page: Page, scale = 12): string {
  const panel = (p: Panel): string => {
    const img = p.image && p.image.length && p.image[0].length
      ? `<img alt="${esc(p.title)}" src="data:image/png;base64,${pngOf(p.image, scale).toString('base64')}" width="${p.image[0].length * scale}" height="${p.image.length * scale}">`
      : p.image === null ? '<div class="none">no image was generated</div>' : '';
    const text = p.text !== undefined ? `<pre>${esc(p.text || '(empty)')}</pre>` : '';
    return `<div class="panel"><h3>${esc(p.title)}</h3>${img}${text}${p.note ? `<p class="note">${esc(p.note)}</p>` : ''}</div>`;
  };
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(page.title)}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em; background: #fafafa; color: #222; }
h1 { font-size: 1.4em; margin-bottom: 0.2em; } .sub { color: #666; margin-top: 0; }
.row { margin: 1.5em 0; } .row h2 { font-size: 1.1em; border-bottom: 1px solid #ddd; }
.panels { display: flex; gap: 2em; align-items: flex-start; flex-wrap: wrap; }
.panel { background: white; border: 1px solid #ddd; border-radius: 6px; padding: 1em; max-width: 34em; }
.panel h3 { margin: 0 0 0.6em; font-size: 1em; }
.panel img { image-rendering: pixelated; image-rendering: crisp-edges; display: block; border: 1px solid #eee; }
pre { white-space: pre-wrap; word-break: break-word; font-size: 0.9em; margin: 0.6em 0 0; }
.note { color: #777; font-size: 0.85em; } .none { color: #a33; }
footer { color: #888; font-size: 0.85em; margin-top: 2em; }
</style></head><body>
<h1>${esc(page.title)}</h1>${page.subtitle ? `<p class="sub">${esc(page.subtitle)}</p>` : ''}
${page.rows.map((r) => `<div class="row"><h2>${esc(r.heading)}</h2><div class="panels">${r.panels.map(panel).join('')}</div></div>`).join('\n')}
${page.footer ? `<footer>${esc(page.footer)}</footer>` : ''}
</body></html>
`;
}

export function writeHtml(dir: string, page: Page, scale = 12): string {
  const path = join(dir, 'index.html');
  writeFileAtomic(path, renderHtml(page, scale));
  return path;
}
