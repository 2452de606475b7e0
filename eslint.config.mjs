// ESLint flat config: typescript-eslint's recommended rules over all TypeScript sources.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** A no-restricted-imports block for `files`: its own patterns plus the one against deep relative imports. */
function restrictImports(files, patterns) {
  return {
    files,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ...patterns,
            {
              // Files at the repository root (jest.config.ts) have no alias.
              group: ['../../*', '!../../jest.config'],
              message:
                'Use a path alias (tsconfig.json paths), not ../../: @contracts/…, @engine/…, @lambdas/….',
            },
          ],
        },
      ],
    },
  };
}

export default tseslint.config(
  { ignores: ['.scratch/**', 'node_modules/**', 'dist/**', 'cdk.out/**', 'coverage/**', '.cirrus/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.mjs'],
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', setTimeout: 'readonly', setInterval: 'readonly' },
    },
  },
  // Import boundaries (docs/architecture.md#code-map); test/unit/import-boundaries.test.ts proves each fails.
  // Every folder also refuses relative imports that climb two levels or more: those use the path aliases of
  // tsconfig.json (@contracts/…, @engine/…, @lambdas/…, @lib/…, @local/…, @test/…). Flat config replaces a
  // rule's options per matching block, so each block below repeats that pattern.
  restrictImports(['**/*.ts'], []),
  restrictImports(
    ['engine/core/**/*.ts'],
    [
      {
        group: [
          '@aws-sdk/*',
          '@smithy/*',
          'aws-cdk-lib',
          'aws-cdk-lib/*',
          'constructs',
          '@aws-lambda-powertools/*',
          'pg',
        ],
        message: 'engine/core is the pure matching core: no AWS, database or framework imports.',
      },
      {
        group: ['../*', '@contracts/*', '@engine/*', '@lambdas/*', '@lib/*', '@local/*', '@test/*'],
        message: 'engine/core imports nothing outside engine/core.',
      },
    ],
  ),
  restrictImports(
    ['lambdas/**/*.ts', 'engine/service/**/*.ts', 'local/**/*.ts'],
    [
      {
        group: ['**/lib/*', '**/lib', '@lib/*', 'aws-cdk-lib', 'aws-cdk-lib/*', 'constructs'],
        message: 'Runtime code never imports the CDK app (lib/): shared definitions live in contracts/.',
      },
    ],
  ),
  restrictImports(
    ['lib/**/*.ts', 'bin/**/*.ts'],
    [
      {
        group: [
          '**/lambdas/*',
          '**/local/*',
          '**/engine/service/*',
          '@lambdas/*',
          '@local/*',
          '@engine/service/*',
        ],
        message: 'The CDK app imports no handler or runtime code: shared definitions live in contracts/.',
      },
    ],
  ),
  restrictImports(
    ['contracts/**/*.ts'],
    [
      {
        group: [
          '**/lib/*',
          '**/lambdas/*',
          '**/local/*',
          '**/engine/service/*',
          '@lib/*',
          '@lambdas/*',
          '@local/*',
          '@engine/service/*',
          '@aws-sdk/*',
          'aws-cdk-lib',
          'aws-cdk-lib/*',
        ],
        message: 'contracts/ is neutral: plain definitions both sides import, importing neither side.',
      },
    ],
  ),
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
);
