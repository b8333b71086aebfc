// The package version, kept in one place for `--version` and doctor.
export const VERSION = '0.1.0';
