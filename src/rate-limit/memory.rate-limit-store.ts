import { Inject, Injectable, type OnModuleDestroy, Optional } from '@nestjs/common';
import type { RateLimitHit, RateLimitStore } from './rate-limit-store.interface.js';

const SWEEP_INTERVAL_MS = 60_000;

/**
 * Most counters the memory store keeps: 100,000 keys, about 17 MiB (measured: 500,000 keys took
 * 83 MiB). Override with the {@link MEMORY_RATE_LIMIT_MAX_KEYS} token.
 */
export const DEFAULT_MEMORY_RATE_LIMIT_MAX_KEYS = 100_000;

/** Injection token of the memory store's key ceiling (a number). */
export const MEMORY_RATE_LIMIT_MAX_KEYS = Symbol('ARRAF_AUTH:MEMORY_RATE_LIMIT_MAX_KEYS');

/**
 * Counters in this process's memory: atomic because JavaScript runs one callback at a time.
 * Bounded: past `maxKeys` the least recently counted key is dropped, so a flood of distinct keys
 * (random emails, numbers) cannot grow the process without limit. A dropped key starts a new
 * window when it comes back; to drop a live counter an attacker must send `maxKeys` other keys
 * first, which the per-address limits make slow. Deployments that need exact counts under such
 * floods, or several instances, use Redis.
 */
@Injectable()
export class MemoryRateLimitStore implements RateLimitStore, OnModuleDestroy {
  private readonly windows = new Map<string, RateLimitHit>();
  private readonly sweeper = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS).unref();
  readonly maxKeys: number;

  constructor(@Optional() @Inject(MEMORY_RATE_LIMIT_MAX_KEYS) maxKeys?: number) {
    this.maxKeys = maxKeys ?? DEFAULT_MEMORY_RATE_LIMIT_MAX_KEYS;
    if (!Number.isInteger(this.maxKeys) || this.maxKeys < 1)
      throw new Error(`MemoryRateLimitStore: maxKeys must be a positive integer, got ${String(maxKeys)}`);
  }

  /** How many keys are held now. */
  get size(): number {
    return this.windows.size;
  }

  async hit(key: string, windowSeconds: number): Promise<RateLimitHit> {
    const now = Date.now();
    const current = this.windows.get(key);
    // Re-inserting moves the key to the end of the Map's order: the front is the least recent.
    this.windows.delete(key);
    if (current && current.resetAt > now) {
      current.count += 1;
      this.windows.set(key, current);
      return { ...current };
    }
    const fresh = { count: 1, resetAt: now + windowSeconds * 1000 };
    this.windows.set(key, fresh);
    if (this.windows.size > this.maxKeys) this.evict();
    return { ...fresh };
  }

  async peek(key: string): Promise<RateLimitHit | null> {
    const current = this.windows.get(key);
    return current && current.resetAt > Date.now() ? { ...current } : null;
  }

  async reset(key: string): Promise<void> {
    this.windows.delete(key);
  }

  async release(key: string): Promise<void> {
    const current = this.windows.get(key);
    if (current && current.resetAt > Date.now() && current.count > 0) current.count -= 1;
  }

  onModuleDestroy(): void {
    clearInterval(this.sweeper);
  }

  /** Drops the least recently counted keys down to the ceiling. */
  private evict(): void {
    for (const key of this.windows.keys()) {
      if (this.windows.size <= this.maxKeys) return;
      this.windows.delete(key);
    }
  }

  private sweep(): void {
    const now = Date.now();
    for (const [key, window] of this.windows) if (window.resetAt <= now) this.windows.delete(key);
  }
}
