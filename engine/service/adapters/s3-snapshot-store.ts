import { GetObjectCommand, NoSuchKey, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ServiceSnapshot, SnapshotStore } from '../ports';

/**
 * Engine snapshots in S3: each snapshot under its own key (kept by the bucket's lifecycle rule for replay),
 * then `latest.json` pointing at it, so a crash between the two writes leaves the previous latest intact.
 */
export class S3SnapshotStore implements SnapshotStore {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  async save(snapshot: ServiceSnapshot): Promise<void> {
    const key = `snapshots/${snapshot.shard}/${String(snapshot.takenAt).padStart(15, '0')}.json`;
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: JSON.stringify(snapshot),
        ContentType: 'application/json',
      }),
    );
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: `snapshots/${snapshot.shard}/latest.json`,
        Body: JSON.stringify({ key }),
        ContentType: 'application/json',
      }),
    );
  }

  async loadLatest(shard: string): Promise<ServiceSnapshot | undefined> {
    const pointer = await this.getJson<{ key: string }>(`snapshots/${shard}/latest.json`);
    if (!pointer) return undefined;
    const snapshot = await this.getJson<ServiceSnapshot>(pointer.key);
    if (!snapshot || snapshot.v !== 1 || snapshot.shard !== shard) {
      throw new Error(`snapshot ${pointer.key} is missing or not a v1 snapshot of ${shard}`);
    }
    return snapshot;
  }

  private async getJson<T>(key: string): Promise<T | undefined> {
    try {
      const out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return JSON.parse(
        await (out.Body as { transformToString(): Promise<string> }).transformToString(),
      ) as T;
    } catch (err) {
      if (err instanceof NoSuchKey || (err as { name?: string }).name === 'NoSuchKey') return undefined;
      throw err;
    }
  }
}
