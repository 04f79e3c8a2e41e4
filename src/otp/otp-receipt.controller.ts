import { Body, HttpCode, Param, Post } from '@nestjs/common';
import { AuthRoutes } from '../controllers/auth-routes.decorator.js';
import { Public } from '../decorators/public.decorator.js';
import { RateLimit } from '../rate-limit/rate-limit.decorator.js';
import { RateLimitGuard } from '../rate-limit/rate-limit.guard.js';
import { OtpReceipts } from './otp-receipts.service.js';

/**
 * `POST {routes.path}/otp/receipts/:token`, where an SMS/WhatsApp vendor posts delivery receipts
 * (`otp.fallbackAfter`). The secret `token` in the URL authenticates the vendor (a wrong one is 404);
 * the route is rate-limited per address (`otp-receipt:ip`) and exempt from the Origin check, since
 * the vendor's server is not a browser and sends no Origin.
 */
@AuthRoutes(RateLimitGuard)
export class OtpReceiptController {
  constructor(readonly receipts: OtpReceipts) {}

  /** Records the receipts in the vendor's post (form fields or JSON): 200 `{ received }`. */
  @Post('otp/receipts/:token')
  @Public()
  @HttpCode(200)
  @RateLimit('otp-receipt:ip')
  async receive(@Param('token') token: string, @Body() body: unknown) {
    return { received: await this.receipts.record(token, body) };
  }
}
