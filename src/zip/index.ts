/** src/zip: h1 hashing (pure) and streaming module zip checks. */
export { hash1, hashGoMod, GO_MOD_HASH_NAME, H1_PREFIX, type FileSum } from './h1.js';
export { bytesSource, fileSource, type ZipSource } from './source.js';
export {
  hashModuleZip,
  hashZipSource,
  hashGoModFile,
  DEFAULT_ZIP_LIMITS,
  READ_WHOLE_MAX,
  type ZipLimits,
  type ModuleZipInfo,
} from './modzip.js';
export {
  checkFilePath,
  classifyEntryName,
  createCollisionChecker,
  foldName,
  type CollisionChecker,
  type EntryKind,
} from './names.js';
