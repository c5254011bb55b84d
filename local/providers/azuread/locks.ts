/**
 * terraform-provider-azuread internal/helpers/tf/locks.go `LockByName`: one lock per application object id, so the
 * split resources' read-modify-write of one application (roles, scopes, identifier URIs, passwords…) never overlap
 * within a run. Graph itself has no such lock; two runs can still race.
 */
export class KeyedLocks {
  private readonly tails = new Map<string, Promise<void>>();

  async with<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => held);
    this.tails.set(key, tail);
    await previous;
    try {
      return await work();
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}
