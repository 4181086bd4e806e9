import { isFetchableScheme, isHostAllowed } from '../domain/origin/hosts.ts';

/**
 * Which BaseURL of several at one level the crawler follows: the first on an allowed host
 * (relative ones always are; file: ones too, as a local plan reads them). The transfer and the
 * change check digest a manifest read again with the same rule, so all three pick the same one.
 */
export function baseUrlRule(allowedHosts: readonly string[] | undefined): (url: URL) => boolean {
  if (allowedHosts === undefined) return () => true;
  return (url) => !isFetchableScheme(url) || isHostAllowed(url, allowedHosts);
}

/** What reading a manifest again needs to read it as the crawl did: the hosts (BaseURL choice) and the bounds. */
export interface MpdRules {
  allowedHosts?: readonly string[] | undefined;
  maxPeriods?: number | undefined;
  maxSegments?: number | undefined;
  maxReferences?: number | undefined;
}

/** References one manifest may name, repeats included, per file a class may have (HLS_MAX_FILES). */
export const REFERENCES_PER_FILE = 4;

/** The rules of the running configuration. */
export function mpdRulesOf(cfg: {
  originAllowedHosts: readonly string[];
  hls: { maxFiles: number; maxPeriods?: number | undefined; maxSegments?: number | undefined };
}): MpdRules {
  return {
    allowedHosts: cfg.originAllowedHosts,
    maxPeriods: cfg.hls.maxPeriods,
    maxSegments: cfg.hls.maxSegments,
    maxReferences: cfg.hls.maxFiles * REFERENCES_PER_FILE,
  };
}
