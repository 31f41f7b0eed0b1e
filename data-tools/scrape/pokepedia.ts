/**
 * Poképédia parsers (DATASET.md §2–3), as the original scraper read the site (spec §1.1):
 *  - the national-dex list: every `<tr>` whose first `<td>` is a number gives the number, the
 *    miniature `<img src>` of cell 1, the French name (cell 2) and the English name (cell 3);
 *    form rows (their number cell is covered by a rowspan) therefore do not count;
 *  - a species page: the `<dt>` game / `<dd>` text pairs of its "Descriptions du Pokédex"
 *    section, which runs to the next level-2 heading; Generations 1–7 are on subpages
 *    "<Nom>/Génération N" linked from the page.
 */
import { load } from 'cheerio';
import { absoluteUrl, cleanText, type Node$ } from './html.js';

export const POKEPEDIA_BASE = 'https://www.pokepedia.fr/';
export const POKEPEDIA_LIST_URL = 'https://www.pokepedia.fr/Liste_des_Pok%C3%A9mon_dans_l%27ordre_du_Pok%C3%A9dex_National';

export interface ListEntry {
  /** Zero-padded to 4 digits, "0001". */
  number: string;
  nameFr: string;
  nameEn: string;
  /** Absolute URL of the miniature, null when the row has no image. */
  miniatureUrl: string | null;
  /** The species page (link of the French name), or built from the French name. */
  pageUrl: string | null;
}

export interface ListParse {
  entries: ListEntry[];
  /** Rows with a number that repeat an earlier number (the first one is kept). */
  duplicates: string[];
  /** Rows with cells that are not species rows (headers, form rows, fewer than 4 cells). */
  otherRows: number;
}

/** A name cell: the link text if any, without `<small>` form notes. */
function nameOf($: ReturnType<typeof load>, cell: Node$): string {
  const copy = cell.clone();
  copy.find('small').remove();
  const link = copy.find('a').first();
  return cleanText($, link.length ? link : copy);
}

export function speciesPageUrl(nameFr: string): string {
  return POKEPEDIA_BASE + encodeURIComponent(nameFr.replace(/ /g, '_')).replace(/%2F/g, '/');
}

export function parseNationalDexList(html: string, baseUrl = POKEPEDIA_LIST_URL): ListParse {
  const $ = load(html);
  const entries: ListEntry[] = [];
  const duplicates: string[] = [];
  const seen = new Set<string>();
  let otherRows = 0;
  $('tr').each((_, tr) => {
    const cells = $(tr).children('td');
    if (cells.length === 0) return; // header row (th only)
    const numberText = cells.eq(0).text().trim();
    // The original checked "≥ 3 cells" but read cell 3; four are needed.
    if (cells.length < 4 || !/^\d+$/.test(numberText)) {
      otherRows++;
      return;
    }
    const number = numberText.padStart(4, '0');
    if (seen.has(number)) {
      duplicates.push(number);
      return;
    }
    seen.add(number);
    const img = cells.eq(1).find('img').first();
    const nameFr = nameOf($, cells.eq(2));
    entries.push({
      number,
      nameFr,
      nameEn: nameOf($, cells.eq(3)),
      miniatureUrl: absoluteUrl(img.attr('src') ?? img.attr('data-src'), baseUrl),
      pageUrl: absoluteUrl(cells.eq(2).find('a').first().attr('href'), baseUrl) ?? (nameFr ? speciesPageUrl(nameFr) : null),
    });
  });
  entries.sort((a, b) => Number(a.number) - Number(b.number));
  return { entries, duplicates, otherRows };
}

export interface DexDescription {
  /** The `<dt>` label: one or several games ("Pokémon Rouge et Bleu"). */
  games: string;
  text: string;
}

const SECTION_ID = /^Descriptions_du_Pok/;
const isLevel2Heading = (el: Node$): boolean => el.is('h2') || el.is('div.mw-heading2') || el.find('h2').length > 0;

/**
 * The descriptions of one species page; [] when the section is absent. Handles both heading
 * markups: `<h2><span class="mw-headline" id=…>` (before MediaWiki 1.43) and
 * `<div class="mw-heading mw-heading2"><h2 id=…>` (after).
 */
export function parseDescriptions(html: string): DexDescription[] {
  const $ = load(html);
  const anchor = $('[id]').filter((_, el) => SECTION_ID.test($(el).attr('id') ?? '')).first();
  if (!anchor.length) return [];
  let heading = anchor.is('h2') ? anchor : anchor.closest('h2');
  if (!heading.length) heading = anchor;
  if (heading.parent().is('div.mw-heading')) heading = heading.parent();
  const out: DexDescription[] = [];
  for (let el = heading.next(); el.length && !isLevel2Heading(el); el = el.next()) {
    const dts = el.is('dl') ? el.children('dt, dd') : el.find('dt, dd');
    let games = '';
    dts.each((_, node) => {
      const item = $(node);
      if (item.is('dt')) games = cleanText($, item);
      else {
        const text = cleanText($, item);
        if (text) out.push({ games, text });
      }
    });
  }
  return out;
}

/**
 * Links to the "<Nom>/Génération N" subpages of the species page at `pageUrl`, absolute, in
 * generation order, each once.
 */
export function generationSubpages(html: string, pageUrl: string): string[] {
  const $ = load(html);
  const pagePath = decodeURIComponent(new URL(pageUrl).pathname);
  const found = new Map<number, string>();
  $('a[href]').each((_, a) => {
    const url = absoluteUrl($(a).attr('href'), pageUrl);
    if (!url) return;
    const u = new URL(url);
    if (u.origin !== new URL(pageUrl).origin) return;
    const m = /^(.*)\/G[ée]n[ée]ration_(\d+)$/.exec(decodeURIComponent(u.pathname));
    if (m && m[1] === pagePath && !found.has(Number(m[2]))) found.set(Number(m[2]), u.origin + u.pathname);
  });
  return [...found.entries()].sort((a, b) => a[0] - b[0]).map(([, url]) => url);
}
