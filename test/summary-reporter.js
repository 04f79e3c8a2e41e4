// Prints what the run covered and the plain closing line CI reads: 'N passed, N failed, N skipped'.
export default class SummaryReporter {
  onRunComplete(_contexts, results) {
    const databases = ['sqlite (always)'];
    databases.push(
      process.env.TEST_POSTGRES_URL ? 'postgres (TEST_POSTGRES_URL)' : 'postgres SKIPPED: TEST_POSTGRES_URL not set',
    );
    databases.push(
      process.env.TEST_MYSQL_URL ? 'mysql/mariadb (TEST_MYSQL_URL)' : 'mysql SKIPPED: TEST_MYSQL_URL not set',
    );
    const skipped = results.numPendingTests + results.numTodoTests;
    process.stdout.write(`\ncovered databases: ${databases.join(', ')}\n`);
    process.stdout.write('covered platforms: @nestjs/platform-express, @nestjs/platform-fastify\n');
    process.stdout.write(
      `tests: ${results.numPassedTests} passed, ${results.numFailedTests} failed, ${skipped} skipped\n`,
    );
  }
}
