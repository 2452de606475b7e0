// How hard the property tests work. The default profile is what `npm test` runs; the fast profile
// (CIRRUS_PROPERTY_PROFILE=fast) is for mutation testing (npm run test:mutation), which runs the suites
// once per mutant: fewer and shorter runs, fixed seeds only, the same assertions.
export const FAST = process.env.CIRRUS_PROPERTY_PROFILE === 'fast';

/** `normal` in the default profile, `fast` in the fast one. */
export const profile = <T>(normal: T, fast: T): T => (FAST ? fast : normal);
