import type { ExecutionContext } from '@nestjs/common';
import type { Reflector } from '@nestjs/core';

/**
 * A boolean route marker (`@Public()`, `@RequireFreshSession()`, …) read through `Reflector` with
 * `getAllAndOverride` (handler first, then class) once per handler and class, then from memory:
 * decorators are applied when the class is defined, so the answer never changes afterwards.
 */
export class RouteFlag {
  private readonly known = new WeakMap<object, WeakMap<object, boolean>>();

  constructor(
    private readonly reflector: Reflector,
    private readonly key: string,
  ) {}

  of(context: ExecutionContext): boolean {
    const handler = context.getHandler() as object | undefined;
    const type = context.getClass() as object | undefined;
    if (typeof handler !== 'function' || typeof type !== 'function') return this.read(handler, type);
    let byClass = this.known.get(handler);
    if (!byClass) this.known.set(handler, (byClass = new WeakMap()));
    let value = byClass.get(type);
    if (value === undefined) byClass.set(type, (value = this.read(handler, type)));
    return value;
  }

  private read(handler: object | undefined, type: object | undefined): boolean {
    const targets = [handler, type].filter((t): t is object => t !== undefined) as (() => void)[];
    return this.reflector.getAllAndOverride<boolean>(this.key, targets) === true;
  }
}
