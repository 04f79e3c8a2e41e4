import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { USER_TABLE } from '../arraf-auth.constants.js';
import { SignInMethodMarks } from '../accounts/sign-in-method-marks.entity.js';
import { Account } from '../entities/account.entity.js';
import { Session } from '../entities/session.entity.js';
import type { User } from '../entities/user.entity.js';
import { ArrafAuthException } from '../errors/arraf-auth.exception.js';
import { Passkey } from '../passkeys/passkey.entity.js';
import { SecurityEvent } from '../security-events/security-event.entity.js';
import type { SecurityEventClient } from '../security-events/security-event.types.js';
import { SecurityEventsService, toOwnerEvent } from '../security-events/security-events.service.js';
import { CREDENTIAL_PROVIDER_ID } from '../password/password-credentials.js';
import { TwoFactor } from '../two-factor/two-factor.entity.js';
import { VerificationService } from '../verification/verification.service.js';
import { boundIdentifiers } from './account-data.constants.js';

/** A sign-in method as exported: the provider and when it was linked; never a password hash or a token. */
export interface ExportedAccount {
  id: string;
  /** `credential` (the password), `google`, `github`, `oidc`, ... */
  providerId: string;
  /** The provider's subject (`sub`); omitted for the password. */
  accountId?: string;
  scope: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/** Everything the module stores about a user, as `GET /auth/account/export` returns it. */
export interface AccountExport {
  exportedAt: Date;
  /** Every column of the user row (an application's own columns on a `User` subclass too). */
  user: Record<string, unknown>;
  accounts: ExportedAccount[];
  /** Unexpired and expired sessions still stored: no token or token hash. */
  sessions: Pick<Session, 'id' | 'createdAt' | 'expiresAt' | 'lastActiveAt' | 'ipAddress' | 'userAgent'>[];
  /** Registered passkeys. The public key is included: it is not a secret (it only verifies signatures). */
  passkeys: Pick<
    Passkey,
    'id' | 'name' | 'credentialId' | 'publicKey' | 'transports' | 'deviceType' | 'backedUp' | 'createdAt' | 'lastUsedAt'
  >[];
  /** When the phone was attached and the email last proven, and the open review of new methods, if any. */
  signInMethodMarks: Omit<SignInMethodMarks, 'user'> | null;
  /** The authenticator app: whether it is on and since when; never its secret. */
  twoFactor: { enabled: boolean; createdAt: Date } | null;
  /** One-time secrets outstanding for the user (codes, links, backup codes): their purpose and expiry only. */
  pendingVerifications: { type: string; expiresAt: Date }[];
  /** The user's security events, newest first. */
  securityEvents: ExportedSecurityEvent[];
}

/** A security event as exported (the shape `GET /auth/account/events` lists). */
export interface ExportedSecurityEvent {
  id: string;
  type: string;
  method: string | null;
  ip: string | null;
  userAgent: string | null;
  detail: Record<string, unknown> | null;
  createdAt: Date;
}

/**
 * Gathers what the module stores about a user for the owner (Saudi PDPL right of access): the user
 * row, sign-in methods, sessions, passkeys, second-factor state, outstanding one-time secrets and
 * security events, without any secret, hash or token.
 */
@Injectable()
export class AccountExportService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly verifications: VerificationService,
    private readonly events: SecurityEventsService,
  ) {}

  /**
   * The export of `userId`, recorded as an `account.exported` event from `client`; 401
   * `UNAUTHENTICATED` when the user no longer exists.
   */
  async export(userId: string, client: SecurityEventClient = {}): Promise<AccountExport> {
    const manager = this.dataSource.manager;
    const user = await manager.getRepository<User>(USER_TABLE).findOne({ where: { id: userId } });
    if (!user) throw new ArrafAuthException('UNAUTHENTICATED');
    const where = { userId };
    const [accounts, sessions, passkeys, twoFactor, events, marks] = await Promise.all([
      manager.getRepository(Account).find({ where, order: { createdAt: 'ASC' } }),
      manager.getRepository(Session).find({ where, order: { createdAt: 'DESC' } }),
      manager.getRepository(Passkey).find({ where, order: { createdAt: 'ASC' } }),
      manager.getRepository(TwoFactor).findOne({ where }),
      manager.getRepository(SecurityEvent).find({ where, order: { createdAt: 'DESC', id: 'DESC' } }),
      manager.getRepository(SignInMethodMarks).findOne({ where }),
    ]);
    const data: AccountExport = {
      exportedAt: new Date(),
      user: this.userRow(user),
      accounts: accounts.map(exportAccount),
      sessions: sessions.map(({ id, createdAt, expiresAt, lastActiveAt, ipAddress, userAgent }) => ({
        id,
        createdAt,
        expiresAt,
        lastActiveAt,
        ipAddress,
        userAgent,
      })),
      passkeys: passkeys.map((p) => ({
        id: p.id,
        name: p.name,
        credentialId: p.credentialId,
        publicKey: p.publicKey,
        transports: p.transports,
        deviceType: p.deviceType,
        backedUp: p.backedUp,
        createdAt: p.createdAt,
        lastUsedAt: p.lastUsedAt,
      })),
      signInMethodMarks: marks && {
        userId: marks.userId,
        phoneAddedAt: marks.phoneAddedAt,
        emailProvenAt: marks.emailProvenAt,
        reviewFrom: marks.reviewFrom,
        reviewUntil: marks.reviewUntil,
      },
      twoFactor: twoFactor ? { enabled: twoFactor.enabled, createdAt: twoFactor.createdAt } : null,
      pendingVerifications: await this.verifications.listBound(boundIdentifiers(user), user.id),
      securityEvents: events.map((event) => toOwnerEvent(event, true)),
    };
    await this.events.record({ type: 'account.exported', userId, ip: client.ip, userAgent: client.userAgent });
    return data;
  }

  /** Every mapped column of the user row, by property name. */
  private userRow(user: User): Record<string, unknown> {
    const metadata = this.dataSource.getMetadata(USER_TABLE);
    const row: Record<string, unknown> = {};
    for (const column of metadata.columns) {
      if (column.relationMetadata) continue;
      row[column.propertyName] = (user as unknown as Record<string, unknown>)[column.propertyName];
    }
    return row;
  }
}

function exportAccount(account: Account): ExportedAccount {
  const isPassword = account.providerId === CREDENTIAL_PROVIDER_ID;
  return {
    id: account.id,
    providerId: account.providerId,
    ...(isPassword ? {} : { accountId: account.accountId }),
    scope: account.scope,
    createdAt: account.createdAt,
    updatedAt: account.updatedAt,
  };
}
