/** A counting semaphore: at most `max` operations in flight; `acquire` waits for a free slot. */
export class Slots {
  private used = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly max: number) {}

  get inUse(): number {
    return this.used;
  }

  get full(): boolean {
    return this.used >= this.max;
  }

  async acquire(): Promise<void> {
    if (this.used < this.max) {
      this.used++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    const next = this.waiting.shift();
    if (next !== undefined) next(); // the slot passes straight to the waiter
    else this.used--;
  }

  /** Runs `work` in a slot; never rejects (work reports its own failures). */
  async run(work: () => Promise<void>): Promise<void> {
    await this.acquire();
    try {
      await work();
    } finally {
      this.release();
    }
  }
}
