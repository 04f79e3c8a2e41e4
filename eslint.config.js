// ESLint 10 flat config. Formatting is Prettier's job (see .prettierrc.json); eslint-config-prettier
// switches off every stylistic rule that would fight it, so it must stay last.
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

/** The Node.js globals the plain .js files (this file, jest.config.js, test/summary-reporter.js) use. */
const nodeGlobals = Object.fromEntries(
  [
    'process',
    'console',
    'Buffer',
    'URL',
    'URLSearchParams',
    'setTimeout',
    'clearTimeout',
    'setInterval',
    'clearInterval',
    'setImmediate',
    'clearImmediate',
    'structuredClone',
    'fetch',
  ].map((name) => [name, 'readonly']),
);

export default defineConfig([
  globalIgnores([
    'node_modules/',
    'dist/',
    'dist-sample/',
    'dist-check/',
    'coverage/',
    'test-artifacts/',
    'bench/results*',
  ]),

  js.configs.recommended,
  tseslint.configs.recommended,

  {
    files: ['**/*.{js,mjs,cjs,ts,mts,cts}'],
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'module',
      globals: nodeGlobals,
    },
    linterOptions: {
      reportUnusedDisableDirectives: 'error',
    },
    rules: {
      // Nest services are often `constructor(private readonly x: X) {}`, and lifecycle hooks may be empty.
      'no-useless-constructor': 'off',
      '@typescript-eslint/no-useless-constructor': 'off',
      'no-empty-function': 'off',
      '@typescript-eslint/no-empty-function': 'off',
      // Nest modules are decorated empty classes.
      '@typescript-eslint/no-extraneous-class': 'off',
      'no-unused-vars': 'off',
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          args: 'after-used',
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'prefer-const': 'error',
      'no-var': 'error',
    },
  },

  // The library itself.
  {
    files: ['src/**/*.ts'],
    rules: {
      // Secrets, tokens and OTP codes come from node:crypto (see src/crypto), never from Math.random.
      'no-restricted-properties': [
        'error',
        {
          object: 'Math',
          property: 'random',
          message: 'Use node:crypto (randomBytes / randomInt) via src/crypto; Math.random is not a CSPRNG.',
        },
      ],
      // A library logs through Nest's Logger, so the host application controls output.
      'no-console': 'error',
      '@typescript-eslint/no-explicit-any': 'warn',
    },
  },
  // Type-aware checks, only where they matter most and only the cheap, low-noise ones: an un-awaited
  // promise in the auth flow (a session not revoked, a hook not run) is a security bug.
  {
    files: ['src/**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': [
        'error',
        { checksVoidReturn: { arguments: false, attributes: false } },
      ],
      '@typescript-eslint/await-thenable': 'error',
    },
  },
  // A command-line entry point may print.
  {
    files: ['src/cli/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
  // TypeORM's `entities` and `migrations` options are typed with `Function`; the lists exported for them match it.
  {
    files: ['src/entities/**/*.ts', 'src/migrations/**/*.ts'],
    rules: { '@typescript-eslint/no-unsafe-function-type': 'off' },
  },

  // Tests, the sample app, benchmarks and tooling.
  {
    files: ['test/**/*.{ts,js}', 'sample/**/*.ts', 'bench/**/*.{ts,js}', '*.{js,ts}'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },

  prettier,
]);
