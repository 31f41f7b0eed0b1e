/** Small cheerio helpers shared by the Poképédia and Bulbapedia parsers. */
import type { Cheerio, CheerioAPI } from 'cheerio';

/** A cheerio selection (its node type lives in domhandler, which is not our dependency). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Node$ = Cheerio<any>;

/** Visible text with whitespace collapsed; `<sup class="reference">` and "[1]" marks removed. */
export function cleanText($: CheerioAPI, el: Node$): string {
  const copy = el.clone();
  copy.find('sup.reference, .mw-editsection, style, script').remove();
  copy.find('br').replaceWith(' ');
  return $(copy).text().replace(/\[\d+\]/g, '').replace(/\s+/g, ' ').trim();
}

/** A link target made absolute against the page it came from ('//', '/', relative). */
export function absoluteUrl(href: string | undefined, base: string): string | null {
  if (!href) return null;
  try {
    return new URL(href, base).href;
  } catch {
    return null;
  }
}
