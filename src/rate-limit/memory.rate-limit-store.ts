import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { RateLimitHit, RateLimitStore } from './rate-limit-store.interface.js';

const SWEEP_INTERVAL_MS = 60_000;

/** Counters in this process's memory: atomic because JavaScript runs one callback at a time. */
@Injectable()
export class MemoryRateLimitStore implements RateLimitStore, OnModuleDestroy {
  private readonly windows = new Map<string, RateLimitHit>();
  private readonly sweeper = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS).unref();

  async hit(key: string, windowSeconds: number): Promise<RateLimitHit> {
    const now = Date.now();
    const current = this.windows.get(key);
    if (current && current.resetAt > now) {
      current.count += 1;
      return { ...current };
    }
    const fresh = { count: 1, resetAt: now + windowSeconds * 1000 };
    this.windows.set(key, fresh);
    return { ...fresh };
  }

  async peek(key: string): Promise<RateLimitHit | null> {
    const current = this.windows.get(key);
    return current && current.resetAt > Date.now() ? { ...current } : null;
  }

  async reset(key: string): Promise<void> {
    this.windows.delete(key);
  }

  onModuleDestroy(): void {
    clearInterval(this.sweeper);
  }

  private sweep(): void {
    const now = Date.now();
    for (const [key, window] of this.windows) if (window.resetAt <= now) this.windows.delete(key);
  }
}
