import { type FindOptionsWhere, In, IsNull, LessThan, Not, type ObjectLiteral, type Repository } from 'typeorm';

/**
 * Runs `change` on the ids of rows matching `where`, `batchSize` at a time, until none is left, and
 * returns how many rows it changed. `change` must take the rows out of `where`, or the loop would
 * see them again. Retention's batched deletes and erasures share it.
 */
export async function inBatches<T extends ObjectLiteral & { id: string }>(
  repository: Repository<T>,
  where: FindOptionsWhere<T> | FindOptionsWhere<T>[],
  batchSize: number,
  change: (ids: string[]) => Promise<{ affected?: number | null }>,
): Promise<number> {
  let total = 0;
  for (;;) {
    const batch = await repository.find({ select: { id: true } as never, where, take: batchSize });
    if (batch.length === 0) return total;
    total += (await change(batch.map((row) => row.id))).affected ?? batch.length;
    if (batch.length < batchSize) return total;
  }
}

/**
 * Sets the client columns (`ipColumn` and `userAgent`) of rows created before `before` to NULL,
 * `batchSize` rows per UPDATE. Only rows that still hold one are touched, so each batch makes
 * progress and a second run changes nothing. Returns how many rows it changed.
 */
export function eraseClientDetailsBefore<T extends ObjectLiteral & { id: string }>(
  repository: Repository<T>,
  ipColumn: 'ip' | 'ipAddress',
  before: Date,
  batchSize: number,
): Promise<number> {
  const old = { createdAt: LessThan(before) };
  const where = [
    { ...old, [ipColumn]: Not(IsNull()) },
    { ...old, userAgent: Not(IsNull()) },
  ] as unknown as FindOptionsWhere<T>[];
  return inBatches(repository, where, batchSize, (ids) =>
    repository.update({ id: In(ids) } as never, { [ipColumn]: null, userAgent: null } as never),
  );
}
