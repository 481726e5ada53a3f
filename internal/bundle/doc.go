// Package bundle writes the output of `kubectl stretch render` into a
// directory, checks a directory against it and commits it with Git.
//
// A Bundle is a set of rendered files, each with a slash-separated path
// relative to the output directory and the layer (kubespray, network,
// storage, ...) that produced it. The output directory is often a Git
// repository that Flux reads, and it may hold the user's own files next to
// the rendered ones. The package therefore follows strict ownership rules:
//
//   - Render owns exactly the files listed in the manifest,
//     .stretch/manifest, which records the SHA-256 of each file as render
//     wrote it. Every other file in the directory belongs to the user.
//   - Write never modifies or removes a file it does not own. If a file that
//     render wants to write already exists, is not owned and differs from the
//     rendered content, Write refuses and lists every such path. If its
//     content is identical, Write adopts it: it becomes owned without being
//     rewritten.
//   - Write plans first and writes later: every conflict is found before the
//     first change, so a refused Write leaves the directory as it was.
//   - Each file is written atomically (temporary file in the same directory,
//     fsync, rename). A file whose content is already right is not touched,
//     so its modification time is kept.
//   - An owned file that is no longer rendered (stale) is removed, together
//     with the directories that became empty because of it. A stale file
//     that the user modified since render wrote it (its hash differs from
//     the manifest) is kept, reported, and no longer owned.
//   - The manifest is written last. If a Write fails half-way, the next
//     Write recovers: the files already written have the rendered content
//     and are adopted or found unchanged.
//
// Check compares a directory with what Write would produce without writing
// anything, for `render --check` in CI. Commit stages exactly the files a
// Write changed, plus the manifest, and commits them with the git binary;
// it never stages the user's files.
//
// Everything this package returns is sorted by path (or by layer), so its
// output is deterministic.
package bundle
