export {
  type ArchivePartitionStatus,
  type ArchiveStatus,
  archiveStatus,
  registerArchiveMetrics,
} from './archive-status.js';
export { ARCHIVE_LEASE, Archiver, type ArchiverOptions, toArchived } from './archiver.js';
export {
  type ArchivedEvent,
  type ArchiveStreamRead,
  checkArchiveBatch,
  checkEntryId,
  compareEntryIds,
  type EventArchive,
} from './event-archive.js';
export { MemoryEventArchive } from './memory-event-archive.js';
export {
  type PostgresArchiveOptions,
  PostgresEventArchive,
  withoutPassword,
} from './postgres-event-archive.js';
export { MIGRATIONS, migrate, SCHEMA_VERSION } from './postgres-schema.js';
