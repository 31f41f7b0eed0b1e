/**
 * A polite HTTP getter for the scrapers: a User-Agent naming the project, at least 1 s between
 * requests, retries with exponential backoff (honouring Retry-After) on 429, 5xx, timeouts and
 * network errors, and an on-disk cache keyed by URL, written atomically, so a rerun (or a run
 * restarted after a kill) downloads nothing twice. `fetch` is injected: tests never go online.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../fsutil.js';

export const USER_AGENT = 'PixelBytes.ts-data-scraper/0.1 (research re-implementation of PixelBytes, Furfaro 2024; 1 request/s, cached)';

/** The part of the WHATWG Response the fetcher uses. */
export interface ResponseLike {
  status: number;
  headers: { get(name: string): string | null };
  arrayBuffer(): Promise<ArrayBuffer>;
}
export type FetchFn = (url: string, init: { headers: Record<string, string>; signal: AbortSignal; redirect: 'follow' }) => Promise<ResponseLike>;

export interface FetcherOptions {
  cacheDir: string;
  fetch?: FetchFn;
  userAgent?: string;
  minIntervalMs?: number;
  maxRetries?: number;
  timeoutMs?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  log?: (message: string) => void;
}

export interface FetchResult {
  url: string;
  status: number;
  contentType: string | null;
  body: Buffer;
  fromCache: boolean;
}

/** A URL that could not be fetched (after the retries, or a status that is not worth retrying). */
export class FetchError extends Error {
  constructor(readonly url: string, readonly reason: string, readonly status?: number) {
    super(`${url}: ${reason}`);
    this.name = 'FetchError';
  }
}

interface CacheMeta {
  url: string;
  status: number;
  contentType: string | null;
}

/** Statuses that are answers (cached); 429 and 5xx are retried; other 4xx fail without caching. */
const CACHEABLE = new Set([200, 203, 404, 410]);

export class Fetcher {
  readonly stats = { network: 0, cached: 0, retries: 0 };
  private lastRequestAt = -Infinity;
  private readonly o: Required<Omit<FetcherOptions, 'log'>> & { log: (m: string) => void };

  constructor(opts: FetcherOptions) {
    const realFetch: FetchFn = (url, init) => fetch(url, init);
    this.o = {
      cacheDir: opts.cacheDir,
      fetch: opts.fetch ?? realFetch,
      userAgent: opts.userAgent ?? USER_AGENT,
      minIntervalMs: opts.minIntervalMs ?? 1000,
      maxRetries: opts.maxRetries ?? 5,
      timeoutMs: opts.timeoutMs ?? 30_000,
      backoffBaseMs: opts.backoffBaseMs ?? 2000,
      backoffMaxMs: opts.backoffMaxMs ?? 120_000,
      sleep: opts.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
      now: opts.now ?? (() => Date.now()),
      log: opts.log ?? (() => {}),
    };
  }

  /** Cache files of one URL: <cacheDir>/<sha256[0:2]>/<sha256>.{json,body}. */
  cachePaths(url: string): { meta: string; body: string } {
    const h = createHash('sha256').update(url).digest('hex');
    const base = join(this.o.cacheDir, h.slice(0, 2), h);
    return { meta: `${base}.json`, body: `${base}.body` };
  }

  private readCache(url: string): FetchResult | null {
    const paths = this.cachePaths(url);
    // The meta file is written last: if it exists, the body is complete.
    if (!existsSync(paths.meta) || !existsSync(paths.body)) return null;
    const meta = JSON.parse(readFileSync(paths.meta, 'utf8')) as CacheMeta;
    if (meta.url !== url) return null; // (a hash collision: refetch)
    return { url, status: meta.status, contentType: meta.contentType, body: readFileSync(paths.body), fromCache: true };
  }

  private writeCache(result: FetchResult): void {
    const paths = this.cachePaths(result.url);
    writeFileAtomic(paths.body, result.body);
    writeFileAtomic(paths.meta, JSON.stringify({ url: result.url, status: result.status, contentType: result.contentType } satisfies CacheMeta) + '\n');
  }

  private async waitTurn(): Promise<void> {
    const wait = this.lastRequestAt + this.o.minIntervalMs - this.o.now();
    if (wait > 0) await this.o.sleep(wait);
    this.lastRequestAt = this.o.now();
  }

  /** GET `url`: from the cache if there, else from the network (200/404/410 are then cached). */
  async get(url: string): Promise<FetchResult> {
    const cached = this.readCache(url);
    if (cached) {
      this.stats.cached++;
      return cached;
    }
    let lastReason = '';
    for (let attempt = 0; attempt <= this.o.maxRetries; attempt++) {
      if (attempt > 0) this.stats.retries++;
      await this.waitTurn();
      this.stats.network++;
      let retryAfterMs = 0;
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), this.o.timeoutMs);
      try {
        const res = await this.o.fetch(url, { headers: { 'User-Agent': this.o.userAgent, Accept: '*/*' }, signal: controller.signal, redirect: 'follow' });
        const body = Buffer.from(await res.arrayBuffer());
        if (CACHEABLE.has(res.status)) {
          const result: FetchResult = { url, status: res.status, contentType: res.headers.get('content-type'), body, fromCache: false };
          this.writeCache(result);
          return result;
        }
        if (res.status !== 429 && res.status < 500) throw new FetchError(url, `HTTP ${res.status}`, res.status);
        lastReason = `HTTP ${res.status}`;
        retryAfterMs = parseRetryAfter(res.headers.get('retry-after'), this.o.now());
      } catch (err) {
        if (err instanceof FetchError) throw err;
        lastReason = controller.signal.aborted || (err as Error).name === 'AbortError' || (err as Error).name === 'TimeoutError'
          ? `timed out after ${this.o.timeoutMs} ms`
          : `network error: ${(err as Error).message}`;
      } finally {
        clearTimeout(timer);
      }
      if (attempt === this.o.maxRetries) break;
      const backoff = Math.min(this.o.backoffMaxMs, Math.max(retryAfterMs, this.o.backoffBaseMs * 2 ** attempt));
      this.o.log(`${url}: ${lastReason}; retry ${attempt + 1}/${this.o.maxRetries} in ${(backoff / 1000).toFixed(1)} s`);
      await this.o.sleep(backoff);
    }
    throw new FetchError(url, `${lastReason} (gave up after ${this.o.maxRetries + 1} attempts)`);
  }
}

/** Retry-After in seconds or as an HTTP date → milliseconds (0 if absent or unreadable). */
export function parseRetryAfter(value: string | null, nowMs: number): number {
  if (!value) return 0;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? 0 : Math.max(0, at - nowMs);
}
