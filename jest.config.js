// Test tiers by file suffix beside the code: *.unit.spec.ts (pure, no I/O) and
// *.int.spec.ts (real broker and registry, started by infra/). `make test` runs both.
const transform = { '^.+\\.tsx?$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' } }] };
module.exports = {
  projects: [
    { displayName: 'unit', testMatch: ['<rootDir>/**/*.unit.spec.ts'], testPathIgnorePatterns: ['/node_modules/', '/.infra/'], transform, testEnvironment: 'node' },
    {
      displayName: 'int',
      testMatch: ['<rootDir>/**/*.int.spec.ts'],
      testPathIgnorePatterns: ['/node_modules/', '/.infra/'],
      transform,
      testEnvironment: 'node',
      globalSetup: '<rootDir>/test/global-setup.ts',
      slowTestThreshold: 30,
    },
  ],
  // Integration tests wait on conditions with their own deadlines; this only stops a hung test.
  testTimeout: 120_000,
  coverageProvider: 'v8',
  collectCoverageFrom: ['services/core/**/*.ts', '!**/*.spec.ts', '!**/*.fixture.ts'],
  coverageReporters: ['text-summary', 'text'],
};
