/**
 * Owner uids a live read has shown absent (Kubernetes' absentOwnerCache). A uid never comes back,
 * so the answer stays true: the 200 pods of a deleted ReplicaSet cost one GET of the ReplicaSet,
 * not 200. Bounded (least recently used goes first); forgetting only costs another GET.
 */
export class AbsentOwners {
  private readonly uids = new Map<string, true>();

  constructor(private readonly max: number) {}

  has(uid: string): boolean {
    if (!this.uids.has(uid)) return false;
    // Refresh: Map keeps insertion order, so re-inserting makes it the most recent.
    this.uids.delete(uid);
    this.uids.set(uid, true);
    return true;
  }

  add(uid: string): void {
    this.uids.delete(uid);
    this.uids.set(uid, true);
    if (this.uids.size > this.max) {
      const oldest = this.uids.keys().next().value;
      if (oldest !== undefined) this.uids.delete(oldest);
    }
  }

  get size(): number {
    return this.uids.size;
  }
}
