/** The project's root folder. */
export declare const ROOT: string;
/** Where builds live: one folder per stamp (git-ignored). */
export declare const BUILT_CLI_DIR: string;
/** A hash of the CLI's sources, manifests and build script, and of the installed dependencies' listing. */
export declare function sourceStamp(root?: string): string;
/** The entry points of the build made from the sources as they are now, or undefined. */
export declare function currentBuild(
  root?: string,
): { stamp: string; dir: string; main: string; lab: string } | undefined;
