import type { Session } from '../entities/session.entity.js';
import type { User } from '../entities/user.entity.js';

/** The public shape of a user in responses. */
export interface PublicUser {
  id: string;
  email: string | null;
  phone: string | null;
  name: string | null;
  image: string | null;
  emailVerified: boolean;
  phoneVerified: boolean;
}

/** The public shape of a session in responses; `token` only when `bearer` is on. */
export interface PublicSession {
  id: string;
  userId: string;
  expiresAt: string;
  token?: string;
}

export function toPublicUser(user: User): PublicUser {
  return {
    id: user.id,
    email: user.email,
    phone: user.phone,
    name: user.name,
    image: user.image,
    emailVerified: user.emailVerified,
    phoneVerified: user.phoneVerified,
  };
}

export function toPublicSession(session: Session, token?: string): PublicSession {
  const out: PublicSession = { id: session.id, userId: session.userId, expiresAt: session.expiresAt.toISOString() };
  if (token !== undefined) out.token = token;
  return out;
}
