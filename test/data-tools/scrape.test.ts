import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildDataset, loadDataset } from '../../data-tools/dataset.js';
import { bulbapediaUrl, parseBiology } from '../../data-tools/scrape/bulbapedia.js';
import { FetchError, Fetcher, USER_AGENT, parseRetryAfter, type FetchFn, type ResponseLike } from '../../data-tools/scrape/fetcher.js';
import { POKEPEDIA_LIST_URL, generationSubpages, parseDescriptions, parseNationalDexList } from '../../data-tools/scrape/pokepedia.js';
import { scrapeBulbapedia, scrapePokepedia } from '../../data-tools/scrape/run.js';
import { rgbaPng } from './png-helpers.js';

const fixture = (name: string): string => readFileSync(join(import.meta.dirname, '..', 'fixtures', 'data-tools', name), 'utf8');
const tmp = (): string => mkdtempSync(join(tmpdir(), 'pxb-scrape-'));

describe('Poképédia national-dex list', () => {
  const list = parseNationalDexList(fixture('pokepedia-list.html'));

  it('reads number, miniature, French and English names of the numbered rows', () => {
    expect(list.entries.map((e) => e.number)).toEqual(['0001', '0002', '0019', '0025', '0122', '0808']);
    expect(list.entries[0]).toEqual({
      number: '0001', nameFr: 'Bulbizarre', nameEn: 'Bulbasaur',
      miniatureUrl: 'https://www.pokepedia.fr/images/d/db/Miniature_0001_EV.png', pageUrl: 'https://www.pokepedia.fr/Bulbizarre',
    });
    expect(list.entries[4]).toMatchObject({ nameFr: 'M. Mime', nameEn: 'Mr. Mime', pageUrl: 'https://www.pokepedia.fr/M._Mime' });
    expect(list.entries[5]).toMatchObject({ nameFr: 'Meltan', nameEn: 'Meltan' }); // a 9-cell row
  });

  it('skips form rows (number cell covered by a rowspan) and other tables', () => {
    expect(list.entries.filter((e) => e.number === '0019')).toHaveLength(1);
    expect(list.entries[2].miniatureUrl).toBe('https://www.pokepedia.fr/images/0/0e/Miniature_0019_EV.png');
    expect(list.otherRows).toBe(2); // the Alola form row and the navbox row
    expect(list.duplicates).toEqual([]);
  });

  it('reports a row without a miniature as null', () => {
    expect(list.entries[3]).toMatchObject({ number: '0025', miniatureUrl: null });
  });
});

describe('Poképédia species pages', () => {
  it('reads the dt/dd pairs of "Descriptions du Pokédex" (new heading markup) up to the next h2', () => {
    expect(parseDescriptions(fixture('pokepedia-bulbizarre.html'))).toEqual([
      { games: 'Pokémon Épée', text: 'Au matin de sa vie, la graine sur son dos lui fournit les éléments dont il a besoin pour grandir.' },
      { games: 'Pokémon Bouclier', text: 'La graine sur son dos grossit en absorbant la lumière.' },
      { games: 'Pokémon Écarlate et Pokémon Violet', text: 'Il se nourrit de la lumière du soleil : la graine grossit peu à peu.' },
    ]);
  });

  it('reads the older markup (span.mw-headline, encoded id) with the pairs inside a table', () => {
    expect(parseDescriptions(fixture('pokepedia-bulbizarre-generation-7.html'))).toEqual([
      { games: 'Pokémon Soleil et Pokémon Ultra-Soleil', text: 'Il y a une graine sur son dos depuis sa naissance. Elle grossit un peu chaque jour.' },
      { games: 'Pokémon Lune et Pokémon Ultra-Lune', text: 'Bulbizarre passe son temps à faire la sieste sous le soleil.' },
    ]);
  });

  it('finds no descriptions on a page without the section, or a 404 page', () => {
    expect(parseDescriptions(fixture('pokepedia-404.html'))).toEqual([]);
    expect(parseDescriptions(fixture('bulbapedia-bulbasaur.html'))).toEqual([]);
  });

  it('lists the species\' own "Génération N" subpages, once each, in order', () => {
    expect(generationSubpages(fixture('pokepedia-bulbizarre.html'), 'https://www.pokepedia.fr/Bulbizarre')).toEqual([
      'https://www.pokepedia.fr/Bulbizarre/G%C3%A9n%C3%A9ration_1',
      'https://www.pokepedia.fr/Bulbizarre/G%C3%A9n%C3%A9ration_7',
    ]);
  });
});

