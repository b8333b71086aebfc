// The live skill files of generated skills: staging (never live), atomic promotion, the kept
// versions of replaced skills, rollback. Layout under the skills directory:
//   staging/<name>/candidate.js + report.json   the last attempt (listing never sees it)
//   history/<name>/<stamp>.js                   versions replaced by a promotion or a rollback
//   <name>.js                                   the live skill, written whole by rename
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { AppError, ValidationError } from '../../kernel/index.js';
import { writeFileAtomic, writeJsonAtomic } from '../../store/index.js';
import { normalizeSkillName } from '../../skills/index.js';

export interface HistoryEntry {
  version: string;
  path: string;
  size_bytes: number;
}

/** A version stamp that sorts by time and never collides within one process. */
let seq = 0;
function stamp(): string {
  seq = (seq + 1) % 10000;
  return `${new Date().toISOString().replace(/[-:.]/g, '')}-${String(seq).padStart(4, '0')}`;
}

export class SkillLibrary {
  readonly name: string;
  constructor(
    readonly skillsDir: string,
    rawName: string,
  ) {
    this.name = normalizeSkillName(rawName);
  }

  get livePath(): string {
    return join(this.skillsDir, `${this.name}.js`);
  }
  get stagingDir(): string {
    return join(this.skillsDir, 'staging', this.name);
  }
  get historyDir(): string {
    return join(this.skillsDir, 'history', this.name);
  }
  exists(): boolean {
    return existsSync(this.livePath);
  }

  /** Keeps the attempt (and what happened to it) for inspection; returns the candidate path. */
  stage(code: string, report: Record<string, unknown>): string {
    mkdirSync(this.stagingDir, { recursive: true });
    const path = join(this.stagingDir, 'candidate.js');
    writeFileAtomic(path, code.endsWith('\n') ? code : `${code}\n`);
    writeJsonAtomic(join(this.stagingDir, 'report.json'), report);
    return path;
  }

  /** Makes `code` the live skill. An existing one needs `replace` and is kept in history. */
  promote(code: string, replace: boolean): { path: string; replaced: string | null } {
    const live = this.livePath;
    let replaced: string | null = null;
    if (existsSync(live)) {
      if (!replace) throw new ValidationError(`skill '${this.name}' already exists (use --replace to replace it; the old version is kept)`);
      replaced = this.keep();
    }
    mkdirSync(this.skillsDir, { recursive: true });
    writeFileAtomic(live, code.endsWith('\n') ? code : `${code}\n`, { fsync: true });
    return { path: live, replaced };
  }

  /** Kept versions, newest first. */
  history(): HistoryEntry[] {
    if (!existsSync(this.historyDir)) return [];
    return readdirSync(this.historyDir)
      .filter((f) => /^\d{8}T\d{9}Z-\d{4}\.js$/.test(f))
      .sort()
      .reverse()
      .map((f) => {
        const path = join(this.historyDir, f);
        return { version: f.slice(0, -3), path, size_bytes: statSync(path).size };
      });
  }

  /** Restores the newest kept version; the live one (if any) is kept in turn, so it can be undone. */
  rollback(): { restored: string; kept: string | null } {
    const [newest] = this.history();
    if (!newest) throw new AppError('skill_history_empty', `skill '${this.name}' has no earlier version to roll back to`);
    const code = readFileSync(newest.path, 'utf8');
    const kept = existsSync(this.livePath) ? this.keep() : null;
    writeFileAtomic(this.livePath, code, { fsync: true });
    renameSync(newest.path, join(this.historyDir, `${newest.version}.restored`));
    return { restored: newest.version, kept };
  }

  private keep(): string {
    mkdirSync(this.historyDir, { recursive: true });
    const dest = join(this.historyDir, `${stamp()}.js`);
    writeFileAtomic(dest, readFileSync(this.livePath));
    return dest;
  }
}
