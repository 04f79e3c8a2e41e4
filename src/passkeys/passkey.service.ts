import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  type AuthenticationResponseJSON,
  generateAuthenticationOptions,
  generateRegistrationOptions,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';
import { DataSource, type EntityManager } from 'typeorm';
import { Transactions } from '../database/transactions.js';
import { ARRAF_AUTH_OPTIONS } from '../arraf-auth.constants.js';
import { AuthService } from '../auth/auth.service.js';
import { SignInMethodsService } from '../accounts/sign-in-methods.service.js';
import { randomId } from '../crypto/crypto.util.js';
import type { User } from '../entities/user.entity.js';
import { ArrafAuthException } from '../errors/arraf-auth.exception.js';
import type { ResolvedArrafAuthOptions } from '../options/arraf-auth-options.interface.js';
import type { VerificationPolicy } from '../verification/verification.interfaces.js';
import type { SecurityEventClient } from '../security-events/security-event.types.js';
import { SecurityEventsService } from '../security-events/security-events.service.js';
import { VerificationService } from '../verification/verification.service.js';
import { AUTHENTICATE_CHALLENGE, MAX_PASSKEYS_PER_USER, REGISTER_CHALLENGE } from './passkey.constants.js';
import { MAX_CREDENTIAL_ID_LENGTH, Passkey } from './passkey.entity.js';

/** A passkey as the owner sees it (no key material). */
export interface PasskeySummary {
  id: string;
  name: string;
  deviceType: string;
  backedUp: boolean;
  transports: string[];
  createdAt: string;
  lastUsedAt: string | null;
}

export function toPasskeySummary(passkey: Passkey): PasskeySummary {
  return {
    id: passkey.id,
    name: passkey.name,
    deviceType: passkey.deviceType,
    backedUp: passkey.backedUp,
    transports: passkey.transports ? passkey.transports.split(',') : [],
    createdAt: passkey.createdAt.toISOString(),
    lastUsedAt: passkey.lastUsedAt ? passkey.lastUsedAt.toISOString() : null,
  };
}

/**
 * Passkeys (WebAuthn with `@simplewebauthn/server`): registration for a signed-in user, discoverable
 * sign-in without a username, and managing one's passkeys. The relying party ID is
 * `twoFactor.passkeyRpId` (the host of `appUrl` by default), the accepted origins are `appUrl` and
 * `trustedOrigins`; challenges are single use and live five minutes; a signature counter that does
 * not move forward (a cloned authenticator) is refused.
 */
@Injectable()
export class PasskeyService {
  private readonly logger = new Logger('ArrafAuth:Passkeys');

  constructor(
    @Inject(ARRAF_AUTH_OPTIONS) private readonly options: ResolvedArrafAuthOptions,
    private readonly dataSource: DataSource,
    private readonly transactions: Transactions,
    private readonly verifications: VerificationService,
    private readonly auth: AuthService,
    private readonly events: SecurityEventsService,
    private readonly methods: SignInMethodsService,
  ) {}

  /** Whether passkeys are configured (they need `appUrl`). */
  get enabled(): boolean {
    return this.options.twoFactor.passkeyRpId !== undefined;
  }

  async registrationOptions(user: User): Promise<PublicKeyCredentialCreationOptionsJSON> {
    const existing = await this.repository().findBy({ userId: user.id });
    if (existing.length >= MAX_PASSKEYS_PER_USER) throw new ArrafAuthException('PASSKEY_INVALID');
    const challenge = await this.issueChallenge(REGISTER_CHALLENGE, user.id);
    const label = user.email ?? user.phone ?? user.name ?? user.id;
    return generateRegistrationOptions({
      rpName: this.options.appName,
      rpID: this.rpId(),
      userID: new TextEncoder().encode(user.id),
      userName: label,
      userDisplayName: user.name ?? label,
      challenge,
      attestationType: 'none',
      excludeCredentials: existing.map((p) => ({ id: p.credentialId, transports: transportsOf(p) })),
      authenticatorSelection: { residentKey: 'required', userVerification: 'preferred' },
    });
  }

