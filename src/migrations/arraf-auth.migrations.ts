import { ArrafAuthInit1732700000000 } from './1732700000000-ArrafAuthInit.js';
import { ArrafAuthVerificationLookups1732900000000 } from './1732900000000-ArrafAuthVerificationLookups.js';
import { ArrafAuthTwoFactor1795968100000 } from './1795968100000-ArrafAuthTwoFactor.js';
import { ArrafAuthSecurityEvents1796100000000 } from './1796100000000-ArrafAuthSecurityEvents.js';
import { ArrafAuthSignInMethods1796200000000 } from './1796200000000-ArrafAuthSignInMethods.js';

export {
  ArrafAuthInit1732700000000,
  ArrafAuthVerificationLookups1732900000000,
  ArrafAuthTwoFactor1795968100000,
  ArrafAuthSecurityEvents1796100000000,
  ArrafAuthSignInMethods1796200000000,
};

/**
 * The library's migrations, oldest first, for TypeORM's `migrations` option. They are written with
 * TypeORM's Table API and run unchanged on PostgreSQL, MySQL/MariaDB and SQLite.
 */
export const ARRAF_AUTH_MIGRATIONS: Function[] = [
  ArrafAuthInit1732700000000,
  ArrafAuthVerificationLookups1732900000000,
  ArrafAuthTwoFactor1795968100000,
  ArrafAuthSecurityEvents1796100000000,
  ArrafAuthSignInMethods1796200000000,
];
