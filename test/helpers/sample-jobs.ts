import type { LocalPipeline } from '../../lab/local-pipeline.ts';
import { crawlJob } from '../../src/domain/jobs/envelopes.ts';
import type { CrawlJob } from '../../src/domain/jobs/schemas.ts';

/**
 * The crawl job the scanner sends for class `index` of a local pipeline's library, plus the test's own
 * fields (endedAt, requestedAt): the tests that send crawls by hand would otherwise each spell it out.
 */
export function sampleCrawlJob(
  p: Pick<LocalPipeline, 'library' | 'origin'>,
  index: number,
  fields: Partial<Pick<CrawlJob, 'endedAt' | 'requestedAt' | 'force' | 'recheck'>> = {},
): CrawlJob {
  const cls = p.library.classes[index]!;
  return crawlJob({ classId: cls.id, manifestUrl: `${p.origin.url}${cls.manifestPath}`, title: cls.title, ...fields });
}
