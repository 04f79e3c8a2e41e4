import { Injectable, Logger } from '@nestjs/common';
import { Cron, CronExpression } from '@nestjs/schedule';
import { ArrafAuthRetention, type RetentionReport } from '@arraf-auth/nestjs';

/**
 * Applies the module's retention once a day (Saudi PDPL: keep personal data no longer than
 * needed): expired sessions and codes go, old IP addresses and user agents are erased.
 */
@Injectable()
export class RetentionJob {
  private readonly logger = new Logger('RetentionJob');

  constructor(private readonly retention: ArrafAuthRetention) {}

  @Cron(CronExpression.EVERY_DAY_AT_3AM, { name: 'arraf-auth-retention' })
  async run(): Promise<RetentionReport> {
    const report = await this.retention.apply();
    this.logger.log(`Retention: ${JSON.stringify(report)}`);
    return report;
  }
}
