import type { Redis } from 'ioredis';
import { timelineScripts, type TimelineScriptName } from './rules/index.ts';

/**
 * The rules' Lua scripts as loaded into Redis: loaded at setup, called by SHA, and checked before
 * every step (a command failing inside EXEC cannot be rolled back, so a script flushed from the
 * server's cache must be loaded again before the MULTI, not found missing inside it).
 */
export class ScriptLoader {
  private shas: Partial<Record<TimelineScriptName, string>> = {};

  constructor(private readonly redis: Redis) {}

  async load(): Promise<void> {
    const shas: Partial<Record<TimelineScriptName, string>> = {};
    for (const [name, source] of Object.entries(timelineScripts))
      shas[name as TimelineScriptName] = (await this.redis.script('LOAD', source)) as string;
    this.shas = shas;
  }

  /** Every loaded SHA, for `SCRIPT EXISTS`. */
  all(): string[] {
    return Object.values(this.shas);
  }

  sha(name: TimelineScriptName): string {
    const sha = this.shas[name];
    if (!sha) throw new Error(`script ${name} not loaded`);
    return sha;
  }
}
