/**
 * Makes the token each write carries: 16 characters, 8 random hex digits for this store instance
 * and a base-36 counter. The scripts keep a record's last eight tokens, to recognise a write that
 * was already applied when its command is sent a second time after a dropped connection.
 */
export class WriteTokens {
  private readonly instance: string;
  private counter = 0;

  constructor() {
    const bytes = crypto.getRandomValues(new Uint8Array(4));
    this.instance = Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
  }

  /** A token no other write of any store instance carries (with overwhelming likelihood). */
  next(): string {
    this.counter = (this.counter + 1) % 2_821_109_907_456; // 36^8: the counter stays 8 characters
    return this.instance + this.counter.toString(36).padStart(8, "0");
  }
}
