// Lint rules for the whole repository, including the module-boundary table of STYLE.md §3.
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

/** Imports each part of the tree must never make (STYLE.md §3). */
const boundaries = [
  {
    files: ['packages/wechat/**'],
    forbidden: [
      'fastify',
      'fastify-plugin',
      'kysely',
      'ioredis',
      'mysql2',
      'better-sqlite3',
      '@wxgate/*',
    ],
  },
  {
    files: ['packages/internal-api/**'],
    forbidden: ['fastify', 'kysely', 'ioredis', 'mysql2', 'better-sqlite3', '@wxgate/*'],
  },
  {
    files: ['packages/config/**'],
    forbidden: ['fastify', 'kysely', 'ioredis', 'undici', '@wxgate/*'],
  },
  {
    files: ['packages/service-kit/**'],
    forbidden: [
      'kysely',
      'mysql2',
      'better-sqlite3',
      '@wxgate/wechat',
      '@wxgate/app',
      '@wxgate/gateway',
    ],
  },
  {
    files: ['services/gateway/**'],
    forbidden: ['kysely', 'mysql2', 'better-sqlite3', '@wxgate/app', '**/services/app/**'],
  },
  { files: ['services/app/**'], forbidden: ['@wxgate/gateway', '**/services/gateway/**'] },
  {
    files: ['simulator/**'],
    forbidden: ['@wxgate/app', '@wxgate/gateway', '**/services/**', 'kysely'],
  },
  {
    files: ['e2e/**', 'bench/**'],
    forbidden: ['**/services/*/src/**', '**/simulator/src/**', '**/packages/*/src/**'],
  },
]

export default tseslint.config(
  { ignores: ['node_modules/**', 'data/**', 'coverage/**', '**/*.mjs', 'docs/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['eslint.config.js'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      'no-empty': ['error', { allowEmptyCatch: false }],
    },
  },
  {
    // node:test's describe/it return promises the runner awaits itself.
    files: ['**/*.test.ts', 'e2e/**/*.ts'],
    rules: { '@typescript-eslint/no-floating-promises': 'off' },
  },
  ...boundaries.map(({ files, forbidden }) => ({
    files,
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { patterns: [{ group: forbidden, message: 'crosses a module boundary (STYLE.md §3)' }] },
      ],
    },
  })),
)
