import type { INestApplicationContext } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { USER_TABLE } from '../arraf-auth.constants.js';
import { randomId } from '../crypto/crypto.util.js';
import type { Session } from '../entities/session.entity.js';
import type { User } from '../entities/user.entity.js';
import { SessionCookie } from '../session/session-cookie.js';
import { SessionService } from '../session/session.service.js';

/** A signed-in test user: `cookie` goes in a `Cookie` header, `token` in `Authorization: Bearer`. */
export interface TestSession {
  user: User;
  session: Session;
  /** `name=value`, ready for a `Cookie` request header. */
  cookie: string;
  /** The raw credential (JWT or random token). */
  token: string;
}

/**
 * Signs a user in without running a flow, through the application's real `SessionService`.
 * Pass an existing user id, or user fields to create a user first.
 *
 * @example const { cookie } = await createTestSession(app, { email: 'a@example.com' });
 *          await request(app.getHttpServer()).get('/me').set('Cookie', cookie).expect(200);
 */
export async function createTestSession(
  app: INestApplicationContext,
  user: string | Partial<User> = {},
): Promise<TestSession> {
  const dataSource = app.get(DataSource);
  const users = dataSource.getRepository<User>(USER_TABLE);
  let entity: User | null;
  if (typeof user === 'string') {
    entity = await users.findOneBy({ id: user });
    if (!entity) throw new Error(`createTestSession: no user with id ${user}`);
  } else {
    entity = users.create({ emailVerified: false, phoneVerified: false, ...user, id: user.id ?? randomId() });
    await users.insert(entity);
  }
  const sessions = app.get(SessionService);
  const { session, cookieValue } = await sessions.createSession(entity, {
    ipAddress: '127.0.0.1',
    userAgent: 'arraf-auth-testing',
  });
  return { user: entity, session, cookie: `${app.get(SessionCookie).name}=${cookieValue}`, token: cookieValue };
}
