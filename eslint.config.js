// Lint with zero warnings (`--max-warnings 0`): type-aware rules catch floating promises and
// unsafe `any` flows, the two bug classes an event-driven bridge is most prone to.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'web/dist/**', 'eslint.config.js', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-imports': ['error', { patterns: [{ regex: '^(fs|net|http|https|tls|dns|os|path|crypto|events|child_process|stream|url|util|timers|cluster|readline|assert|zlib|buffer|process|test)(/.*)?$', message: 'Use the node: prefix for built-in modules.' }] }],
      eqeqeq: ['error', 'smart'],
    },
  },
  {
    // Build scripts are plain ESM for Node, outside every tsconfig: lint them without types.
    files: ['scripts/**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      parserOptions: { projectService: false, project: null },
      globals: { process: 'readonly', console: 'readonly', URL: 'readonly' },
    },
  },
);
