// ESLint flat config: typescript-eslint's recommended rules over all TypeScript sources.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

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
  {
    files: ['engine/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
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
            { group: ['../*'], message: 'engine/core imports nothing outside engine/core.' },
          ],
        },
      ],
    },
  },
  {
    files: ['lambdas/**/*.ts', 'engine/service/**/*.ts', 'local/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/lib/*', '**/lib', 'aws-cdk-lib', 'aws-cdk-lib/*', 'constructs'],
              message:
                'Runtime code never imports the CDK app (lib/): shared definitions live in contracts/.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['lib/**/*.ts', 'bin/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/lambdas/*', '**/local/*', '**/engine/service/*'],
              message:
                'The CDK app imports no handler or runtime code: shared definitions live in contracts/.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['contracts/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                '**/lib/*',
                '**/lambdas/*',
                '**/local/*',
                '**/engine/service/*',
                '@aws-sdk/*',
                'aws-cdk-lib',
                'aws-cdk-lib/*',
              ],
              message: 'contracts/ is neutral: plain definitions both sides import, importing neither side.',
            },
          ],
        },
      ],
    },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
);
