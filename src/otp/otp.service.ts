import { Injectable } from '@nestjs/common';

/** Sends and verifies one-time SMS codes. */
@Injectable()
export class OtpService {}
