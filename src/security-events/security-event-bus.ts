import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import {
  type PublishedSecurityEvent,
  type SecurityEventListener,
  type SecurityEventType,
  securityEventName,
} from './security-event.types.js';
import { errorMessage } from '../utils/error-message.js';

/** The part of `EventEmitter2` the bus uses. */
interface Emitter {
  emit(event: string, ...values: unknown[]): unknown;
}

/** Optional: the application may not have it, and the library must load without it. */
const EVENT_EMITTER_PACKAGE = '@nestjs/event-emitter';

/**
 * The application's `EventEmitter2` when it imports `EventEmitterModule` from `@nestjs/event-emitter`,
 * else `null`. The package is imported by name at run time, so applications without it are unaffected.
 */
async function applicationEmitter(moduleRef: ModuleRef): Promise<Emitter | null> {
  try {
    const loaded = (await import(EVENT_EMITTER_PACKAGE)) as { EventEmitter2?: abstract new () => Emitter };
    if (!loaded.EventEmitter2) return null;
    return moduleRef.get(loaded.EventEmitter2, { strict: false });
  } catch {
    return null;
  }
}

/**
 * Typed in-process security events, published once the event's row is committed (a rolled-back
 * change publishes nothing). With `@nestjs/event-emitter`, each event is also emitted as
 * `arraf-auth.<type>` (`@OnEvent('arraf-auth.sign_in.succeeded')`). A listener that throws or
 * rejects is logged; it never fails the request that caused the event.
 *
 * @example bus.on('sign_in.succeeded', (event) => notifyNewDevice(event.userId, event.userAgent));
 */
@Injectable()
export class SecurityEventBus implements OnModuleInit {
  private readonly logger = new Logger('ArrafAuth:SecurityEvents');
  private readonly listeners = new Map<SecurityEventType | '*', Set<SecurityEventListener<never>>>();
  private emitter: Emitter | null = null;

  constructor(private readonly moduleRef: ModuleRef) {}

  async onModuleInit(): Promise<void> {
    this.emitter = await applicationEmitter(this.moduleRef);
  }

  /** Calls `listener` for each event of `type` (every event with `'*'`). Returns the unsubscribe function. */
  on<T extends SecurityEventType>(type: T, listener: SecurityEventListener<T>): () => void;
  on(type: '*', listener: SecurityEventListener): () => void;
  on(type: SecurityEventType | '*', listener: SecurityEventListener<never>): () => void {
    const set = this.listeners.get(type) ?? new Set();
    set.add(listener);
    this.listeners.set(type, set);
    return () => {
      set.delete(listener);
    };
  }

  /** Delivers a committed event to the listeners and the application's emitter. */
  publish(event: PublishedSecurityEvent): void {
    for (const key of [event.type, '*'] as const) {
      for (const listener of this.listeners.get(key) ?? []) {
        this.deliver(() => (listener as SecurityEventListener)(event));
      }
    }
    const emitter = this.emitter;
    if (emitter) this.deliver(() => emitter.emit(securityEventName(event.type), event));
  }

  private deliver(call: () => unknown): void {
    try {
      const result = call();
      if (result instanceof Promise) result.catch((error: unknown) => this.failed(error));
    } catch (error) {
      this.failed(error);
    }
  }

  private failed(error: unknown): void {
    this.logger.error(`A security event listener failed: ${errorMessage(error)}`);
  }
}
