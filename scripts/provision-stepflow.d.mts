/** Versions provisioned when the CLI gets no arguments. */
export declare const DEFAULT_VERSIONS: string[];
/** `<repo>/.cache/stepflow`: one folder per requested version. */
export declare const cacheRoot: string;
/** Missing python3/pip, no wheel, or a broken wheel. */
export declare class ProvisionError extends Error {}
/** Path of a cached `stepflow-server` for `version`, downloading it when needed. */
export declare function provisionStepflow(version: string): string;
/** The version actually installed for a requested version (fallback rule for 0.9–0.11). */
export declare function provisionedVersion(version: string): string | undefined;
