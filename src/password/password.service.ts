import { Injectable } from '@nestjs/common';

/** Hashes and verifies passwords. */
@Injectable()
export class PasswordService {}
