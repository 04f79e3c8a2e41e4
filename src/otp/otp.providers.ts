import { OtpDelivery } from './otp-delivery.service.js';
import { PumpingGuard } from './pumping-guard.service.js';

/** The phone-code helpers behind {@link OtpService}: delivery over the channels and the pumping guard. */
export const OTP_PROVIDERS = [OtpDelivery, PumpingGuard];
