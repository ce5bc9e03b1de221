// Mocha's spec reporter plus closing lines CI and people can read: how many tests ran against the
// private redis-server, and "N passed, N failed, N skipped".
const Mocha = require('mocha');

const { EVENT_TEST_PASS, EVENT_TEST_FAIL, EVENT_TEST_PENDING, EVENT_RUN_END } =
  Mocha.Runner.constants;

class CountingSpec extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    const redis = { passed: 0, failed: 0, skipped: 0 };
    const onRedis = (test) => /redis|exactly-once|crashing instances/i.test(test.fullTitle());
    runner.on(EVENT_TEST_PASS, (t) => onRedis(t) && redis.passed++);
    runner.on(EVENT_TEST_FAIL, (t) => onRedis(t) && redis.failed++);
    runner.on(EVENT_TEST_PENDING, (t) => onRedis(t) && redis.skipped++);
    runner.once(EVENT_RUN_END, () => {
      const { passes, failures, pending } = this.stats;
      process.stdout.write(
        `Redis-backed tests (real redis-server): ${redis.passed} passed, ${redis.failed} failed, ${redis.skipped} skipped\n`,
      );
      process.stdout.write(`${passes} passed, ${failures} failed, ${pending} skipped\n`);
    });
  }
}

module.exports = CountingSpec;