describe('Bulbapedia "Biology"', () => {
  it('takes the paragraph after the Biology heading, new and old markup', () => {
    expect(parseBiology(fixture('bulbapedia-bulbasaur.html'))).toEqual({
      section: 'biology',
      text: 'Bulbasaur is a small, quadrupedal amphibian Pokémon that has blue-green skin with darker patches. It has red eyes with white pupils, pointed, ear-like structures on top of its head, and a short, blunt snout with a wide mouth. A plant bulb grows on its back.',
    });
    expect(parseBiology(fixture('bulbapedia-ivysaur-old.html'))).toEqual({
      section: 'biology', text: 'Ivysaur is a quadrupedal Pokémon with blue-green skin. The bulb on its back has bloomed into a large pink bud.',
    });
  });

  it('falls back to the first non-empty paragraph of #mw-content-text, as the original', () => {
    expect(parseBiology(fixture('bulbapedia-no-biology.html'))).toEqual({ section: 'fallback', text: 'Missingno. is a glitch Pokémon that appears in Generation I games.' });
    expect(parseBiology('<html><body><h1>nothing</h1></body></html>')).toBeNull();
  });

  it('builds the page URL from the English name', () => {
    expect(bulbapediaUrl('Mr. Mime')).toBe('https://bulbapedia.bulbagarden.net/wiki/Mr._Mime_(Pok%C3%A9mon)');
    expect(bulbapediaUrl("Farfetch'd")).toBe("https://bulbapedia.bulbagarden.net/wiki/Farfetch'd_(Pok%C3%A9mon)");
  });
});

// ---------------------------------------------------------------------------------------------
// The fetcher, with a fake network and a fake clock.

interface Route { status: number; body?: string | Buffer; headers?: Record<string, string> }

