/**
 * Which event seqs of one job were already applied. Events can arrive twice (a reconnecting
 * WebSocket replays the buffered events of running jobs), and not every seq is in order: the
 * host numbers the job process's stdout lines from 1e9 and its crash report after the last
 * event. So: remember the contiguous prefix as one number and the rest as a set, which stays
 * small because the job process numbers its events 0, 1, 2, …
 */
export class SeqWindow {
  /** Every seq ≤ this was seen. */
  private contiguous = -1;
  private readonly beyond = new Set<number>();

  /** Record `seq`; false when it was seen before. */
  add(seq: number): boolean {
    if (seq <= this.contiguous || this.beyond.has(seq)) return false;
    if (seq === this.contiguous + 1) {
      this.contiguous = seq;
      while (this.beyond.delete(this.contiguous + 1)) this.contiguous += 1;
    } else {
      this.beyond.add(seq);
    }
    return true;
  }

  get size(): number {
    return this.contiguous + 1 + this.beyond.size;
  }
}
