/**
 * Where a dataset's images and texts come from.
 *  - npm (default, no internet): pokesprite-images box sprites #1–905, pokedex's PokeAPI CSV
 *    Pokédex entries in English and French #1–807, pokemon's names (DATASET.md §1, §4).
 *  - a scrape directory written by `pixelbytes data scrape` (Poképédia miniatures + French
 *    descriptions, Bulbapedia "Biology" paragraphs in English, as the original did).
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { parseCsvObjects } from './csv.js';

export type Lang = 'en' | 'fr';
export const LANGS: readonly Lang[] = ['en', 'fr'];

export interface SourceItem {
  id: number;
  /** Zero-padded national number, "0001". */
  key: string;
  names: { en: string; fr: string };
  imagePath: string;
  /** Raw description texts in game order (not yet folded or deduplicated). */
  entries: string[];
}

export interface Skip {
  id: number;
  key: string;
  reason: string;
}

export interface SourceData {
  /** One line naming the source and the versions of its inputs (goes into the manifest). */
  description: string;
  items: SourceItem[];
  skipped: Skip[];
}

export const keyOf = (id: number): string => String(id).padStart(4, '0');

const require = createRequire(import.meta.url);

function packageDir(name: string): string {
  try {
    return dirname(require.resolve(`${name}/package.json`));
  } catch {
    throw new Error(`npm package '${name}' is not installed: run \`npm install\` in the project`);
  }
}

