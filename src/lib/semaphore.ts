// At most `limit` holders at once; the rest wait in the order they came. A waiter whose
// signal aborts leaves the line without taking a place.
interface Waiter {
  grant: () => void;
  /** Its signal aborted while it waited: it is skipped. */
  aborted: boolean;
}

export class Semaphore {
  private held = 0;
  /** Waiters in arrival order from `head` on (a queue without shifting the array). */
  private waiters: (Waiter | undefined)[] = [];
  private head = 0;

  constructor(private readonly limit: number) {}

  get inUse(): number {
    return this.held;
  }

  get waiting(): number {
    let n = 0;
    for (let i = this.head; i < this.waiters.length; i++) if (this.waiters[i] && !this.waiters[i]!.aborted) n++;
    return n;
  }

  /** Resolves to the function that gives the place back (call it once); rejects if `signal` aborts first. */
  acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.held < this.limit && this.head === this.waiters.length) {
      this.held++;
      return Promise.resolve(this.releaser());
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        aborted: false,
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve(this.releaser());
        },
      };
      const onAbort = () => {
        waiter.aborted = true;
        reject(signal!.reason);
      };
      this.waiters.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.held--;
      this.grantNext();
    };
  }

  private grantNext(): void {
    while (this.held < this.limit && this.head < this.waiters.length) {
      const next = this.waiters[this.head];
      this.waiters[this.head++] = undefined; // the line holds no one it has let through
      if (!next || next.aborted) continue;
      this.held++;
      next.grant();
    }
    // The passed part of the line goes once it is most of it (the line may never empty).
    if (this.head === this.waiters.length) {
      this.waiters = [];
      this.head = 0;
    } else if (this.head > 1_024 && this.head > this.waiters.length / 2) {
      this.waiters = this.waiters.slice(this.head);
      this.head = 0;
    }
  }
}
