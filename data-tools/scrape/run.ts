/**
 * `pixelbytes data scrape`: download what the original scraped, into a directory that
 * `pixelbytes data build --source DIR` reads (file names in sources.ts SCRAPE_FILES).
 * Every request goes through the cached Fetcher, so a rerun or a run restarted after a kill
 * re-reads the cache and only downloads what is still missing. Outputs are written atomically.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../fsutil.js';
import { SCRAPE_FILES, keyOf, type ScrapedBulbapedia, type ScrapedListEntry, type ScrapedPokepedia } from '../sources.js';
import { bulbapediaUrl, parseBiology } from './bulbapedia.js';
import { FetchError, type Fetcher } from './fetcher.js';
import { POKEPEDIA_LIST_URL, generationSubpages, parseDescriptions, parseNationalDexList, type DexDescription } from './pokepedia.js';

export interface ScrapeProblem {
  key: string;
  url: string | null;
  problem: string;
}

export interface ScrapeSummary {
  site: 'pokepedia' | 'bulbapedia';
  species: number;
  withText: number;
  withImage: number;
  problems: ScrapeProblem[];
}

export interface ScrapeOptions {
  out: string;
  fetcher: Fetcher;
  /** Only the first N species of the list. */
  limit?: number;
  log?: (message: string) => void;
}

const json = (value: unknown): string => JSON.stringify(value, null, 1) + '\n';

/** A page body as text; 404/410 → null (a missing page is an answer, not an error). */
async function getPage(fetcher: Fetcher, url: string): Promise<string | null> {
  const res = await fetcher.get(url);
  return res.status === 404 || res.status === 410 ? null : res.body.toString('utf8');
}

export async function scrapePokepedia(opts: ScrapeOptions): Promise<ScrapeSummary> {
  const { out, fetcher } = opts;
  const log = opts.log ?? (() => {});
  const listHtml = await getPage(fetcher, POKEPEDIA_LIST_URL);
  if (listHtml === null) throw new FetchError(POKEPEDIA_LIST_URL, 'the national-dex list page is gone (HTTP 404)');
  const list = parseNationalDexList(listHtml);
  if (list.entries.length === 0) throw new Error(`${POKEPEDIA_LIST_URL}: no species rows found; has the page structure changed?`);
  const entries = list.entries.slice(0, opts.limit ?? Infinity);
  writeFileAtomic(join(out, SCRAPE_FILES.list), json(entries satisfies ScrapedListEntry[]));
  log(`list: ${list.entries.length} species (${list.duplicates.length} duplicate numbers, ${list.otherRows} other rows); scraping ${entries.length}`);

  const problems: ScrapeProblem[] = [];
  const texts: ScrapedPokepedia = {};
  let withImage = 0;
  for (const [k, e] of entries.entries()) {
    const key = keyOf(Number(e.number));
    const imagePath = join(out, SCRAPE_FILES.images, `${key}.png`);
    try {
      if (!e.miniatureUrl) problems.push({ key, url: null, problem: 'no miniature image in the list row' });
      else {
        const img = await fetcher.get(e.miniatureUrl);
        if (img.status !== 200) problems.push({ key, url: e.miniatureUrl, problem: `miniature HTTP ${img.status}` });
        else {
          if (!existsSync(imagePath) || !readFileSync(imagePath).equals(img.body)) writeFileAtomic(imagePath, img.body);
          withImage++;
        }
      }
      if (!e.pageUrl) problems.push({ key, url: null, problem: 'no species page link' });
      else {
        const page = await getPage(fetcher, e.pageUrl);
        if (page === null) problems.push({ key, url: e.pageUrl, problem: 'species page HTTP 404' });
        else {
          // Generations 1–7 (subpages) first, then the page itself: game order.
          const descriptions: DexDescription[] = [];
          for (const sub of generationSubpages(page, e.pageUrl)) {
            const subHtml = await getPage(fetcher, sub);
            if (subHtml === null) problems.push({ key, url: sub, problem: 'generation subpage HTTP 404' });
            else descriptions.push(...parseDescriptions(subHtml));
          }
          descriptions.push(...parseDescriptions(page));
          if (descriptions.length) texts[key] = { url: e.pageUrl, entries: descriptions };
          else problems.push({ key, url: e.pageUrl, problem: 'no "Descriptions du Pokédex" entries' });
        }
      }
    } catch (err) {
      if (!(err instanceof FetchError)) throw err;
      problems.push({ key, url: err.url, problem: err.reason });
    }
    if ((k + 1) % 25 === 0) log(`${k + 1}/${entries.length} (${fetcher.stats.network} downloads, ${fetcher.stats.cached} from cache)`);
  }
  writeFileAtomic(join(out, SCRAPE_FILES.pokepedia), json(texts));
  const summary: ScrapeSummary = { site: 'pokepedia', species: entries.length, withText: Object.keys(texts).length, withImage, problems };
  writeFileAtomic(join(out, 'scrape-report-pokepedia.json'), json(summary));
  return summary;
}

/** English names: the scraped Poképédia list (what the original used), else the `pokemon` package. */
function bulbapediaNames(out: string): { key: string; name: string }[] {
  const listPath = join(out, SCRAPE_FILES.list);
  if (existsSync(listPath)) {
    return (JSON.parse(readFileSync(listPath, 'utf8')) as ScrapedListEntry[]).map((e) => ({ key: keyOf(Number(e.number)), name: e.nameEn }));
  }
  const require = createRequire(import.meta.url);
  const names = JSON.parse(readFileSync(join(dirname(require.resolve('pokemon/package.json')), 'data', 'en.json'), 'utf8')) as string[];
  return names.map((name, k) => ({ key: keyOf(k + 1), name }));
}

export async function scrapeBulbapedia(opts: ScrapeOptions): Promise<ScrapeSummary> {
  const { out, fetcher } = opts;
  const log = opts.log ?? (() => {});
  const names = bulbapediaNames(out).slice(0, opts.limit ?? Infinity);
  const problems: ScrapeProblem[] = [];
  const texts: ScrapedBulbapedia = {};
  for (const [k, { key, name }] of names.entries()) {
    const url = bulbapediaUrl(name);
    try {
      const html = name ? await getPage(fetcher, url) : null;
      const bio = html === null ? null : parseBiology(html);
      if (html === null) problems.push({ key, url, problem: name ? 'page HTTP 404' : 'no English name' });
      else if (!bio) problems.push({ key, url, problem: 'no "Biology" section and no paragraph' });
      else {
        texts[key] = { url, name, text: bio.text, section: bio.section };
        if (bio.section === 'fallback') problems.push({ key, url, problem: 'no "Biology" section: used the first paragraph (as the original did)' });
      }
    } catch (err) {
      if (!(err instanceof FetchError)) throw err;
      problems.push({ key, url: err.url, problem: err.reason });
    }
    if ((k + 1) % 25 === 0) log(`${k + 1}/${names.length} (${fetcher.stats.network} downloads, ${fetcher.stats.cached} from cache)`);
  }
  writeFileAtomic(join(out, SCRAPE_FILES.bulbapedia), json(texts));
  const summary: ScrapeSummary = { site: 'bulbapedia', species: names.length, withText: Object.keys(texts).length, withImage: 0, problems };
  writeFileAtomic(join(out, 'scrape-report-bulbapedia.json'), json(summary));
  return summary;
}
