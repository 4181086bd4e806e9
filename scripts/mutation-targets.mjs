// The mutation-testing targets (stryker.config.js, scripts/mutation.mjs, docs/testing.md).

/**
 * The targets: the files mutated and the unit tests that must kill the mutants on their own. Only these
 * tests run against a mutant, so a target's score says what its own tests pin down, and a run stays
 * within minutes.
 */
export const TARGETS = {
  chunking: {
    mutate: ['src/domain/planning/chunking.ts'],
    testFiles: ['test/domain/planning/chunking.test.ts'],
  },
  'class-rules': {
    mutate: ['src/domain/planning/class-rules.ts'],
    testFiles: ['test/domain/planning/class-rules*.test.ts'],
  },
  hosts: {
    mutate: ['src/domain/origin/hosts.ts'],
    testFiles: ['test/security/addresses.test.ts', 'test/security/allow-list*.test.ts'],
  },
  addresses: {
    mutate: ['src/domain/origin/addresses.ts'],
    testFiles: ['test/security/addresses.test.ts', 'test/security/blocked-ranges*.test.ts'],
  },
  hls: {
    mutate: [
      'src/hls/enumerate.ts',
      'src/hls/scan.ts',
      'src/hls/keys.ts',
      'src/hls/attributes.ts',
      'src/hls/lines.ts',
      'src/hls/variables.ts',
    ],
    testFiles: [
      'test/hls/enumerate.test.ts',
      'test/hls/scan.test.ts',
      'test/hls/keys.test.ts',
      'test/hls/handmade.test.ts',
      'test/hls/fixtures.test.ts',
      'test/hls/property.test.ts',
      'test/hls/rules-*.test.ts',
      'test/hls/reference-digest.test.ts',
    ],
  },
  // DASH addressing (templates, timelines, counts, durations) and the MPD scanner (issue 24, docs/dash.md).
  dash: {
    mutate: ['src/dash/template.ts', 'src/dash/scan.ts', 'src/dash/hosts.ts'],
    testFiles: [
      'test/dash/template.test.ts',
      'test/dash/scan.test.ts',
      'test/dash/enumerate.test.ts',
      'test/dash/fixtures.test.ts',
      'test/dash/config.test.ts',
      'test/dash/pipeline.test.ts',
    ],
  },
  lifecycle: {
    mutate: ['src/domain/lifecycle/class-lifecycle.ts'],
    testFiles: ['test/domain/lifecycle/class-lifecycle*.test.ts'],
  },
  verify: {
    mutate: ['src/verify/findings.ts'],
    testFiles: ['test/verify/findings.test.ts'],
  },
  lanes: {
    mutate: ['src/domain/lifecycle/lanes.ts', 'src/estimate/fresh-lane.ts'],
    testFiles: ['test/domain/lifecycle/lanes.test.ts', 'test/estimate/fresh-lane.test.ts'],
  },
  // A queue's age from CloudWatch (issue 25): which datapoint counts, and when it was measured.
  'queue-age': {
    mutate: ['src/domain/lifecycle/queue-age.ts'],
    testFiles: ['test/domain/lifecycle/queue-age.test.ts'],
  },
  // With the byte pacing of the gate, by line range (update them when gate.ts moves): the bucket a host
  // starts with, what a request prepays and how it is paid, the refund of an answer shorter than its
  // prepayment and the sizes it remembers, and the pacer's credit for prepaid bytes.
  politeness: {
    mutate: [
      'src/domain/origin/politeness.ts',
      'src/pipeline/deferral.ts',
      'src/domain/origin/gate.ts:121-121',
      'src/domain/origin/gate.ts:151-169',
      'src/domain/origin/gate.ts:199-210',
      'src/domain/origin/gate.ts:238-248',
    ],
    testFiles: ['test/domain/origin/politeness.test.ts'],
  },
  integrity: {
    mutate: ['src/pipeline/integrity.ts', 'src/pipeline/body-checker.ts'],
    testFiles: [
      'test/pipeline/body-checker.test.ts',
      'test/security/sse-kms.test.ts',
      'test/pipeline/integrity.test.ts',
    ],
  },
  // Issue 21: the rules behind the operator's first-hour messages (file accounting, DLQ advice, queue
  // drift, estimate arguments, freshness line, redrive lines, plain progress, the lab's env file).
  'first-hour': {
    mutate: [
      'src/views/accounting.ts',
      'src/dashboard/dlq-advice.ts',
      'src/ops/queue-drift.ts',
      'src/estimate/arguments.ts',
      'src/dashboard/freshness-line.ts',
      'src/cli/redrive-line.ts',
      'src/util/plural.ts',
      'lab/plain-progress.ts',
      'lab/lab-env.ts',
      'lab/settle-wait.ts',
    ],
    testFiles: ['test/views/first-hour.test.ts', 'test/lab/settle-wait.test.ts'],
  },
  'ledger-expressions': {
    mutate: ['src/adapters/dynamodb/ledger-expressions.ts'],
    testFiles: ['test/adapters/dynamodb/ledger-expressions.test.ts'],
  },
  // The origin client's guards, whole files (see docs/testing.md): the redirect statuses, the allow-list
  // check on every hop and the redirect loop (requester.ts), the encodings refused, framing and validators
  // (headers.ts), error classification (http-errors.ts, answers.ts). Its tests cover the size caps in
  // fetchText/openStream too.
  'origin-client': {
    mutate: [
      'src/adapters/origin/requester.ts',
      'src/adapters/origin/headers.ts',
      'src/adapters/origin/http-errors.ts',
      'src/adapters/origin/answers.ts',
    ],
    testFiles: [
      'test/security/origin-client.test.ts',
      'test/security/addresses.test.ts',
      'test/adapters/origin/http-errors.test.ts',
      'test/adapters/origin/headers.test.ts',
    ],
  },
};
