/** A CRC32 as S3 writes it in checksum headers and answers: base64 of its four big-endian bytes. */
export function crc32Base64(value: number): string {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(value >>> 0);
  return b.toString('base64');
}
