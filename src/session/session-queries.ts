import type { DataSource, EntityMetadata } from 'typeorm';
import { USER_TABLE } from '../arraf-auth.constants.js';
import { sha256 } from '../crypto/crypto.util.js';
import { Session } from '../entities/session.entity.js';
import { Passkey } from '../passkeys/passkey.entity.js';
import { TwoFactor } from '../two-factor/two-factor.entity.js';

type Columns = EntityMetadata['columns'];

/** The SQL of the session store's hot path, built once per DataSource from the entity metadata. */
export interface SessionQueries {
  byTokenHash: string;
  byId: string;
  /** Names of the lookups as PostgreSQL prepared statements, derived from their text. */
  statementNames: Map<string, string>;
  touch: string;
  renew: string;
  userColumns: Columns;
  userPrototype: object;
  sessionColumns: Columns;
  /** Whether the lookups also answer "has a second factor" (`twoFactor.required`). */
  secondFactor: boolean;
}

/**
 * Builds the lookup (one join of session and user) and the renewal UPDATEs from the entity metadata,
 * so naming strategies and User subclasses are honoured.
 */
export function buildSessionQueries(dataSource: DataSource, twoFactorRequired: boolean): SessionQueries {
  const driver = dataSource.driver;
  const userMetadata = dataSource.getMetadata(USER_TABLE);
  const sessionMetadata = dataSource.getMetadata(Session);
  const q = (name: string) => driver.escape(name);
  const col = (metadata: EntityMetadata, property: string) =>
    q(metadata.findColumnWithPropertyName(property)!.databaseName);
  // Plain columns only; `userId` is both a column and a relation's join column and stays.
  const plain = (c: Columns[number]) => !c.isVirtual && c.relationMetadata?.propertyName !== c.propertyName;
  const userColumns = userMetadata.columns.filter(plain);
  const sessionColumns = sessionMetadata.columns.filter(plain);
  const p = (i: number) => driver.createParameter(`p${i}`, i);
  const secondFactor = twoFactorRequired ? secondFactorColumn(dataSource) : undefined;
  const select =
    `SELECT ${sessionColumns.map((c) => `s.${q(c.databaseName)} AS ${q(`s_${c.propertyName}`)}`).join(', ')}, ` +
    `${userColumns.map((c) => `u.${q(c.databaseName)} AS ${q(`u_${c.propertyName}`)}`).join(', ')}` +
    `${secondFactor ?? ''} FROM ${tableOf(dataSource, sessionMetadata)} s INNER JOIN ` +
    `${tableOf(dataSource, userMetadata)} u ON u.${col(userMetadata, 'id')} = s.${col(sessionMetadata, 'userId')}`;
  const sessionTable = tableOf(dataSource, sessionMetadata);
  const id = col(sessionMetadata, 'id');
  const byTokenHash = `${select} WHERE s.${col(sessionMetadata, 'tokenHash')} = ${p(0)}`;
  const byId = `${select} WHERE s.${id} = ${p(0)}`;
  return {
    byTokenHash,
    byId,
    // From the text, so a statement name never stands for two different texts on one connection.
    statementNames: new Map([byTokenHash, byId].map((sql) => [sql, `arraf_auth_${sha256(sql).slice(0, 16)}`])),
    renew:
      `UPDATE ${sessionTable} SET ${col(sessionMetadata, 'expiresAt')} = ${p(0)}, ` +
      `${col(sessionMetadata, 'lastActiveAt')} = ${p(1)} WHERE ${id} = ${p(2)}`,
    touch: `UPDATE ${sessionTable} SET ${col(sessionMetadata, 'lastActiveAt')} = ${p(0)} WHERE ${id} = ${p(1)}`,
    userColumns,
    userPrototype: (userMetadata.target as { prototype: object }).prototype,
    sessionColumns,
    secondFactor: secondFactor !== undefined,
  };
}

function tableOf(dataSource: DataSource, metadata: EntityMetadata): string {
  return metadata.tablePath
    .split('.')
    .map((name) => dataSource.driver.escape(name))
    .join('.');
}

/**
 * With `twoFactor.required`, the guard needs "has a second factor" (an active authenticator or a
 * passkey, as `TwoFactorService.hasSecondFactor`) on every request: answered by the lookup itself,
 * as two indexed `EXISTS`, instead of one or two more queries.
 */
function secondFactorColumn(ds: DataSource): string | undefined {
  if (!ds.hasMetadata(TwoFactor) || !ds.hasMetadata(Passkey)) return undefined;
  const q = (name: string) => ds.driver.escape(name);
  const [factors, passkeys] = [ds.getMetadata(TwoFactor), ds.getMetadata(Passkey)];
  const col = (m: EntityMetadata, property: string) => m.findColumnWithPropertyName(property)!;
  const enabled = col(factors, 'enabled');
  const yes = String(ds.driver.preparePersistentValue(true, enabled));
  const userId = q(ds.getMetadata(USER_TABLE).findColumnWithPropertyName('id')!.databaseName);
  const owner = (m: EntityMetadata, alias: string) => `${alias}.${q(col(m, 'userId').databaseName)} = u.${userId}`;
  return (
    `, CASE WHEN EXISTS (SELECT 1 FROM ${tableOf(ds, factors)} f WHERE ${owner(factors, 'f')} ` +
    `AND f.${q(enabled.databaseName)} = ${yes}) OR EXISTS (SELECT 1 FROM ${tableOf(ds, passkeys)} k ` +
    `WHERE ${owner(passkeys, 'k')}) THEN 1 ELSE 0 END AS ${q('x_secondFactor')}`
  );
}
