/**
 * Errors that mean "the database (or another backing service) cannot be reached right now", not "the
 * request or the code is wrong": answered 503 `SERVICE_UNAVAILABLE` so clients retry, instead of a
 * generic 500. Recognised on the error and its `driverError` / `cause` chain.
 */

/** Node socket errors: the server is down, unreachable, or dropped the connection. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** MySQL/MariaDB driver codes for lost or refused connections and lock timeouts. */
const MYSQL_CODES = new Set([
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_CON_COUNT_ERROR',
  'ER_SERVER_SHUTDOWN',
  'ER_LOCK_WAIT_TIMEOUT',
  'ER_LOCK_DEADLOCK',
  'ER_QUERY_TIMEOUT',
]);

/** SQLite: the file is locked by another writer for longer than the busy timeout. */
const SQLITE_CODES = new Set(['SQLITE_BUSY', 'SQLITE_LOCKED']);

/**
 * PostgreSQL SQLSTATEs: class 08 (connection exception), 57P01-57P03 (shutdown, crash, cannot
 * connect now), 53300 (too many connections), 57014 (statement_timeout), 40001/40P01
 * (serialization failure, deadlock).
 */
const POSTGRES_STATE = /^(08...|57P0[123]|53300|57014|40001|40P01)$/;

/** node-postgres and TypeORM messages that carry no code. */
const MESSAGES = [
  /connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /query read timeout/i,
  /connection (is )?(closed|lost|not (yet )?open)/i,
  /client has encountered a connection error/i,
  /cannot use a pool after calling end/i,
  /connection.*(refused|reset)/i,
];

/** Whether `error` (or what caused it) is a transient failure of a backing service. */
export function isServiceUnavailableError(error: unknown): boolean {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current && typeof current === 'object' && !seen.has(current)) {
    seen.add(current);
    const { code, message } = current as { code?: unknown; message?: unknown };
    if (typeof code === 'string') {
      if (NETWORK_CODES.has(code) || MYSQL_CODES.has(code) || SQLITE_CODES.has(code)) return true;
      if (POSTGRES_STATE.test(code)) return true;
    }
    if (typeof message === 'string' && MESSAGES.some((pattern) => pattern.test(message))) return true;
    const next = current as { driverError?: unknown; cause?: unknown };
    current = next.driverError ?? next.cause;
  }
  return false;
}
