// Lint rules for Conveyor. The import zones of DESIGN.md §3 are enforced here, not in review:
// pipeline/ is pure, workflows/ may only import the workflow SDK, pipeline/ and activity *types*.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';

const nodeBuiltins = [
  'assert',
  'buffer',
  'child_process',
  'cluster',
  'crypto',
  'dgram',
  'dns',
  'events',
  'fs',
  'fs/promises',
  'http',
  'http2',
  'https',
  'net',
  'os',
  'path',
  'perf_hooks',
  'process',
  'readline',
  'stream',
  'timers',
  'tls',
  'tty',
  'url',
  'util',
  'v8',
  'vm',
  'worker_threads',
  'zlib',
];
const builtinPatterns = [...nodeBuiltins, ...nodeBuiltins.map((name) => `node:${name}`)];

export default tseslint.config(
  { ignores: ['node_modules/**', '.conveyor/**', 'dist/**', 'docs/**', 'examples/node-project/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { 'import-x': importX },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        // node:test's describe/it return promises the runner itself tracks.
        {
          allowForKnownSafeCalls: [
            { from: 'package', name: ['describe', 'it', 'test', 'suite'], package: 'node:test' },
          ],
        },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'always'],
      'import-x/no-cycle': 'error',
    },
  },
  {
    // deploy/ holds the deployment engine's pure parts (spec, plans, the rollout state machine, statistics), and
    // investigate/ the investigation's (incident model, fingerprints, cause catalogue, reports): workflows import
    // them, so they obey pipeline/'s rules.
    files: ['pipeline/**/*.ts', 'deploy/**/*.ts', 'investigate/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: builtinPatterns.map((name) => ({
            name,
            message: 'pipeline/ and deploy/ are pure: no Node builtins.',
          })),
          patterns: [
            {
              group: [
                '../activities/*',
                '../workflows/*',
                '../client/*',
                '../workers/*',
                '../router/*',
                '../config/*',
                '@temporalio/*',
              ],
              message: 'pipeline/ and deploy/ import nothing with side effects.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            ...builtinPatterns.map((name) => ({
              name,
              message: 'workflows/ must stay deterministic: no Node builtins.',
            })),
            ...['../pipeline', '../pipeline/index'].map((name) => ({
              name,
              message:
                "import the pipeline/ module you need: the index pulls the parser (zod, yaml) into every workflow's bundle.",
            })),
          ],
          patterns: [
            {
              group: [
                '../client/*',
                '../workers/*',
                '@temporalio/client',
                '@temporalio/worker',
                '@temporalio/activity',
                'dockerode',
                'minio',
              ],
              message:
                'workflows/ imports only @temporalio/workflow, @temporalio/common, pipeline/ and activity types.',
            },
            {
              group: ['../activities/*'],
              allowTypeImports: true,
              message: 'workflows/ may import only *types* from activities/.',
            },
          ],
        },
      ],
    },
  },
  {
    // The web view's scripts run in the browser, as they are (no build step).
    files: ['server/web/assets/**/*.js'],
    languageOptions: {
      sourceType: 'script',
      globals: Object.fromEntries(
        [
          'document',
          'window',
          'location',
          'history',
          'EventSource',
          'fetch',
          'setInterval',
          'clearInterval',
          'setTimeout',
          'clearTimeout',
          'console',
          'URLSearchParams',
          'FormData',
        ].map((name) => [name, 'readonly']),
      ),
    },
  },
);
