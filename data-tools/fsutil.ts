/**
 * Atomic file and directory writes: readers (and a rerun after a kill) see either the old
 * content or the new one, never half a file.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

let counter = 0;

/** Write to a temporary sibling, then rename over `path` (rename is atomic on one filesystem). */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}-${counter++}`;
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A staging directory next to `dir` for building it whole; `commit()` swaps it into place.
 * Staging directories left by killed runs (their pid is gone) are removed first.
 */
export function stageDirectory(dir: string): { path: string; commit: () => void; abort: () => void } {
  const parent = dirname(dir) || '.';
  const name = basename(dir);
  mkdirSync(parent, { recursive: true });
  for (const entry of readdirSync(parent)) {
    const m = new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.(?:staging|old)-(\\d+)$`).exec(entry);
    if (m && Number(m[1]) !== process.pid && !pidAlive(Number(m[1]))) rmSync(join(parent, entry), { recursive: true, force: true });
  }
  const path = join(parent, `${name}.staging-${process.pid}`);
  rmSync(path, { recursive: true, force: true });
  mkdirSync(path, { recursive: true });
  return {
    path,
    commit: () => {
      const old = join(parent, `${name}.old-${process.pid}`);
      if (existsSync(dir)) renameSync(dir, old);
      renameSync(path, dir);
      rmSync(old, { recursive: true, force: true });
    },
    abort: () => rmSync(path, { recursive: true, force: true }),
  };
}