function packageVersion(dir: string): string {
  return (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
}

/** PokeAPI language ids of pokedex's CSV (languages.csv). */
const LANGUAGE_ID: Record<Lang, string> = { en: '9', fr: '5' };

/** Pokédex entries of one language per species, in game order (version group order, then version id). */
export function loadPokedexEntries(lang: Lang): { version: string; bySpecies: Map<number, string[]> } {
  const dir = packageDir('pokedex');
  const csv = (file: string) => parseCsvObjects(readFileSync(join(dir, 'data', 'csv', file), 'utf8'));
  const groupOrder = new Map(csv('version_groups.csv').map((g) => [g.id, Number(g.order)]));
  const versionRank = new Map(csv('versions.csv').map((v) => [v.id, (groupOrder.get(v.version_group_id) ?? 99) * 1000 + Number(v.id)]));
  const rows = csv('pokemon_species_flavor_text.csv').filter((r) => r.language_id === LANGUAGE_ID[lang]);
  rows.sort((a, b) => Number(a.species_id) - Number(b.species_id) || (versionRank.get(a.version_id) ?? 1e9) - (versionRank.get(b.version_id) ?? 1e9));
  const bySpecies = new Map<number, string[]>();
  for (const r of rows) {
    const id = Number(r.species_id);
    if (!bySpecies.has(id)) bySpecies.set(id, []);
    bySpecies.get(id)!.push(r.flavor_text);
  }
  return { version: packageVersion(dir), bySpecies };
}

/** Names by national number from the `pokemon` package (1..1025). */
export function loadNames(): { version: string; en: string[]; fr: string[] } {
  const dir = packageDir('pokemon');
  const read = (lang: Lang) => JSON.parse(readFileSync(join(dir, 'data', `${lang}.json`), 'utf8')) as string[];
  return { version: packageVersion(dir), en: read('en'), fr: read('fr') };
}

/** Box sprite path per national number, from pokesprite-images' data/pokemon.json (gen-8 regular). */
export function loadSpritePaths(): { version: string; byId: Map<number, string> } {
  const dir = packageDir('pokesprite-images');
  const meta = JSON.parse(readFileSync(join(dir, 'data', 'pokemon.json'), 'utf8')) as Record<string, { idx: string; slug: { eng: string } }>;
  const byId = new Map<number, string>();
  for (const entry of Object.values(meta)) byId.set(Number(entry.idx), join(dir, 'pokemon-gen8', 'regular', `${entry.slug.eng}.png`));
  return { version: packageVersion(dir), byId };
}

/** The default source: npm packages only. */
export function loadNpmSource(lang: Lang): SourceData {
  const sprites = loadSpritePaths();
  const dex = loadPokedexEntries(lang);
  const names = loadNames();
  const ids = [...new Set([...sprites.byId.keys(), ...dex.bySpecies.keys()])].sort((a, b) => a - b);
  const items: SourceItem[] = [];
  const skipped: Skip[] = [];
  for (const id of ids) {
    const key = keyOf(id);
    const imagePath = sprites.byId.get(id);
    const entries = dex.bySpecies.get(id);
    if (!imagePath) skipped.push({ id, key, reason: `no sprite in pokesprite-images@${sprites.version}` });
    else if (!existsSync(imagePath)) skipped.push({ id, key, reason: `sprite file missing: ${imagePath}` });
    else if (!entries?.length) skipped.push({ id, key, reason: `no ${lang} Pokédex entry in pokedex@${dex.version}` });
    else items.push({ id, key, names: { en: names.en[id - 1] ?? '', fr: names.fr[id - 1] ?? '' }, imagePath, entries });
  }
  return {
    description: `npm: pokesprite-images@${sprites.version} (gen-8 box sprites), pokedex@${dex.version} (${lang} Pokédex entries), pokemon@${names.version} (names)`,
    items,
    skipped,
  };
}

/** Files a scrape directory holds (written by scrape/run.ts). */
export const SCRAPE_FILES = {
  list: 'pokepedia-list.json',
  pokepedia: 'pokepedia.json',
  bulbapedia: 'bulbapedia.json',
  images: 'images',
} as const;

export interface ScrapedListEntry {
  number: string;
  nameFr: string;
  nameEn: string;
  miniatureUrl: string | null;
  pageUrl: string | null;
}
export type ScrapedPokepedia = Record<string, { url: string; entries: { games: string; text: string }[] }>;
export type ScrapedBulbapedia = Record<string, { url: string; name: string; text: string; section: 'biology' | 'fallback' }>;

function readJson<T>(path: string, what: string): T {
  if (!existsSync(path)) throw new Error(`${path} is missing: ${what}`);
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch (err) {
    throw new Error(`${path}: not valid JSON (${(err as Error).message})`);
  }
}

/**
 * A scrape directory: images = the Poképédia miniatures; text = Bulbapedia "Biology" (en, what
 * the original's captions really were) or the Poképédia "Descriptions du Pokédex" entries (fr).
 */
export function loadScrapeSource(dir: string, lang: Lang): SourceData {
  const list = readJson<ScrapedListEntry[]>(join(dir, SCRAPE_FILES.list), 'run `pixelbytes data scrape --site pokepedia --out DIR` first');
  const texts = new Map<string, string[]>();
  if (lang === 'en') {
    const bulba = readJson<ScrapedBulbapedia>(join(dir, SCRAPE_FILES.bulbapedia), 'run `pixelbytes data scrape --site bulbapedia --out DIR` first (English captions come from Bulbapedia)');
    for (const [key, page] of Object.entries(bulba)) if (page.text.trim()) texts.set(key, [page.text]);
  } else {
    const pp = readJson<ScrapedPokepedia>(join(dir, SCRAPE_FILES.pokepedia), 'run `pixelbytes data scrape --site pokepedia --out DIR` first');
    for (const [key, page] of Object.entries(pp)) if (page.entries.length) texts.set(key, page.entries.map((e) => e.text));
  }
  const items: SourceItem[] = [];
  const skipped: Skip[] = [];
  for (const entry of [...list].sort((a, b) => Number(a.number) - Number(b.number))) {
    const id = Number(entry.number);
    const key = keyOf(id);
    const imagePath = join(dir, SCRAPE_FILES.images, `${key}.png`);
    const entries = texts.get(key);
    if (!existsSync(imagePath)) skipped.push({ id, key, reason: entry.miniatureUrl ? `miniature not downloaded (${entry.miniatureUrl})` : 'no miniature on the list page' });
    else if (!entries) skipped.push({ id, key, reason: lang === 'en' ? 'no Bulbapedia text' : 'no Poképédia Pokédex description' });
    else items.push({ id, key, names: { en: entry.nameEn, fr: entry.nameFr }, imagePath, entries });
  }
  return { description: `scrape directory (Poképédia miniatures, ${lang === 'en' ? 'Bulbapedia "Biology"' : 'Poképédia "Descriptions du Pokédex"'})`, items, skipped };
}
