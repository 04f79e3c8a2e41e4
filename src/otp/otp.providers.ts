import { OtpDelivery } from './otp-delivery.service.js';
import { OtpReceipts } from './otp-receipts.service.js';
import { PumpingGuard } from './pumping-guard.service.js';

/** The phone-code helpers behind {@link OtpService}: delivery over the channels, receipts and the pumping guard. */
export const OTP_PROVIDERS = [OtpDelivery, OtpReceipts, PumpingGuard];