  async register(
    user: User,
    response: RegistrationResponseJSON,
    name: string | undefined,
    client: SecurityEventClient = {},
  ): Promise<PasskeySummary> {
    const verified = await verifyRegistrationResponse({
      response,
      expectedChallenge: (challenge) => this.consumeChallenge(REGISTER_CHALLENGE, challenge, user.id),
      expectedOrigin: [...this.options.trustedOrigins],
      expectedRPID: this.rpId(),
      requireUserVerification: false,
    }).catch((error: unknown) => this.refuse(error));
    if (!verified.verified) this.refuse('registration not verified');
    const { credential, credentialDeviceType, credentialBackedUp } = verified.registrationInfo;
    if (credential.id.length > MAX_CREDENTIAL_ID_LENGTH) this.refuse('credential id too long');
    const passkey = this.repository().create({
      id: randomId(),
      userId: user.id,
      credentialId: credential.id,
      publicKey: Buffer.from(credential.publicKey).toString('base64url'),
      counter: credential.counter,
      transports: credential.transports?.length ? credential.transports.join(',') : null,
      name: name ?? 'Passkey',
      deviceType: credentialDeviceType,
      backedUp: credentialBackedUp,
      lastUsedAt: null,
    });
    await this.transactions.run(async (tx) => {
      await tx.getRepository(Passkey).insert(passkey);
      const detail = { passkeyId: passkey.id, deviceType: passkey.deviceType };
      await this.events.record(
        { type: 'passkey.added', userId: user.id, method: 'passkey', ...client, detail },
        { manager: tx },
      );
    });
    this.logger.log(`passkey registered for user ${user.id}`);
    return toPasskeySummary((await this.repository().findOneBy({ id: passkey.id })) ?? passkey);
  }

  async authenticationOptions(): Promise<PublicKeyCredentialRequestOptionsJSON> {
    // A discoverable credential: no allow list, so the browser offers the user's passkeys in a modal
    // prompt or in the autofill of a `username webauthn` field (conditional mediation). User
    // verification is required: the passkey stands for both factors.
    const challenge = await this.issueChallenge(AUTHENTICATE_CHALLENGE, `anonymous:${randomId()}`);
    return generateAuthenticationOptions({ rpID: this.rpId(), challenge, userVerification: 'required' });
  }

  /**
   * The user a passkey assertion proves; refuses unknown credentials, wrong origins and stale
   * counters, and records the refusal (`sign_in.failed`, on the credential's owner when it is known).
   */
  async authenticate(response: AuthenticationResponseJSON, client: SecurityEventClient = {}): Promise<User> {
    const found =
      typeof response?.id === 'string' ? await this.repository().findOneBy({ credentialId: response.id }) : null;
    const passkey = found?.credentialId === response.id ? found : null;
    try {
      return await this.verifyAssertion(response, passkey);
    } catch (error) {
      if (error instanceof ArrafAuthException && error.code === 'PASSKEY_INVALID') {
        const detail = { reason: error.code };
        const userId = passkey?.userId ?? null;
        await this.events.recordQuietly({ type: 'sign_in.failed', userId, method: 'passkey', ...client, detail });
      }
      throw error;
    }
  }