function fakeNet(routes: (url: string, call: number) => Route | Error | 'hang') {
  let clock = 0;
  const calls: { url: string; at: number; ua: string }[] = [];
  const sleeps: number[] = [];
  const fetch: FetchFn = async (url, init) => {
    calls.push({ url, at: clock, ua: init.headers['User-Agent'] });
    const r = routes(url, calls.length);
    if (r === 'hang') {
      return new Promise<ResponseLike>((_, reject) => init.signal.addEventListener('abort', () => reject(Object.assign(new Error('This operation was aborted'), { name: 'AbortError' }))));
    }
    if (r instanceof Error) throw r;
    const body = typeof r.body === 'string' ? Buffer.from(r.body) : r.body ?? Buffer.alloc(0);
    const headers = new Map(Object.entries(r.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
    return { status: r.status, headers: { get: (k: string) => headers.get(k.toLowerCase()) ?? null }, arrayBuffer: async () => body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength) as ArrayBuffer };
  };
  const sleep = async (ms: number) => {
    sleeps.push(ms);
    clock += ms;
  };
  return { fetch, sleep, now: () => clock, calls, sleeps };
}

describe('polite fetcher', () => {
  it('names the project in the User-Agent and leaves ≥ 1 s between requests', async () => {
    const net = fakeNet(() => ({ status: 200, body: 'ok' }));
    const f = new Fetcher({ cacheDir: tmp(), fetch: net.fetch, sleep: net.sleep, now: net.now });
    for (const u of ['https://x.test/a', 'https://x.test/b', 'https://x.test/c']) await f.get(u);
    expect(net.calls.map((c) => c.ua)).toEqual([USER_AGENT, USER_AGENT, USER_AGENT]);
    expect(USER_AGENT).toMatch(/PixelBytes/);
    expect(net.calls.map((c) => c.at)).toEqual([0, 1000, 2000]);
  });

  it('retries 429 (honouring Retry-After), 5xx, timeouts and network errors with backoff', async () => {
    const script: (Route | Error | 'hang')[] = [
      { status: 429, headers: { 'Retry-After': '7' } },
      { status: 503 },
      'hang',
      new TypeError('fetch failed'),
      { status: 200, body: 'finally' },
    ];
    const net = fakeNet((_, call) => script[call - 1]);
    const f = new Fetcher({ cacheDir: tmp(), fetch: net.fetch, sleep: net.sleep, now: net.now, timeoutMs: 20, maxRetries: 5 });
    const res = await f.get('https://x.test/flaky');
    expect(res.body.toString()).toBe('finally');
    expect(net.calls).toHaveLength(5);
    expect(f.stats.retries).toBe(4);
    // backoff 2 s · 2^attempt, at least Retry-After: 7 s, 4 s, 8 s, 16 s
    expect(net.sleeps).toEqual([7000, 4000, 8000, 16000]);
  });

  it('gives up after the retries, naming the URL, and caches nothing', async () => {
    const net = fakeNet(() => ({ status: 500 }));
    const dir = tmp();
    const f = new Fetcher({ cacheDir: dir, fetch: net.fetch, sleep: net.sleep, now: net.now, maxRetries: 2 });
    await expect(f.get('https://x.test/down')).rejects.toThrow('https://x.test/down: HTTP 500 (gave up after 3 attempts)');
    expect(net.calls).toHaveLength(3);
    expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([]);
  });

  it('does not retry other client errors', async () => {
    const net = fakeNet(() => ({ status: 403 }));
    const f = new Fetcher({ cacheDir: tmp(), fetch: net.fetch, sleep: net.sleep, now: net.now });
    await expect(f.get('https://x.test/forbidden')).rejects.toThrow(FetchError);
    expect(net.calls).toHaveLength(1);
  });

  it('caches answers (404 included) by URL on disk, atomically, across fetchers', async () => {
    const dir = tmp();
    const net = fakeNet((url) => (url.endsWith('missing') ? { status: 404, body: 'nope' } : { status: 200, body: `body of ${url}`, headers: { 'Content-Type': 'text/html' } }));
    const f1 = new Fetcher({ cacheDir: dir, fetch: net.fetch, sleep: net.sleep, now: net.now });
    expect((await f1.get('https://x.test/p?q=1')).body.toString()).toBe('body of https://x.test/p?q=1');
    expect((await f1.get('https://x.test/missing')).status).toBe(404);
    const f2 = new Fetcher({ cacheDir: dir, fetch: net.fetch, sleep: net.sleep, now: net.now });
    const again = await f2.get('https://x.test/p?q=1');
    expect(again).toMatchObject({ fromCache: true, status: 200, contentType: 'text/html' });
    expect((await f2.get('https://x.test/missing')).fromCache).toBe(true);
    expect(net.calls).toHaveLength(2);
    const files = readdirSync(dir, { recursive: true }).map(String);
    expect(files.some((p) => p.includes('.tmp-'))).toBe(false);
    expect(files.filter((p) => p.endsWith('.json'))).toHaveLength(2);
  });

  it('reads Retry-After as seconds or as a date', () => {
    expect(parseRetryAfter('12', 0)).toBe(12000);
    expect(parseRetryAfter('Thu, 01 Jan 1970 00:00:05 GMT', 1000)).toBe(4000);
    expect(parseRetryAfter(null, 0)).toBe(0);
    expect(parseRetryAfter('soon', 0)).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------
// Whole scrapes against the fixtures.

const PNG_BYTES = rgbaPng(64, 64, (x, y) => ((x - 32) ** 2 + (y - 40) ** 2 < 300 ? [40, 160, 90, 255] : [0, 0, 0, 0]));
const PP = 'https://www.pokepedia.fr/';

function siteRoutes(url: string): Route {
  const pages: Record<string, Route> = {
    [POKEPEDIA_LIST_URL]: { status: 200, body: fixture('pokepedia-list.html') },
    [`${PP}Bulbizarre`]: { status: 200, body: fixture('pokepedia-bulbizarre.html') },
    [`${PP}Bulbizarre/G%C3%A9n%C3%A9ration_7`]: { status: 200, body: fixture('pokepedia-bulbizarre-generation-7.html') },
    [`${PP}Rattata`]: { status: 200, body: fixture('pokepedia-bulbizarre-generation-7.html').replace(/Bulbizarre/g, 'Rattata') },
    [`${PP}Pikachu`]: { status: 200, body: fixture('pokepedia-bulbizarre.html').replace(/Bulbizarre/g, 'Pikachu') },
    [`${PP}Meltan`]: { status: 200, body: '<html><body><div id="mw-content-text"><p>Meltan.</p></div></body></html>' },
    [`${PP}images/d/db/Miniature_0001_EV.png`]: { status: 200, body: PNG_BYTES },
    [`${PP}images/5/5b/Miniature_0002_EV.png`]: { status: 200, body: PNG_BYTES },
    [`${PP}images/0/0e/Miniature_0019_EV.png`]: { status: 200, body: PNG_BYTES },
    [`${PP}images/e/e5/Miniature_0808_EV.png`]: { status: 200, body: Buffer.from('<html>not an image</html>') },
    [bulbapediaUrl('Bulbasaur')]: { status: 200, body: fixture('bulbapedia-bulbasaur.html') },
    [bulbapediaUrl('Ivysaur')]: { status: 200, body: fixture('bulbapedia-ivysaur-old.html') },
    [bulbapediaUrl('Rattata')]: { status: 200, body: fixture('bulbapedia-no-biology.html') },
    [bulbapediaUrl('Meltan')]: { status: 200, body: fixture('bulbapedia-ivysaur-old.html').replace(/Ivysaur/g, 'Meltan') },
  };
  return pages[url] ?? { status: 404, body: fixture('pokepedia-404.html') };
}

describe('scrape runs (offline, fixtures)', () => {
  it('scrapes Poképédia and Bulbapedia, reports problems, then builds a dataset from the scrape', async () => {
    const out = tmp();
    const net = fakeNet(siteRoutes);
    const fetcher = new Fetcher({ cacheDir: join(out, 'cache'), fetch: net.fetch, sleep: net.sleep, now: net.now });
    const pp = await scrapePokepedia({ out, fetcher });
    expect(pp).toMatchObject({ species: 6, withImage: 4, withText: 3 });
    expect(pp.problems.map((p) => `${p.key} ${p.problem}`)).toEqual([
      '0001 generation subpage HTTP 404',
      '0002 species page HTTP 404',
      '0025 no miniature image in the list row',
      '0025 generation subpage HTTP 404', // Pikachu's page (a copy of Bulbizarre's) links two subpages
      '0025 generation subpage HTTP 404',
      '0122 miniature HTTP 404',
      '0122 species page HTTP 404',
      '0808 no "Descriptions du Pokédex" entries',
    ]);
    const texts = JSON.parse(readFileSync(join(out, 'pokepedia.json'), 'utf8'));
    expect(Object.keys(texts)).toEqual(['0001', '0019', '0025']);
    // subpage (generation 7) first, then the page's own generations 8 and 9
    expect(texts['0001'].entries.map((e: { games: string }) => e.games)).toEqual([
      'Pokémon Soleil et Pokémon Ultra-Soleil', 'Pokémon Lune et Pokémon Ultra-Lune', 'Pokémon Épée', 'Pokémon Bouclier', 'Pokémon Écarlate et Pokémon Violet',
    ]);
    expect(readdirSync(join(out, 'images')).sort()).toEqual(['0001.png', '0002.png', '0019.png', '0808.png']);

    const bp = await scrapeBulbapedia({ out, fetcher });
    expect(bp).toMatchObject({ species: 6, withText: 4 });
    const bulba = JSON.parse(readFileSync(join(out, 'bulbapedia.json'), 'utf8'));
    expect(bulba['0001'].text).toMatch(/^Bulbasaur is a small, quadrupedal amphibian/);
    expect(bulba['0019'].section).toBe('fallback');

    // A rerun downloads nothing.
    const before = net.calls.length;
    await scrapePokepedia({ out, fetcher: new Fetcher({ cacheDir: join(out, 'cache'), fetch: net.fetch, sleep: net.sleep, now: net.now }) });
    expect(net.calls.length).toBe(before);

    // `data build --source`: fr from Poképédia, en from Bulbapedia, each skip with its reason.
    const fr = buildDataset({ source: out, lang: 'fr', out: join(out, 'ds-fr') }).report;
    expect(fr.counts).toEqual({ candidates: 6, built: 2, skipped: 4 });
    expect(fr.skipped.map((s) => `${s.key} ${s.reason}`)).toEqual([
      '0002 no Poképédia Pokédex description',
      '0025 no miniature on the list page',
      '0122 miniature not downloaded (https://www.pokepedia.fr/images/9/9a/Miniature_0122_EV.png)',
      '0808 no Poképédia Pokédex description',
    ]);
    const en = buildDataset({ source: out, lang: 'en', out: join(out, 'ds-en') });
    expect(en.report.counts.built).toBe(3);
    // the "miniature" that was an HTML page is reported with its file name; the build went on
    expect(en.report.skipped.find((s) => s.key === '0808')?.reason).toBe(`${join(out, 'images', '0808.png')}: not a PNG (bad signature)`);
    const ds = loadDataset(join(out, 'ds-en'));
    expect(ds.records[0].caption).toMatch(/^bulbasaur is a small, quadrupedal amphibian pokemon/);
    expect(ds.records[0].names).toEqual({ en: 'Bulbasaur', fr: 'Bulbizarre' });
  });

  it('resumes after a kill without downloading anything twice', async () => {
    const out = tmp();
    // First run: "killed" (the process dies between two requests) after 5 downloads.
    const killed = fakeNet(siteRoutes);
    let sleeps = 0;
    const dying = new Fetcher({
      cacheDir: join(out, 'cache'), fetch: killed.fetch, now: killed.now,
      sleep: async (ms) => {
        if (++sleeps === 5) throw new Error('SIGKILL');
        await killed.sleep(ms);
      },
    });
    await expect(scrapePokepedia({ out, fetcher: dying })).rejects.toThrow('SIGKILL');
    expect(killed.calls).toHaveLength(5);
    expect(existsSync(join(out, 'pokepedia.json'))).toBe(false);

    // Second run: only what is missing goes to the network.
    const net = fakeNet(siteRoutes);
    const fetcher = new Fetcher({ cacheDir: join(out, 'cache'), fetch: net.fetch, sleep: net.sleep, now: net.now });
    await scrapePokepedia({ out, fetcher });
    const fresh = fakeNet(siteRoutes);
    await scrapePokepedia({ out: tmp(), fetcher: new Fetcher({ cacheDir: tmp(), fetch: fresh.fetch, sleep: fresh.sleep, now: fresh.now }) });
    expect(net.calls.length).toBe(fresh.calls.length - 5);
    expect(new Set(net.calls.map((c) => c.url)).size).toBe(net.calls.length);
    expect(net.calls.some((c) => killed.calls.some((k) => k.url === c.url))).toBe(false);
    expect(fetcher.stats.cached).toBe(5);
  });
});
