// Ends the run with one plain line, "tests: N passed, N failed, N skipped", which CI's
// log reader understands whatever the test runner.
import type { Reporter, SerializedError, TestModule } from 'vitest/node';

export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<SerializedError>): void {
    // An error outside any test (a setup that failed, say) fails the run: count it.
    const counts = { passed: 0, failed: unhandledErrors.length, skipped: 0 };
    for (const mod of modules) {
      let failedInModule = 0;
      for (const test of mod.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') counts.passed++;
        else if (state === 'failed') failedInModule++;
        else counts.skipped++;
      }
      // A file that failed outside its tests (failed to load, or a beforeAll threw, which
      // leaves its tests "skipped") still counts as a failure.
      counts.failed += failedInModule || (mod.state() === 'failed' ? 1 : 0);
    }
    process.stdout.write(`\ntests: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped\n`);
  }
}
