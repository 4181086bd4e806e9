/**
 * Names the S3 operation of a path-style REST request as the wire shows it (method, path, query),
 * for the lab's proxies: tests and benchmarks count and check what reached S3 whatever client sent
 * it, the SDK or the transfer's own PutObject sender.
 */
export interface S3Operation {
  /** The API name, e.g. PutObject, UploadPart, HeadObject, ListObjectsV2. */
  operation: string;
  bucket: string;
  /** The object key, decoded; empty for bucket operations. */
  key: string;
}

/** The operation a path-style S3 request makes. */
export function s3Operation(
  method: string | undefined,
  rawUrl: string | undefined,
  headers: Record<string, string | string[] | undefined>,
): S3Operation {
  const u = new URL(rawUrl ?? '/', 'http://s3.invalid');
  const q = u.searchParams;
  const [bucket = '', ...rest] = u.pathname.split('/').slice(1);
  const key = rest.map(decodeURIComponent).join('/');
  const object = key !== '';
  const name = (): string => {
    switch (method) {
      case 'PUT':
        if (q.has('partNumber')) return 'UploadPart';
        if (headers['x-amz-copy-source']) return 'CopyObject';
        return object ? 'PutObject' : 'CreateBucket';
      case 'POST':
        if (q.has('uploads')) return 'CreateMultipartUpload';
        if (q.has('uploadId')) return 'CompleteMultipartUpload';
        if (q.has('delete')) return 'DeleteObjects';
        return 'POST';
      case 'DELETE':
        if (q.has('uploadId')) return 'AbortMultipartUpload';
        return object ? 'DeleteObject' : 'DeleteBucket';
      case 'HEAD':
        return object ? 'HeadObject' : 'HeadBucket';
      case 'GET':
        if (object) return 'GetObject';
        return q.get('list-type') === '2' ? 'ListObjectsV2' : 'ListObjects';
      default:
        return method ?? '?';
    }
  };
  return { operation: name(), bucket, key };
}
