/** Who sends a command or asks a query, as authentication established it (SPEC.md §3). */
export interface Actor {
  readonly userId: string;
  readonly groups: readonly string[];
  readonly roles: readonly string[];
  /** True when `roles` holds `admin`: may act for others, broadcast and read everything. */
  readonly isAdmin: boolean;
}
