import { AsyncLocalStorage } from 'node:async_hooks';
import type { DataSource, EntityManager, EntitySubscriberInterface } from 'typeorm';

/** One transaction of the queue, from its start to its end. */
interface Turn {
  /** Its manager, once the transaction has begun. */
  manager?: EntityManager;
  /** Settles when the transaction has committed or rolled back. */
  ended: Promise<void>;
}

/**
 * The module's transactions on one SQLite `DataSource`, one at a time.
 *
 * TypeORM gives an SQLite DataSource one connection and one shared query runner: every
 * `dataSource.transaction()` and every statement outside a transaction runs on it. A second
 * transaction begun while one is open (its work awaiting I/O) becomes a savepoint of the first
 * (`transactionSupport: 'nested'`), and statements outside any transaction join whichever one is
 * open: a rollback of one request then undoes writes another request already reported done.
 *
 * Here each transaction waits for the one before it, and, as a TypeORM subscriber (`beforeQuery`),
 * a statement issued outside the open transaction (another request's read or write) waits until it
 * ends, so it is neither absorbed into it nor rolled back with it.
 */
export class SqliteTransactionQueue implements EntitySubscriberInterface {
  private tail: Promise<unknown> = Promise.resolve();
  private current: Turn | undefined;
  private readonly turns = new AsyncLocalStorage<Turn>();

  constructor(private readonly dataSource: DataSource) {
    dataSource.subscribers.push(this);
  }

  /** Runs `work` in a transaction once every transaction queued before it has ended. */
  run<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    const mine = this.turns.getStore();
    // Called from inside the open transaction: queueing would wait for itself. A savepoint of it,
    // which is what the shared query runner made of it before.
    if (mine?.manager && mine === this.current) return mine.manager.transaction(work);
    const result = this.tail.then(() => this.open(work));
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** TypeORM subscriber: a statement from outside the open transaction waits for its end. */
  beforeQuery(): Promise<void> | void {
    if (this.current && this.turns.getStore() !== this.current) return this.outside();
  }

  private async outside(): Promise<void> {
    while (this.current && this.turns.getStore() !== this.current) await this.current.ended;
  }

  private open<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    let end!: () => void;
    const turn: Turn = { ended: new Promise<void>((resolve) => (end = resolve)) };
    this.current = turn;
    const run = () =>
      this.dataSource.transaction((manager) => {
        turn.manager = manager;
        return work(manager);
      });
    return this.turns.run(turn, run).finally(() => {
      this.current = undefined;
      end();
    });
  }
}

const queues = new WeakMap<DataSource, SqliteTransactionQueue>();

/** The queue of `dataSource` (one per DataSource, however many modules share it). */
export function sqliteTransactionQueue(dataSource: DataSource): SqliteTransactionQueue {
  let queue = queues.get(dataSource);
  if (!queue) {
    queue = new SqliteTransactionQueue(dataSource);
    queues.set(dataSource, queue);
  }
  return queue;
}
