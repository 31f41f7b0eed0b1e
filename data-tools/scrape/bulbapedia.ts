/**
 * Bulbapedia, where the original's captions really came from (spec §1.1, DATASET.md §2):
 * `span#Biology` → its `<h2>` → the next `<p>` sibling; without that section, the first `<p>`
 * of `div#mw-content-text`.
 */
import { load } from 'cheerio';
import { cleanText } from './html.js';

export const BULBAPEDIA_BASE = 'https://bulbapedia.bulbagarden.net/wiki/';

/** `{EnglishName}_(Pokémon)`, spaces as underscores. */
export function bulbapediaUrl(nameEn: string): string {
  return BULBAPEDIA_BASE + encodeURIComponent(`${nameEn.replace(/ /g, '_')}_(Pokémon)`);
}

export interface Biology {
  text: string;
  section: 'biology' | 'fallback';
}

/** The "Biology" paragraph; null when the page has neither the section nor any paragraph. */
export function parseBiology(html: string): Biology | null {
  const $ = load(html);
  const anchor = $('#Biology').first();
  if (anchor.length) {
    let heading = anchor.is('h2') ? anchor : anchor.closest('h2');
    if (heading.parent().is('div.mw-heading')) heading = heading.parent(); // MediaWiki ≥ 1.43 markup
    const p = heading.nextAll('p').first();
    const text = p.length ? cleanText($, p) : '';
    if (text) return { text, section: 'biology' };
  }
  const first = $('#mw-content-text p').filter((_, el) => cleanText($, $(el)) !== '').first();
  return first.length ? { text: cleanText($, first), section: 'fallback' } : null;
}
