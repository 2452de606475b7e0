// Test order for mutation runs: unit suites first, property suites last. Stryker stops a mutant's run at the
// first failing suite (bail), so mutants the quick unit tests kill never wait for the property tests.
import TestSequencer from '@jest/test-sequencer';

const Sequencer = TestSequencer.default ?? TestSequencer;
const weight = (path) => (path.includes('/test/property/') ? 1 : 0);

export default class UnitFirst extends Sequencer {
  sort(tests) {
    return [...tests].sort((a, b) => weight(a.path) - weight(b.path) || a.path.localeCompare(b.path));
  }
}
