import { AsyncLocalStorage } from 'node:async_hooks';
import type {
  DataSource,
  EntityManager,
  EntitySubscriberInterface,
  TransactionCommitEvent,
  TransactionRollbackEvent,
} from 'typeorm';

/** One transaction of the queue, from its start to its end. */
interface Turn {
  /** Its manager, once the transaction has begun. */
  manager?: EntityManager;
  /** Settles when the transaction has committed or rolled back. */
  ended: Promise<void>;
  /** Settles {@link ended}. */
  end: () => void;
  /** Committed or rolled back: statements from outside no longer wait for it. */
  over: boolean;
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
 * ends, so it is neither absorbed into it nor rolled back with it. It ends at its COMMIT or ROLLBACK
 * (`afterTransactionCommit`/`afterTransactionRollback`), not when the work after the commit is done
 * (sending a session invalidation to the other instances): nothing is open then to be absorbed into.
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
    if (this.waits()) return this.outside();
  }

  /** TypeORM subscriber: the open transaction's COMMIT ends it for statements from outside. */
  afterTransactionCommit(event: TransactionCommitEvent): void {
    this.over(event);
  }

  /** TypeORM subscriber: so does its ROLLBACK. */
  afterTransactionRollback(event: TransactionRollbackEvent): void {
    this.over(event);
  }

  /** Whether a statement issued now is from outside a transaction that is still open. */
  private waits(): boolean {
    return this.current !== undefined && !this.current.over && this.turns.getStore() !== this.current;
  }

  private async outside(): Promise<void> {
    while (this.waits()) await this.current!.ended;
  }

  /** The current turn's outermost transaction has committed or rolled back (not a savepoint, not another's). */
  private over(event: TransactionCommitEvent | TransactionRollbackEvent): void {
    const turn = this.current;
    if (!turn || event.queryRunner.isTransactionActive || this.turns.getStore() !== turn) return;
    turn.over = true;
    turn.end();
  }

  private open<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    let end!: () => void;
    const ended = new Promise<void>((resolve) => (end = resolve));
    const turn: Turn = { ended, end, over: false };
    this.current = turn;
    const run = () =>
      this.dataSource.transaction((manager) => {
        turn.manager = manager;
        return work(manager);
      });
    return this.turns.run(turn, run).finally(() => {
      this.current = undefined;
      turn.over = true;
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
