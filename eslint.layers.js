// The dependency rule, apart so that its own test (test/architecture.test.ts) lints code against it.
// The layering (docs/architecture.md, "The layers"), enforced: a module imports only from its own layer or
// the layers below it. Each entry: the files of a layer and what they must not import. Folder names are
// unique in the repository, so a relative specifier is recognised by the folder it reaches.
const PACKAGES_OF_ADAPTERS = ['^@aws-sdk/', '^@smithy/', '^mongodb$', '^undici$', '^@aws-lambda-powertools/'];
const folders = (...names) => `(^|/)(${names.join('|')})(/|$)`;
const ABOVE_WIRING = ['estimate', 'ops', 'cli', 'dashboard', 'handlers', 'lab'];
const ABOVE_USE_CASES = ['wiring', ...ABOVE_WIRING];
const ABOVE_ADAPTERS = ['pipeline', 'verify', 'views', ...ABOVE_USE_CASES];
const ABOVE_CONFIG = ['adapters', ...ABOVE_ADAPTERS];
const ABOVE_DOMAIN = ['config\\.ts', ...ABOVE_CONFIG];
const ABOVE_BASE = ['domain', 'hls', 'dash', ...ABOVE_DOMAIN];
const BACKENDS = ['cloudwatch', 'dynamodb', 'memory', 'mongodb', 'origin', 's3', 'sqs', 'ssm'];
const layer = (files, regexes, why) => ({
  files,
  rules: {
    'no-restricted-imports': [
      'error',
      { patterns: regexes.map((regex) => ({ regex, message: `${why} (docs/architecture.md, "The layers")` })) },
    ],
  },
});
export const LAYERS = [
  layer(
    ['src/util/**/*.ts', 'src/errors.ts', 'src/redact.ts', 'src/log.ts'],
    [folders(...ABOVE_BASE)],
    'the base imports nothing of FLAnts above it',
  ),
  layer(
    ['src/domain/**/*.ts', 'src/hls/**/*.ts', 'src/dash/**/*.ts'],
    [folders(...ABOVE_DOMAIN), ...PACKAGES_OF_ADAPTERS],
    'the domain is pure: no settings reader, no adapter, no AWS, MongoDB or HTTP client package',
  ),
  layer(
    ['src/config.ts'],
    [folders(...ABOVE_CONFIG), ...PACKAGES_OF_ADAPTERS],
    "config reads the environment into the domain's words, nothing more",
  ),
  ...BACKENDS.map((b) =>
    layer(
      [`src/adapters/${b}/**/*.ts`],
      [folders(...ABOVE_ADAPTERS), `^\\.\\./(?!${b}/)[^./][^/]*/`],
      "an adapter implements the domain's ports for one backend: it imports no other backend and nothing that uses it",
    ),
  ),
  layer(
    ['src/pipeline/**/*.ts', 'src/verify/**/*.ts', 'src/views/**/*.ts'],
    [folders('adapters', ...ABOVE_USE_CASES)],
    "a use case is wired from above: it names the domain's ports (src/domain/ports), never an adapter, its wiring or its callers",
  ),
  layer(
    ['src/wiring/**/*.ts'],
    [folders(...ABOVE_WIRING)],
    'the wiring builds the concrete clients for the commands and handlers above it',
  ),
  layer(
    ['src/dashboard/**/*.ts'],
    [folders('estimate', 'ops', 'cli', 'handlers', 'lab')],
    'a view is called by the CLI and handlers, never the other way',
  ),
  layer(
    ['src/estimate/**/*.ts'],
    [folders('dashboard', 'cli', 'handlers', 'lab')],
    "a command's engine is called by the CLI, never the other way",
  ),
  layer(
    ['src/ops/**/*.ts', 'src/cli/**/*.ts', 'handlers/**/*.ts'],
    [folders('lab')],
    'the product never imports the lab',
  ),
  // The live page's script (src/dashboard/browser/) is bundled for a browser: it reaches the server's code
  // only through shared.ts, and shared.ts only the pure progress.ts and format.ts (no package, no Node API).
  {
    ...layer(
      ['src/dashboard/browser/**/*.ts'],
      ['^(?!\\./[^/]+$)'],
      "the page's script imports its own modules, and the server's arithmetic through shared.ts",
    ),
    ignores: ['src/dashboard/browser/shared.ts'],
  },
  layer(
    ['src/dashboard/browser/shared.ts'],
    ['^(?!\\.\\./(progress|format)\\.ts$)'],
    "the page shares only the dashboard's pure modules, progress.ts and format.ts",
  ),
];
