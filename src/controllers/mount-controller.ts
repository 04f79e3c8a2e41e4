import { Controller, type Type } from '@nestjs/common';

/**
 * The built-in controllers are declared with `@AuthRoutes()` and mounted under `routes.path` here.
 * Each `forRoot` call gets its own subclass, so two modules with different paths never share (or
 * overwrite) the path metadata of one class; routes, guards and injections are inherited.
 */
export function mountController<T>(path: string, controller: Type<T>): Type<T> {
  const Mounted = class extends (controller as Type<object>) {};
  Object.defineProperty(Mounted, 'name', { value: controller.name });
  Controller(path)(Mounted);
  return Mounted as Type<T>;
}
