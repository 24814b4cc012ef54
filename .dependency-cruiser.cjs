/**
 * The module graph's rules (`npm run depcruise`; test/architecture.test.ts runs them in `npm test`).
 * Paths are relative to the directory cruised from, so the test can check the same rules on a fixture.
 * Type-only imports count: a cycle through types is still a cycle a reader has to untangle.
 * @type {import('dependency-cruiser').IConfiguration}
 */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'No file imports itself through others: shared pieces move down to where both ends can import them.',
      from: { path: '^src/' },
      to: { circular: true }
    },
    {
      name: 'no-circular-modules',
      severity: 'error',
      comment:
        'Modules depend on each other in one direction only: the other way goes through a port (a narrow interface ' +
        'the lower module declares and the upper one provides in its manifest) or a moved type.',
      scope: 'folder',
      from: { path: '^src/modules/[^/]+' },
      to: { path: '^src/modules/[^/]+', circular: true }
    },
    {
      name: 'lib-stays-below',
      severity: 'error',
      comment: 'src/lib (and auth, db, config) are the floor: they know no module, service, plugin or entry.',
      from: { path: '^src/(lib|auth|db)/|^src/config\\.ts$' },
      to: { path: '^src/(modules|plugins|jobs)/|^src/(services|app|server|scheduler|openapi)\\.ts$' }
    },
    {
      name: 'modules-stay-below-adapters',
      severity: 'error',
      comment:
        'Modules are built by the app and the scheduler, never the other way: no plugins, entries or the service assembly.',
      from: { path: '^src/modules/' },
      to: { path: '^src/plugins/|^src/(services|app|server|scheduler|openapi)\\.ts$|^src/modules/index\\.ts$' }
    },
    {
      name: 'job-machinery-knows-no-module',
      severity: 'error',
      comment: 'The work queue and runner take jobs as data; only the job list (jobs/index.ts) reads the module list.',
      from: { path: '^src/jobs/', pathNot: '^src/jobs/index\\.ts$' },
      to: { path: '^src/modules/|^src/(services|app|server|scheduler)\\.ts$' }
    }
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' }
  }
}