  private async verifyAssertion(response: AuthenticationResponseJSON, passkey: Passkey | null): Promise<User> {
    if (!passkey) this.refuse('unknown credential');
    const handle = response.response?.userHandle;
    if (handle !== undefined && Buffer.from(handle, 'base64url').toString('utf8') !== passkey.userId)
      this.refuse('user handle');
    const verified = await verifyAuthenticationResponse({
      response,
      expectedChallenge: (challenge) => this.consumeChallenge(AUTHENTICATE_CHALLENGE, challenge),
      expectedOrigin: [...this.options.trustedOrigins],
      expectedRPID: this.rpId(),
      credential: {
        id: passkey.credentialId,
        publicKey: Buffer.from(passkey.publicKey, 'base64url'),
        counter: passkey.counter,
        transports: transportsOf(passkey),
      },
      requireUserVerification: true,
    }).catch((error: unknown) => this.refuse(error));
    if (!verified.verified) this.refuse('assertion not verified');
    const { newCounter } = verified.authenticationInfo;
    // Conditional on the counter read: of two parallel assertions with the same counter, one wins.
    const moved = await this.repository().update(
      { id: passkey.id, counter: passkey.counter },
      { counter: newCounter, lastUsedAt: new Date() },
    );
    if (moved.affected !== 1) this.refuse('counter raced');
    const user = await this.auth.users().findOneBy({ id: passkey.userId });
    if (!user) this.refuse('user gone');
    return user;
  }

  async list(userId: string): Promise<PasskeySummary[]> {
    const passkeys = await this.repository().find({ where: { userId }, order: { createdAt: 'ASC', id: 'ASC' } });
    return passkeys.map(toPasskeySummary);
  }

  async rename(userId: string, id: string, name: string): Promise<PasskeySummary> {
    const result = await this.repository().update({ id, userId }, { name });
    if (result.affected !== 1) throw new ArrafAuthException('PASSKEY_NOT_FOUND');
    return toPasskeySummary(await this.repository().findOneByOrFail({ id, userId }));
  }

  /** Deletes every passkey of the user in `manager`'s transaction (account deletion). */
  async deleteForUser(userId: string, manager: EntityManager): Promise<void> {
    await manager.getRepository(Passkey).delete({ userId });
  }

  /** Deletes one of the user's passkeys; 409 `LAST_SIGN_IN_METHOD` when it is their last way in (W2). */
  async remove(userId: string, id: string, client: SecurityEventClient = {}): Promise<void> {
    await this.methods.change(
      userId,
      async ({ tx, record }) => {
        const result = await tx.getRepository(Passkey).delete({ id, userId });
        if (result.affected !== 1) throw new ArrafAuthException('PASSKEY_NOT_FOUND');
        record({ type: 'passkey.removed', method: 'passkey', detail: { passkeyId: id } });
      },
      client,
    );
    this.logger.log(`passkey ${id} removed by user ${userId}`);
  }

  private async issueChallenge(policy: VerificationPolicy, identifier: string): Promise<string> {
    let challenge = '';
    await this.verifications.issue(policy, { identifier }, { deliver: ({ secret }) => (challenge = secret) });
    return challenge;
  }

  /**
   * The challenge of a response (base64url of the UTF-8 token we issued) consumed, single use:
   * `true` for the one request that holds it, bound to `userId` for registrations.
   */
  private async consumeChallenge(policy: VerificationPolicy, challenge: string, userId?: string): Promise<boolean> {
    const token = Buffer.from(challenge, 'base64url').toString('utf8');
    const match = await this.verifications.findLink(policy, token);
    if (!match || (userId !== undefined && match.identifier !== userId)) return false;
    return this.verifications.consume(match);
  }

  private rpId(): string {
    const rpId = this.options.twoFactor.passkeyRpId;
    if (rpId === undefined) throw new ArrafAuthException('NOT_FOUND');
    return rpId;
  }

  private refuse(reason: unknown): never {
    this.logger.warn(`passkey refused: ${reason instanceof Error ? reason.message : String(reason)}`);
    throw new ArrafAuthException('PASSKEY_INVALID');
  }

  private repository() {
    return this.dataSource.getRepository(Passkey);
  }
}

function transportsOf(passkey: Passkey) {
  return passkey.transports ? (passkey.transports.split(',') as AuthenticatorTransportFuture[]) : undefined;
}

type AuthenticatorTransportFuture = NonNullable<RegistrationResponseJSON['response']['transports']>[number];
