// What the launcher decided (shared by its two steps).
export interface LaunchChoice {
  /** Absolute path of the dist/cli.js to import. */
  entry: string;
  /** The slot used, or undefined for the installed build. */
  slot?: string;
  version?: string;
  /** One line for stderr, or undefined to stay quiet. */
  notice?: string;
}
