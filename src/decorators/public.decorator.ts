import { SetMetadata } from '@nestjs/common';
import { IS_PUBLIC_KEY } from '../arraf-auth.constants.js';

/**
 * Lets a route or controller skip a global `SessionGuard` (registered as `APP_GUARD`).
 *
 * @example @Public() @Get('health') health() { return 'ok'; }
 */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC_KEY, true);
